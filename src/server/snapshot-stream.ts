/**
 * The data of a Raft snapshot on the wire, and of `/v3/maintenance/snapshot` on disk:
 *
 *   magic "CAIRNSN1" (8 B) | header length (u32 BE) | header JSON | LMDB file (dbBytes) | SHA-256 of the file (32 B)
 *
 * The header carries the member table (which lives outside LMDB) and the file's length. The
 * LMDB file is a consistent copy of the member's whole environment (key space, leases, and
 * every other server table), so the receiver replaces its data file with it.
 *
 * Owns the format, the sending side (copy, stream, delete the copy) and the receiving side
 * (write, verify, fsync, then rename into place). Must never hand over a file whose length or
 * checksum does not match: a torn or corrupt snapshot is refused, never installed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync, renameSync } from 'node:fs';
import { fsyncPath } from './durable-file.js';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { MvccStore } from '../mvcc/store.js';
import type { MembersFile } from './membership.js';

export const SNAPSHOT_MAGIC = Buffer.from('CAIRNSN1');
export const SNAPSHOT_FORMAT = 'cairn-snapshot/1';
/** The header is a member table: a few KiB; anything larger is not ours. */
const MAX_HEADER_BYTES = 4 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
const HASH_BYTES = 32;

export interface SnapshotHeader {
  format: typeof SNAPSHOT_FORMAT;
  dbBytes: number;
  members: MembersFile;
  /** Filled for `/v3/maintenance/snapshot` (what `cairnctl snapshot status` prints); absent in Raft snapshots. */
  summary?: SnapshotSummary;
}

export interface SnapshotSummary {
  /** The key space's revision in the copy. */
  revision: string;
  /** Live keys in the copy. */
  totalKeys: number;
  /** etcd's hashkv of the copy at its revision. */
  hash: number;
}

let copySeq = 0;

/**
 * Streams a consistent copy of `store` (copied first into a temporary dir under `workDir`,
 * deleted when the stream ends or is abandoned). `members` is read once the copy is complete:
 * the table is then at least as new as the copy, and the log entries after the copy re-apply
 * to it idempotently.
 */
export async function* snapshotStream(
  store: MvccStore, workDir: string, members: () => MembersFile, describe?: (copyDir: string) => Promise<SnapshotSummary>,
): AsyncGenerator<Uint8Array> {
  const dir = join(workDir, `outgoing-${process.pid}-${++copySeq}`);
  rmSync(dir, { recursive: true, force: true });
  try {
    await store.copyTo(dir, false);
    const file = join(dir, 'data.mdb');
    const summary = describe ? await describe(dir) : undefined;
    const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, dbBytes: statSync(file).size, members: members(), ...(summary ? { summary } : {}) };
    yield encodeHeader(header);
    const hash = createHash('sha256');
    let sent = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
      const b = chunk as Buffer;
      hash.update(b);
      sent += b.length;
      yield b;
    }
    if (sent !== header.dbBytes) throw new Error(`snapshot copy changed size while streaming (${sent} of ${header.dbBytes} bytes)`);
    yield hash.digest();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The whole stream's length, from its first chunk (the encoded header). */
export function streamBytesOf(headerChunk: Uint8Array): number {
  const b = Buffer.from(headerChunk.buffer, headerChunk.byteOffset, headerChunk.byteLength);
  if (b.length < SNAPSHOT_MAGIC.length + 4 || !b.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) throw new Error('not a snapshot header');
  const header = JSON.parse(b.subarray(SNAPSHOT_MAGIC.length + 4).toString('utf8')) as SnapshotHeader;
  return b.length + header.dbBytes + HASH_BYTES;
}

export function encodeHeader(h: SnapshotHeader): Buffer {
  const json = Buffer.from(JSON.stringify(h));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length, 0);
  return Buffer.concat([SNAPSHOT_MAGIC, len, json]);
}

export interface ReceivedSnapshot {
  /** A directory holding `data.mdb`, ready for MvccStore.replaceWith. */
  dir: string;
  header: SnapshotHeader;
}

/**
 * Reads a snapshot stream into `dir`/data.mdb, checks its length and SHA-256, and fsyncs it.
 * On any failure the directory is removed and the error names what was wrong.
 */
export async function receiveSnapshot(data: Readable | AsyncIterable<Uint8Array>, dir: string): Promise<ReceivedSnapshot> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const reader = new ByteReader(data[Symbol.asyncIterator]());
    const magic = await reader.take(SNAPSHOT_MAGIC.length, 'the magic number');
    if (!magic.equals(SNAPSHOT_MAGIC)) throw new Error('not a Cairn snapshot (bad magic number)');
    const headerBytes = (await reader.take(4, 'the header length')).readUInt32BE(0);
    if (headerBytes > MAX_HEADER_BYTES) throw new Error(`snapshot header of ${headerBytes} bytes is too large`);
    const header = JSON.parse((await reader.take(headerBytes, 'the header')).toString('utf8')) as SnapshotHeader;
    if (header.format !== SNAPSHOT_FORMAT) throw new Error(`unknown snapshot format ${String(header.format)}`);
    const file = join(dir, 'data.mdb');
    const hash = createHash('sha256');
    const out = createWriteStream(`${file}.part`);
    let left = header.dbBytes;
    while (left > 0) {
      const chunk = await reader.upTo(Math.min(left, CHUNK_BYTES), 'the data file');
      hash.update(chunk);
      left -= chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    const expected = await reader.take(HASH_BYTES, 'the checksum');
    if (!hash.digest().equals(expected)) throw new Error('snapshot checksum mismatch: the data file is corrupt');
    await fsyncPath(`${file}.part`);
    renameSync(`${file}.part`, file);
    await fsyncPath(dir);
    return { dir, header };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Exact-length reads over an async iterator of byte chunks. */
class ByteReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private async fill(what: string): Promise<void> {
    const r = await this.it.next();
    if (r.done) throw new Error(`snapshot stream cut short in ${what}`);
    const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.pending = this.pending.length === 0 ? b : Buffer.concat([this.pending, b]);
  }

  async take(n: number, what: string): Promise<Buffer> {
    while (this.pending.length < n) await this.fill(what);
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  /** Between 1 and `max` bytes. */
  async upTo(max: number, what: string): Promise<Buffer> {
    if (this.pending.length === 0) await this.fill(what);
    const n = Math.min(max, this.pending.length);
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }
}
