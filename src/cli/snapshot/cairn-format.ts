/**
 * Cairn's snapshot format, as `/v3/maintenance/snapshot` streams it (documented in
 * docs/architecture.md; the server writes it in src/server/snapshot-stream.ts):
 *
 *   "CAIRNSN1" (8 B) | header length (u32 BE) | header JSON | LMDB data file (header.dbBytes) | SHA-256 of that file (32 B)
 *
 * `status` prints the summary the server put in the header (revision, live keys, hashkv) and the
 * data file's size, after checking the file's length. `restore` checks length and SHA-256, then
 * writes a new data dir holding the data file and a marker: the member started on it founds a new
 * cluster from its --initial-cluster flags (src/server/snapshot-restore.ts). Only the layout is
 * shared with the server: cairnctl imports no server code.
 *
 * Must never: modify the snapshot file, or leave a data dir that looks complete after a failure.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliExit, ExitCode } from '../exit.js';
import type { SnapshotStatus } from '../gateway/types.js';
import type { RestoreOptions, SnapshotFormat } from './formats.js';

const MAGIC = Buffer.from('CAIRNSN1');
const HASH_BYTES = 32;
const MAX_HEADER_BYTES = 4 * 1024 * 1024;

interface CairnSnapshotHeader {
  format: string;
  dbBytes: number;
  summary?: { revision: string; totalKeys: number; hash: number };
}

async function readHeader(path: string): Promise<{ header: CairnSnapshotHeader; dataOffset: number; fileBytes: number }> {
  const fh = await open(path, 'r');
  try {
    const fileBytes = (await fh.stat()).size;
    const fixed = Buffer.alloc(MAGIC.length + 4);
    await fh.read(fixed, 0, fixed.length, 0);
    const headerBytes = fixed.readUInt32BE(MAGIC.length);
    if (headerBytes > MAX_HEADER_BYTES || fixed.length + headerBytes > fileBytes) throw new CliExit(ExitCode.Error, 'invalid database: snapshot header is cut off');
    const json = Buffer.alloc(headerBytes);
    await fh.read(json, 0, headerBytes, fixed.length);
    let header: CairnSnapshotHeader;
    try {
      header = JSON.parse(json.toString('utf8')) as CairnSnapshotHeader;
    } catch {
      throw new CliExit(ExitCode.Error, 'invalid database: snapshot header is not JSON');
    }
    if (header.format !== 'cairn-snapshot/1') throw new CliExit(ExitCode.Error, `invalid database: unknown snapshot format ${String(header.format)}`);
    const dataOffset = fixed.length + headerBytes;
    if (dataOffset + header.dbBytes + HASH_BYTES !== fileBytes) {
      throw new CliExit(ExitCode.Error, `invalid database: the file is ${fileBytes} bytes, its header says ${dataOffset + header.dbBytes + HASH_BYTES} (truncated or not a whole snapshot)`);
    }
    return { header, dataOffset, fileBytes };
  } finally {
    await fh.close();
  }
}

async function sha256Of(path: string, start: number, length: number): Promise<Buffer> {
  const hash = createHash('sha256');
  if (length > 0) for await (const chunk of createReadStream(path, { start, end: start + length - 1 })) hash.update(chunk as Buffer);
  return hash.digest();
}

export const cairnSnapshotFormat: SnapshotFormat = {
  name: 'Cairn',
  matches: (head) => head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC),

  async status(path): Promise<SnapshotStatus> {
    const { header } = await readHeader(path);
    const s = header.summary;
    if (!s) throw new CliExit(ExitCode.Error, 'invalid database: this snapshot carries no summary (a raft snapshot, not a maintenance snapshot)');
    return { hash: s.hash, revision: BigInt(s.revision), totalKey: BigInt(s.totalKeys), totalSize: BigInt(header.dbBytes) };
  },

  async restore(path, o: RestoreOptions): Promise<void> {
    const { header, dataOffset, fileBytes } = await readHeader(path);
    if (!o.skipHashCheck) {
      const stored = Buffer.alloc(HASH_BYTES);
      const fh = await open(path, 'r');
      try {
        await fh.read(stored, 0, HASH_BYTES, fileBytes - HASH_BYTES);
      } finally {
        await fh.close();
      }
      const actual = await sha256Of(path, dataOffset, header.dbBytes);
      if (!actual.equals(stored)) throw new CliExit(ExitCode.Error, 'snapshot file integrity check failed: the data file does not match its SHA-256');
    }
    if (await access(o.dataDir).then(() => true, () => false)) throw new CliExit(ExitCode.Error, `data-dir "${o.dataDir}" exists`);
    const tmp = `${o.dataDir}.part`;
    await rm(tmp, { recursive: true, force: true });
    const snapDir = join(tmp, 'member', 'snap');
    await mkdir(snapDir, { recursive: true });
    const out = await open(join(snapDir, 'data.mdb'), 'w', 0o600);
    try {
      for await (const chunk of createReadStream(path, { start: dataOffset, end: dataOffset + header.dbBytes - 1 })) await out.write(chunk as Buffer);
      await out.sync();
    } finally {
      await out.close();
    }
    await writeFile(join(snapDir, 'restored.json'), JSON.stringify({
      snapshot: path, name: o.name, initialCluster: o.initialCluster, initialClusterToken: o.initialClusterToken,
      initialAdvertisePeerUrls: o.initialAdvertisePeerUrls, restoredAt: new Date().toISOString(),
    }) + '\n', { mode: 0o600 });
    await rename(tmp, o.dataDir);
  },
};
