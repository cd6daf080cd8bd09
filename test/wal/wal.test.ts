/**
 * The WAL's normal life: records round-trip across segment rolls and restarts, group commit
 * shares fsyncs, releaseBefore deletes exactly the covered segments, sticky records survive
 * release, bad arguments and unknown versions are refused.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32Portable } from '../../src/wal/crc32.js';
import {
  Wal, WAL_FORMAT_VERSION, crc32, isWalError, parseSegmentFileName, type WalRecord,
} from '../../src/wal/index.js';
import { capturingLogger, makeRecords, plain, withTempDir } from './wal-fixtures.js';

const SMALL_SEGMENT_BYTES = 4096;

async function writeLog(dir: string, records: readonly WalRecord[], opts: { segmentSizeBytes?: number; stickyKinds?: number[] } = {}): Promise<Wal> {
  const { wal } = await Wal.open(dir, opts);
  wal.append(records);
  await wal.sync();
  return wal;
}

describe('crc32', () => {
  it('gives the standard check value and agrees with the portable table version', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff));
    assert.equal(crc32(bytes), crc32Portable(bytes));
    assert.equal(crc32(bytes.subarray(100), crc32(bytes.subarray(0, 100))), crc32(bytes));
    assert.equal(crc32Portable(bytes.subarray(100), crc32Portable(bytes.subarray(0, 100))), crc32(bytes));
  });
});

describe('Wal round trip', () => {
  it('reads back many records across segment rolls, in order, byte for byte', async () => {
    await withTempDir(async (dir) => {
      const records = makeRecords(1, 1000);
      const wal = await writeLog(dir, records, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      const names = wal.segmentNames();
      assert.ok(names.length > 20, `expected many segments, got ${names.length}`);
      await wal.close();
      const onDisk = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
      assert.deepEqual(onDisk, names);
      for (const name of names) {
        const size = (await readFile(join(dir, name))).length;
        // a segment may exceed the limit only by holding a single record
        assert.ok(size <= SMALL_SEGMENT_BYTES, `${name} is ${size} bytes`);
      }
      const reopened = await Wal.open(dir, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      assert.deepEqual(plain(reopened.records), plain(records));
      await reopened.wal.close();
    });
  });

  it('names segments by sequence and first index, so names sort in log order', async () => {
    await withTempDir(async (dir) => {
      const wal = await writeLog(dir, makeRecords(1, 300), { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      const parsed = wal.segmentNames().map((n) => parseSegmentFileName(n));
      for (let i = 1; i < parsed.length; i++) {
        assert.equal(parsed[i]?.seq, (parsed[i - 1]?.seq ?? 0) + 1);
        assert.ok((parsed[i]?.firstIndex ?? 0) > (parsed[i - 1]?.firstIndex ?? 0));
      }
      await wal.close();
    });
  });

  it('continues after a restart: new records follow the old ones', async () => {
    await withTempDir(async (dir) => {
      const first = await writeLog(dir, makeRecords(1, 50), { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      await first.close();
      const { wal, records } = await Wal.open(dir, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      assert.equal(records.length, 50);
      wal.append(makeRecords(51, 120));
      await wal.sync();
      await wal.close();
      const again = await Wal.open(dir, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      assert.deepEqual(plain(again.records), plain(makeRecords(1, 120)));
      await again.wal.close();
    });
  });

  it('keeps a record larger than the segment size alone in its own segment', async () => {
    await withTempDir(async (dir) => {
      const big: WalRecord = { kind: 2, index: 2, data: new Uint8Array(3 * SMALL_SEGMENT_BYTES).fill(7) };
      const records = [...makeRecords(1, 1), big, ...makeRecords(3, 4)];
      const wal = await writeLog(dir, records, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      await wal.close();
      const { wal: w2, records: back } = await Wal.open(dir, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      assert.deepEqual(plain(back), plain(records));
      await w2.close();
    });
  });

  it('preallocates zeros ahead of the live segment, and cuts each full segment to its records', async () => {
    await withTempDir(async (dir) => {
      const opts = { segmentSizeBytes: 64 * 1024, preallocateBytes: 16 * 1024 };
      const { wal } = await Wal.open(dir, opts);
      wal.append(makeRecords(1, 20));
      await wal.sync();
      const [first] = wal.segmentNames();
      assert.ok((await readFile(join(dir, first))).length >= 16 * 1024, 'zeros written ahead');
      wal.append(makeRecords(21, 1200));
      await wal.sync();
      const names = wal.segmentNames();
      assert.ok(names.length >= 2);
      assert.ok(wal.stats.preallocatedBytes > 0);
      await wal.close();
      for (const name of names.slice(0, -1)) {
        const bytes = await readFile(join(dir, name));
        assert.notEqual(bytes.at(-1), 0, `${name} ends with its last record, not zeros`);
      }
      const logger = capturingLogger();
      const again = await Wal.open(dir, { ...opts, logger });
      assert.deepEqual(plain(again.records), plain(makeRecords(1, 1200)));
      assert.deepEqual(logger.lines, [], 'the zeros after the last record are not a torn tail');
      await again.wal.close();
    });
  });

  it('does not make durable what was appended without sync, and close() syncs', async () => {
    await withTempDir(async (dir) => {
      const { wal } = await Wal.open(dir);
      wal.append(makeRecords(1, 3));
      assert.equal(wal.pendingCount, 3);
      assert.equal(wal.stats.recordsWritten, 0);
      await wal.close();
      const { wal: w2, records } = await Wal.open(dir);
      assert.equal(records.length, 3);
      await w2.close();
    });
  });
});

describe('Wal group commit', () => {
  it('serves 100 callers of sync() in the same turn with one fdatasync', async () => {
    await withTempDir(async (dir) => {
      const { wal } = await Wal.open(dir);
      const before = wal.stats.fsyncs;
      const done: Promise<void>[] = [];
      for (const r of makeRecords(1, 100)) {
        wal.append([r]);
        done.push(wal.sync());
      }
      await Promise.all(done);
      assert.equal(wal.stats.fsyncs - before, 1);
      assert.equal(wal.stats.flushes, 1);
      await wal.close();
    });
  });

  it('batches many concurrent writers: far fewer fsyncs than sync() calls, nothing lost', async () => {
    await withTempDir(async (dir) => {
      const { wal } = await Wal.open(dir);
      const writers = 200;
      const rounds = 5;
      let next = 1;
      const acked: number[] = [];
      const writer = async (): Promise<void> => {
        for (let r = 0; r < rounds; r++) {
          const index = next++;
          wal.append(makeRecords(index, index));
          await wal.sync();
          acked.push(index);
        }
      };
      await Promise.all(Array.from({ length: writers }, writer));
      const syncCalls = writers * rounds;
      assert.equal(acked.length, syncCalls);
      assert.ok(wal.stats.fsyncs <= rounds * 3, `${wal.stats.fsyncs} fsyncs for ${syncCalls} sync() calls`);
      await wal.close();
      const { wal: w2, records } = await Wal.open(dir);
      assert.deepEqual(records.map((r) => r.index).sort((a, b) => a - b), acked.sort((a, b) => a - b));
      await w2.close();
    });
  });

  it('resolves sync() with nothing appended without touching the disk', async () => {
    await withTempDir(async (dir) => {
      const { wal } = await Wal.open(dir);
      const before = wal.stats.fsyncs;
      await wal.sync();
      await wal.sync();
      assert.equal(wal.stats.fsyncs, before);
      await wal.close();
    });
  });
});

describe('Wal releaseBefore', () => {
  it('deletes exactly the oldest segments whose records are all below the index', async () => {
    await withTempDir(async (dir) => {
      const wal = await writeLog(dir, makeRecords(1, 400), { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      const names = wal.segmentNames();
      const firsts = names.map((n) => parseSegmentFileName(n)?.firstIndex ?? -1);
      // the segment holding index 200 is the last one whose first index is <= 200
      const holder = firsts.filter((f) => f <= 200).length - 1;
      const released = await wal.releaseBefore(200);
      assert.equal(released, holder);
      assert.deepEqual(wal.segmentNames(), names.slice(holder));
      assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.wal')).sort(), names.slice(holder));
      await wal.close();
      const { wal: w2, records } = await Wal.open(dir, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      assert.equal(records[0].index, firsts[holder]);
      assert.ok(records[0].index <= 200);
      assert.deepEqual(plain(records), plain(makeRecords(firsts[holder], 400)));
      await w2.close();
    });
  });

  it('never deletes the live segment, and releasing twice is harmless', async () => {
    await withTempDir(async (dir) => {
      const wal = await writeLog(dir, makeRecords(1, 400), { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      const live = wal.segmentNames().at(-1);
      await wal.releaseBefore(1_000_000);
      assert.deepEqual(wal.segmentNames(), [live]);
      assert.equal(await wal.releaseBefore(1_000_000), 0);
      wal.append(makeRecords(401, 401));
      await wal.sync();
      await wal.close();
      const { wal: w2, records } = await Wal.open(dir, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      assert.equal(records.at(-1)?.index, 401);
      await w2.close();
    });
  });

  it('keeps the latest sticky record at the head of every new segment, so release never loses it', async () => {
    await withTempDir(async (dir) => {
      const STATE = 9;
      const opts = { segmentSizeBytes: SMALL_SEGMENT_BYTES, stickyKinds: [STATE] };
      const { wal } = await Wal.open(dir, opts);
      wal.append([{ kind: STATE, index: 0, data: Buffer.from('state-1') }, ...makeRecords(1, 100)]);
      wal.append([{ kind: STATE, index: 0, data: Buffer.from('state-2') }, ...makeRecords(101, 300)]);
      await wal.sync();
      await wal.releaseBefore(250);
      await wal.close();
      const { wal: w2, records } = await Wal.open(dir, opts);
      assert.equal(records[0].kind, STATE, 'a segment starts with the carried state');
      const states = records.filter((r) => r.kind === STATE).map((r) => Buffer.from(r.data).toString());
      assert.equal(states.at(-1), 'state-2');
      assert.ok(!states.includes('state-1'));
      assert.equal(records.filter((r) => r.kind !== STATE).at(-1)?.index, 300);
      await w2.close();
    });
  });
});

describe('Wal refusals', () => {
  it('refuses bad arguments and use after close', async () => {
    await withTempDir(async (dir) => {
      const { wal } = await Wal.open(dir);
      assert.throws(() => wal.append([{ kind: 0, index: 1, data: new Uint8Array(1) }]), (e) => isWalError(e, 'InvalidArgument'));
      assert.throws(() => wal.append([{ kind: 256, index: 1, data: new Uint8Array(1) }]), (e) => isWalError(e, 'InvalidArgument'));
      assert.throws(() => wal.append([{ kind: 1, index: -1, data: new Uint8Array(1) }]), (e) => isWalError(e, 'InvalidArgument'));
      await wal.close();
      assert.throws(() => wal.append(makeRecords(1, 1)), (e) => isWalError(e, 'Closed'));
      await assert.rejects(wal.sync(), (e) => isWalError(e, 'Closed'));
    });
  });

  it('after a failed write, rejects every waiter and refuses all further work (no fsync retry)', async () => {
    await withTempDir(async (dir) => {
      const { wal } = await Wal.open(dir, { preallocateBytes: 0 });
      wal.append(makeRecords(1, 2));
      await wal.sync();
      // Pull the file out from under the WAL: the next write fails as a disk error would.
      await (wal as unknown as { live: FileHandle }).live.close();
      wal.append(makeRecords(3, 3));
      const waiters = [wal.sync(), wal.sync()];
      for (const w of waiters) await assert.rejects(w, (e: unknown) => isWalError(e, 'Failed') && /restart the member/.test(e.message));
      assert.throws(() => wal.append(makeRecords(4, 4)), (e) => isWalError(e, 'Failed'));
      await assert.rejects(wal.sync(), (e) => isWalError(e, 'Failed'));
      await wal.close(); // releases what it holds; the failure was already reported
      const { wal: w2, records } = await Wal.open(dir);
      assert.equal(records.length, 2, 'what was synced before the failure is intact');
      await w2.close();
    });
  });

  it('refuses a segment of an unknown format version, naming the file and version', async () => {
    await withTempDir(async (dir) => {
      const wal = await writeLog(dir, makeRecords(1, 5));
      const name = wal.segmentNames()[0];
      await wal.close();
      const path = join(dir, name);
      const buf = await readFile(path);
      buf.writeUInt32BE(WAL_FORMAT_VERSION + 1, 8);
      buf.writeUInt32BE(crc32(buf.subarray(0, 28)), 28); // a well-formed header of a newer version
      await writeFile(path, buf);
      await assert.rejects(Wal.open(dir), (e: unknown) => {
        assert.ok(isWalError(e, 'UnsupportedVersion'), String(e));
        assert.match(e.message, new RegExp(name.replace('.', '\\.')));
        assert.match(e.message, /format version 2/);
        assert.match(e.message, /reads WAL format version 1/);
        return true;
      });
    });
  });

  it('refuses a log with a segment missing in the middle', async () => {
    await withTempDir(async (dir) => {
      const wal = await writeLog(dir, makeRecords(1, 300), { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      const names = wal.segmentNames();
      await wal.close();
      const { unlink } = await import('node:fs/promises');
      await unlink(join(dir, names[2]));
      await assert.rejects(Wal.open(dir, { segmentSizeBytes: SMALL_SEGMENT_BYTES }), (e: unknown) => {
        assert.ok(isWalError(e, 'MissingSegment'), String(e));
        assert.match(e.message, new RegExp(names[1].replace('.', '\\.')));
        return true;
      });
    });
  });

  it('removes a half-created segment left by a crash, and logs it', async () => {
    await withTempDir(async (dir) => {
      const wal = await writeLog(dir, makeRecords(1, 5));
      await wal.close();
      await writeFile(join(dir, '0000000000000002-0000000000000006.wal.tmp'), Buffer.from('CAIRNW'));
      const logger = capturingLogger();
      const { wal: w2, records } = await Wal.open(dir, { logger });
      assert.equal(records.length, 5);
      assert.ok(!(await readdir(dir)).some((n) => n.endsWith('.tmp')));
      assert.equal(logger.lines.filter((l) => l.level === 'warn').length, 1);
      await w2.close();
    });
  });
});
