/**
 * Snapshot files: etcd-style names, round trip, the newest intact one is found and damaged ones
 * are skipped with a log line, unknown versions refused, only the newest N kept.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  SNAPSHOT_FORMAT_VERSION, isWalError, listSnapshotFiles, loadNewestSnapshot, loadSnapshot, saveSnapshot,
  snapshotFileName,
} from '../../src/wal/index.js';
import { capturingLogger, withTempDir } from './wal-fixtures.js';

const meta = (index: number, term: number, text = `state at ${index}`): { index: number; term: number; data: Uint8Array } =>
  ({ index, term, data: Buffer.from(text) });

describe('snapshot files', () => {
  it('are named %016x-%016x.snap from term and index, written without leftovers, and read back', async () => {
    await withTempDir(async (dir) => {
      const name = await saveSnapshot(dir, meta(0x1234, 5));
      assert.equal(name, '0000000000000005-0000000000001234.snap');
      assert.equal(snapshotFileName(5, 0x1234), name);
      assert.deepEqual(await readdir(dir), [name]);
      const back = await loadSnapshot(dir, 5, 0x1234);
      assert.equal(back.index, 0x1234);
      assert.equal(back.term, 5);
      assert.equal(Buffer.from(back.data).toString(), 'state at 4660');
    });
  });

  it('loadNewestSnapshot picks the highest index, skipping and logging damaged files', async () => {
    await withTempDir(async (dir) => {
      await saveSnapshot(dir, meta(10, 2));
      await saveSnapshot(dir, meta(20, 3));
      const newest = await saveSnapshot(dir, meta(30, 3));
      assert.equal((await loadNewestSnapshot(dir))?.index, 30);
      const bytes = await readFile(join(dir, newest));
      bytes[bytes.length - 2] ^= 0x10;
      await writeFile(join(dir, newest), bytes);
      const logger = capturingLogger();
      assert.equal((await loadNewestSnapshot(dir, { logger }))?.index, 20);
      assert.equal(logger.lines.length, 1);
      assert.equal(logger.lines[0].fields.file, newest);
      assert.match(String(logger.lines[0].fields.err), /CRC mismatch/);
      await writeFile(join(dir, snapshotFileName(3, 20)), Buffer.from('CAIRNSNP')); // cut short
      assert.equal((await loadNewestSnapshot(dir, { logger }))?.index, 10);
      assert.equal((await loadNewestSnapshot(dir, { accept: (index) => index < 10 })), null);
    });
  });

  it('loadSnapshot refuses a damaged file naming it and the offset', async () => {
    await withTempDir(async (dir) => {
      const name = await saveSnapshot(dir, meta(7, 1));
      const bytes = await readFile(join(dir, name));
      bytes[13] ^= 0x01; // inside the index field
      await writeFile(join(dir, name), bytes);
      await assert.rejects(loadSnapshot(dir, 1, 7), (e: unknown) =>
        isWalError(e, 'Corrupt') && e.message.includes(name) && /byte offset \d+/.test(e.message));
    });
  });

  it('refuses a file of an unknown format version, saying which versions this build reads', async () => {
    await withTempDir(async (dir) => {
      const name = await saveSnapshot(dir, meta(7, 1));
      const bytes = await readFile(join(dir, name));
      bytes.writeUInt32BE(SNAPSHOT_FORMAT_VERSION + 1, 8);
      await writeFile(join(dir, name), bytes);
      await assert.rejects(loadSnapshot(dir, 1, 7), (e: unknown) =>
        isWalError(e, 'UnsupportedVersion') && e.message.includes(name) && e.message.includes('format version 2'));
    });
  });

  it('keeps only the newest maxSnapshots files (0 keeps all), and removes stray temporaries', async () => {
    await withTempDir(async (dir) => {
      for (let i = 1; i <= 4; i++) await saveSnapshot(dir, meta(i, 1), { maxSnapshots: 0 });
      assert.equal((await listSnapshotFiles(dir)).length, 4);
      await writeFile(join(dir, `${snapshotFileName(1, 9)}.tmp`), Buffer.from('half'));
      await saveSnapshot(dir, meta(5, 1), { maxSnapshots: 2 });
      assert.deepEqual((await readdir(dir)).sort(), [snapshotFileName(1, 4), snapshotFileName(1, 5)]);
      assert.deepEqual((await listSnapshotFiles(dir)).map((f) => f.index), [5, 4]);
    });
  });

  it('lists nothing for a missing folder', async () => {
    await withTempDir(async (dir) => {
      assert.deepEqual(await listSnapshotFiles(join(dir, 'absent')), []);
      assert.equal(await loadNewestSnapshot(join(dir, 'absent')), null);
    });
  });
});
