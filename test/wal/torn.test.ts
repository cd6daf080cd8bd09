/**
 * What a crash or a bad disk leaves behind, and what open() makes of it: a torn tail of any
 * length is cut (and logged) keeping exactly the complete records; a zero-filled or
 * half-written tail likewise; a changed byte anywhere inside the log is refused with the file
 * name and the byte offset of the damaged record.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Wal, isWalError, type WalRecord } from '../../src/wal/index.js';
import { capturingLogger, makeRecords, plain, withTempDir } from './wal-fixtures.js';

const SEGMENT_HEADER_BYTES = 32;
const RECORD_HEADER_BYTES = 21;

/** Byte offset of each record in a single-segment log, and the offset after the last. */
function recordOffsets(records: readonly WalRecord[]): number[] {
  const offsets = [SEGMENT_HEADER_BYTES];
  for (const r of records) offsets.push(offsets[offsets.length - 1] + RECORD_HEADER_BYTES + r.data.length);
  return offsets;
}

/** Writes `records` into a fresh one-segment log (no preallocated zeros, so the file is
 * exactly its records) and returns the segment's bytes and name. */
async function oneSegment(dir: string, records: readonly WalRecord[]): Promise<{ name: string; bytes: Buffer }> {
  const { wal } = await Wal.open(dir, { preallocateBytes: 0 });
  wal.append(records);
  await wal.sync();
  const name = wal.segmentNames()[0];
  await wal.close();
  return { name, bytes: await readFile(join(dir, name)) };
}

function escaped(s: string): RegExp {
  return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

describe('torn tails are cut', () => {
  it('at every byte offset inside the last two records: opens, keeps exactly the complete records, logs the cut', async () => {
    await withTempDir(async (dir) => {
      const records = makeRecords(1, 6, 40);
      const { name, bytes } = await oneSegment(dir, records);
      const offsets = recordOffsets(records);
      const path = join(dir, name);
      for (let cut = offsets[4] + 1; cut < offsets[6]; cut++) {
        await writeFile(path, bytes.subarray(0, cut));
        const logger = capturingLogger();
        const { wal, records: back } = await Wal.open(dir, { logger });
        const complete = offsets.filter((o, i) => i > 0 && o <= cut).length;
        assert.deepEqual(plain(back), plain(records.slice(0, complete)), `cut at ${cut}`);
        const warns = logger.lines.filter((l) => l.level === 'warn');
        const expectCut = cut !== offsets[5];
        assert.equal(warns.length, expectCut ? 1 : 0, `cut at ${cut}: ${JSON.stringify(logger.lines)}`);
        if (expectCut) {
          assert.equal(warns[0].fields.file, name);
          assert.equal(warns[0].fields.offset, offsets[complete]);
          assert.equal(warns[0].fields.bytesCut, cut - offsets[complete]);
        }
        await wal.close();
        assert.equal((await readFile(path)).length, offsets[complete], 'the file is cut back to the last complete record');
      }
    });
  });

  it('leaves a log that appends and reopens cleanly after the cut', async () => {
    await withTempDir(async (dir) => {
      const records = makeRecords(1, 4, 40);
      const { name, bytes } = await oneSegment(dir, records);
      await writeFile(join(dir, name), bytes.subarray(0, bytes.length - 10));
      const { wal } = await Wal.open(dir);
      wal.append(makeRecords(4, 5, 40));
      await wal.sync();
      await wal.close();
      const logger = capturingLogger();
      const { wal: w2, records: back } = await Wal.open(dir, { logger });
      assert.deepEqual(plain(back), plain(makeRecords(1, 5, 40)));
      assert.equal(logger.lines.length, 0, 'no second cut');
      await w2.close();
    });
  });

  it('treats a zero-filled (preallocated) tail as the clean end: nothing cut, nothing logged', async () => {
    await withTempDir(async (dir) => {
      const records = makeRecords(1, 5);
      const { name, bytes } = await oneSegment(dir, records);
      await appendFile(join(dir, name), Buffer.alloc(16 * 1024));
      const logger = capturingLogger();
      const { wal, records: back } = await Wal.open(dir, { logger });
      assert.deepEqual(plain(back), plain(records));
      assert.deepEqual(logger.lines, []);
      wal.append(makeRecords(6, 6));
      await wal.sync();
      await wal.close();
      const again = await Wal.open(dir);
      assert.deepEqual(plain(again.records), plain(makeRecords(1, 6)), 'new records overwrite the zeros in place');
      assert.ok((await readFile(join(dir, name))).length > bytes.length);
      await again.wal.close();
    });
  });

  it('cuts a half-written record followed by zeros (a torn write into preallocated space)', async () => {
    await withTempDir(async (dir) => {
      const records = makeRecords(1, 5);
      const { name, bytes } = await oneSegment(dir, records);
      const offsets = recordOffsets(records);
      const torn = Buffer.concat([bytes.subarray(0, offsets[4] + 30), Buffer.alloc(8192)]);
      await writeFile(join(dir, name), torn);
      const { wal, records: back } = await Wal.open(dir, { logger: capturingLogger() });
      assert.deepEqual(plain(back), plain(records.slice(0, 4)));
      await wal.close();
    });
  });

  it('cuts a torn record even when its payload holds a complete WAL frame (the payload is never searched)', async () => {
    await withTempDir(async (dir) => {
      const inner = await withTempDir(async (innerDir) => (await oneSegment(innerDir, makeRecords(7, 7, 30))).bytes);
      const frame = inner.subarray(SEGMENT_HEADER_BYTES);
      const records = [...makeRecords(1, 3, 30), { kind: 1, index: 4, data: Buffer.concat([Buffer.alloc(8, 1), frame, Buffer.alloc(40, 2)]) }];
      const { name, bytes } = await oneSegment(dir, records);
      await writeFile(join(dir, name), bytes.subarray(0, bytes.length - 20));
      const logger = capturingLogger();
      const { wal, records: back } = await Wal.open(dir, { logger });
      assert.deepEqual(plain(back), plain(records.slice(0, 3)));
      assert.equal(logger.lines.filter((l) => l.level === 'warn').length, 1);
      await wal.close();
    });
  });

  it('cuts a last record whose bytes are all present but whose CRC fails (nothing valid after it)', async () => {
    await withTempDir(async (dir) => {
      const records = makeRecords(1, 5);
      const { name, bytes } = await oneSegment(dir, records);
      const damaged = Buffer.from(bytes);
      damaged[damaged.length - 3] ^= 0x40;
      await writeFile(join(dir, name), damaged);
      const { wal, records: back } = await Wal.open(dir, { logger: capturingLogger() });
      assert.deepEqual(plain(back), plain(records.slice(0, 4)));
      await wal.close();
    });
  });
});

describe('damage inside the log is refused', () => {
  it('a flipped byte anywhere in a middle record: refused, naming the file and the record offset', async () => {
    await withTempDir(async (dir) => {
      const records = makeRecords(1, 5, 30);
      const { name, bytes } = await oneSegment(dir, records);
      const offsets = recordOffsets(records);
      const path = join(dir, name);
      for (let at = offsets[2]; at < offsets[3]; at++) {
        const damaged = Buffer.from(bytes);
        damaged[at] ^= 0x01;
        await writeFile(path, damaged);
        await assert.rejects(Wal.open(dir), (e: unknown) => {
          assert.ok(isWalError(e, 'Corrupt'), `byte ${at}: ${String(e)}`);
          assert.match(e.message, escaped(name));
          assert.match(e.message, new RegExp(`byte offset ${offsets[2]}[,:]`), `byte ${at}: ${e.message}`);
          return true;
        });
      }
      await writeFile(path, bytes);
      const { wal, records: back } = await Wal.open(dir);
      assert.equal(back.length, 5, 'the undamaged file still opens');
      await wal.close();
    });
  });

  it('a flipped byte in the last record of a segment that is not the last one: refused', async () => {
    await withTempDir(async (dir) => {
      const opts = { segmentSizeBytes: 1024 };
      const { wal } = await Wal.open(dir, opts);
      wal.append(makeRecords(1, 40));
      await wal.sync();
      const names = wal.segmentNames();
      await wal.close();
      assert.ok(names.length >= 3);
      const path = join(dir, names[1]);
      const bytes = await readFile(path);
      bytes[bytes.length - 1] ^= 0x80;
      await writeFile(path, bytes);
      await assert.rejects(Wal.open(dir, opts), (e: unknown) => {
        assert.ok(isWalError(e, 'Corrupt'), String(e));
        assert.match(e.message, escaped(names[1]));
        assert.match(e.message, /not the last one/);
        return true;
      });
    });
  });

  it('a damaged segment header: refused, naming the file', async () => {
    await withTempDir(async (dir) => {
      const { name, bytes } = await oneSegment(dir, makeRecords(1, 3));
      for (const at of [0, 13, 21, 29]) {
        const damaged = Buffer.from(bytes);
        damaged[at] ^= 0x04;
        await writeFile(join(dir, name), damaged);
        await assert.rejects(Wal.open(dir), (e: unknown) => {
          assert.ok(isWalError(e, 'Corrupt'), `byte ${at}: ${String(e)}`);
          assert.match(e.message, escaped(name));
          assert.match(e.message, /byte offset \d+/);
          return true;
        });
      }
    });
  });

  it('zeroed bytes in the middle (a lost page) with valid records after: refused', async () => {
    await withTempDir(async (dir) => {
      const records = makeRecords(1, 8, 60);
      const { name, bytes } = await oneSegment(dir, records);
      const offsets = recordOffsets(records);
      const damaged = Buffer.from(bytes);
      damaged.fill(0, offsets[3], offsets[5]);
      await writeFile(join(dir, name), damaged);
      await assert.rejects(Wal.open(dir), (e: unknown) =>
        isWalError(e, 'Corrupt') && e.message.includes(`byte offset ${offsets[3]}`) && e.message.includes(name));
    });
  });
});
