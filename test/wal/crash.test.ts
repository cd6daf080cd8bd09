/**
 * Recovery after kill -9 in the middle of a batch: a child process appends and syncs batches
 * and prints each acknowledged index; the parent SIGKILLs it mid-run (several rounds, each
 * child continuing the same log), reopens, and checks that every acknowledged record is there
 * byte for byte, that the log is one unbroken run of indexes, and that it ends cleanly.
 *
 * Works from TypeScript (child run with tsx) and compiled (child run from dist/).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Wal } from '../../src/wal/index.js';
import { CRASH_CHILD_FLAG, CRASH_SEGMENT_BYTES, crashPayloadBytes } from './crash-child.js';
import { capturingLogger, payloadFor, withTempDir } from './wal-fixtures.js';

const here = fileURLToPath(import.meta.url);
const childFile = join(dirname(here), here.endsWith('.ts') ? 'crash-child.ts' : 'crash-child.js');
const CHILD_TIMEOUT_MS = 15_000;
const ROUNDS = 4;

interface ChildRun {
  readonly startedAt: number;
  readonly maxAcked: number;
  readonly signal: NodeJS.Signals | null;
}

/** Runs the child until it has acknowledged `acksBeforeKill` batches, then SIGKILLs it after a
 * further `delayMs` (so the kill lands at varying points of a batch). */
function runChildAndKill(dir: string, acksBeforeKill: number, delayMs: number): Promise<ChildRun> {
  const args = childFile.endsWith('.ts') ? ['--import', 'tsx', childFile] : [childFile];
  const child = spawn(process.execPath, [...args, CRASH_CHILD_FLAG, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let startedAt = -1;
    let maxAcked = -1;
    let acks = 0;
    let killScheduled = false;
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      let nl: number;
      while ((nl = stdout.indexOf('\n')) >= 0) {
        const [word, value] = stdout.slice(0, nl).split(' ');
        stdout = stdout.slice(nl + 1);
        if (word === 'ready') startedAt = Number(value);
        if (word === 'ack') { maxAcked = Number(value); acks++; }
      }
      if (acks >= acksBeforeKill && !killScheduled) {
        killScheduled = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!killScheduled) reject(new Error(`child ended before the kill (code ${code}, signal ${signal}): ${stderr}`));
      else resolve({ startedAt, maxAcked, signal });
    });
  });
}

describe('WAL recovery after kill -9', () => {
  it('keeps every acknowledged record and ends cleanly, over several killed runs', async (t) => {
    await withTempDir(async (dir) => {
      let lastIndexOnDisk = 0;
      let cuts = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const run = await runChildAndKill(dir, 5 + round * 3, round * 3);
        assert.equal(run.signal, 'SIGKILL');
        assert.equal(run.startedAt, lastIndexOnDisk, 'the child resumed from the last record on disk');
        const logger = capturingLogger();
        const { wal, records } = await Wal.open(dir, { segmentSizeBytes: CRASH_SEGMENT_BYTES, logger });
        cuts += logger.lines.filter((l) => l.level === 'warn').length;
        records.forEach((r, i) => {
          assert.equal(r.index, i + 1, 'indexes run 1, 2, 3, ... with no gap');
          assert.deepEqual(Buffer.from(r.data), Buffer.from(payloadFor(r.index, crashPayloadBytes(r.index))), `payload of ${r.index}`);
        });
        lastIndexOnDisk = records.length;
        assert.ok(lastIndexOnDisk >= run.maxAcked, `acked up to ${run.maxAcked}, found ${lastIndexOnDisk}`);
        await wal.close();
        const clean = capturingLogger();
        const again = await Wal.open(dir, { segmentSizeBytes: CRASH_SEGMENT_BYTES, logger: clean });
        assert.equal(again.records.length, lastIndexOnDisk);
        assert.deepEqual(clean.lines, [], 'a second open finds nothing to repair');
        await again.wal.close();
      }
      assert.ok(lastIndexOnDisk > 0);
      // cuts happen only when a kill lands inside a write: report, do not require
      t.diagnostic(`kill -9 rounds: ${ROUNDS}, records on disk: ${lastIndexOnDisk}, torn tails cut: ${cuts}`);
    });
  });
});
