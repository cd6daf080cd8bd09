/**
 * Shared helpers for the WAL tests: temporary folders, deterministic records, a logger that
 * remembers what it was told.
 *
 * Must never: keep state between tests (each test makes its own folder and removes it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WalLogger, WalRecord } from '../../src/wal/index.js';

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-wal-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Payload bytes that depend only on the index, so a reader can check them without a copy. */
export function payloadFor(index: number, sizeBytes: number): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  let x = (index * 2654435761) >>> 0;
  for (let i = 0; i < sizeBytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Records with indexes from..to inclusive, kind 1, payload sizes varying with the index. */
export function makeRecords(from: number, to: number, baseSizeBytes = 100): WalRecord[] {
  const out: WalRecord[] = [];
  for (let i = from; i <= to; i++) out.push({ kind: 1, index: i, data: payloadFor(i, baseSizeBytes + (i % 7)) });
  return out;
}

export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export function capturingLogger(): WalLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info(fields, message) { lines.push({ level: 'info', fields: fields as Record<string, unknown>, message }); },
    warn(fields, message) { lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message }); },
  };
}

/** Plain copies of records (payload views into segment buffers compared as bytes). */
export function plain(records: readonly WalRecord[]): { kind: number; index: number; data: Buffer }[] {
  return records.map((r) => ({ kind: r.kind, index: r.index, data: Buffer.from(r.data) }));
}
