/**
 * etcd's snapshot format (a bbolt database, sha256 appended by the server): `status` as
 * etcdctl computes it — CRC-32C over every bucket name, key and value in order, the revision
 * of the last key in the "key" bucket, the number of keys, and bbolt's size.
 *
 * Must never: write to the file. Restoring an etcd snapshot into a data dir is etcd's job
 * (etcdctl snapshot restore); cairnctl does not do it.
 */
import { readFile } from 'node:fs/promises';
import { CliExit, ExitCode } from '../exit.js';
import type { SnapshotStatus } from '../gateway/types.js';
import { InvalidDatabase, boltSize, forEachBucket, openBolt } from './bbolt.js';
import { Crc32c } from './crc32c.js';
import type { SnapshotFormat } from './formats.js';

export function boltStatus(file: Buffer): SnapshotStatus {
  const db = openBolt(file);
  const h = new Crc32c();
  let revision = 0n;
  let totalKey = 0n;
  forEachBucket(db, (name, forEach) => {
    h.update(name);
    const isKeyBucket = name.toString('latin1') === 'key';
    forEach((k, v) => {
      h.update(k);
      h.update(v);
      if (isKeyBucket && k.length >= 8) revision = k.readBigUInt64BE(0);
      totalKey++;
    });
  });
  return { hash: h.sum(), revision, totalKey, totalSize: boltSize(db) };
}

export const etcdBoltFormat: SnapshotFormat = {
  name: 'etcd (bbolt)',
  matches: (head) => head.length >= 24 && head.readUInt32LE(16) === 0xed0cdaed,
  async status(path) {
    try {
      return boltStatus(await readFile(path));
    } catch (e) {
      if (e instanceof InvalidDatabase || e instanceof RangeError) throw new CliExit(ExitCode.Error, 'invalid database');
      throw e;
    }
  },
};
