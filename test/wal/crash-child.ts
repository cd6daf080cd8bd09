/**
 * Child process for the kill -9 test (crash.test.ts): appends batches to a WAL and prints
 * `ack <index>` after each batch is durable, until it is killed.
 *
 * Must never: do anything unless started with `--wal-crash-child <dir>` (node --test runs every
 * file under test/, and this one must then be a harmless no-op).
 */
import { Wal } from '../../src/wal/index.js';
import { payloadFor } from './wal-fixtures.js';

export const CRASH_CHILD_FLAG = '--wal-crash-child';
export const CRASH_SEGMENT_BYTES = 256 * 1024;
const MAX_BATCH_RECORDS = 300;

/** Payload size of the record at `index`: varied, and known to the parent without a message. */
export function crashPayloadBytes(index: number): number {
  return 20 + ((index * 7919) % 1500);
}

async function run(dir: string): Promise<void> {
  const { wal, records } = await Wal.open(dir, { segmentSizeBytes: CRASH_SEGMENT_BYTES });
  let last = records.length === 0 ? 0 : records[records.length - 1].index;
  process.stdout.write(`ready ${last}\n`);
  for (let batchNo = 0; ; batchNo++) {
    const n = 1 + ((batchNo * 97 + last) % MAX_BATCH_RECORDS);
    const batch = [];
    for (let i = 1; i <= n; i++) batch.push({ kind: 1, index: last + i, data: payloadFor(last + i, crashPayloadBytes(last + i)) });
    wal.append(batch);
    await wal.sync();
    last += n;
    // stdout is a pipe, written synchronously on Linux: the parent sees this before any kill
    process.stdout.write(`ack ${last}\n`);
  }
}

if (process.argv[2] === CRASH_CHILD_FLAG) {
  run(process.argv[3]).catch((e: unknown) => {
    process.stderr.write(`crash child failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
