/**
 * Who this member is and which cluster it belongs to. Derived once, as etcd derives them
 * (member ID: the first 8 bytes of SHA-1 over the sorted peer URLs and the cluster token;
 * cluster ID: the first 8 bytes of SHA-1 over the sorted member IDs), then kept in the data
 * dir: a restarted member takes its identity from disk and ignores the --initial-* flags.
 *
 * Never changes an identity already on disk; refuses a data dir of an unknown layout version.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR_LAYOUT_VERSION = 1;

export interface Identity {
  name: string;
  memberId: bigint;
  clusterId: bigint;
}

interface IdentityFile {
  layoutVersion: number;
  name: string;
  memberId: string;
  clusterId: string;
}

export class DataDirError extends Error {}

function first8BytesBE(digest: Buffer): bigint {
  return digest.readBigUInt64BE(0);
}

export function computeMemberId(peerUrls: string[], clusterToken: string, addedAtMs?: number): bigint {
  const h = createHash('sha1');
  for (const u of [...peerUrls].sort()) h.update(u);
  h.update(clusterToken);
  if (addedAtMs !== undefined) h.update(String(addedAtMs));
  return first8BytesBE(h.digest());
}

export function computeClusterId(memberIds: bigint[]): bigint {
  const h = createHash('sha1');
  const buf = Buffer.alloc(8);
  for (const id of [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    buf.writeBigUInt64BE(id);
    h.update(buf);
  }
  return first8BytesBE(h.digest());
}

export function memberDir(dataDir: string): string {
  return join(dataDir, 'member');
}

/** Reads the identity kept in `dataDir`, or undefined for a new data dir. */
export function readIdentity(dataDir: string): Identity | undefined {
  const path = join(memberDir(dataDir), 'identity.json');
  if (!existsSync(path)) return undefined;
  let parsed: IdentityFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as IdentityFile;
  } catch (e) {
    throw new DataDirError(`data dir ${dataDir}: ${path} is unreadable (${(e as Error).message}); refusing to start`);
  }
  if (parsed.layoutVersion !== DATA_DIR_LAYOUT_VERSION) {
    throw new DataDirError(
      `data dir ${dataDir} has layout version ${parsed.layoutVersion}; this Cairn reads version ${DATA_DIR_LAYOUT_VERSION}`,
    );
  }
  return { name: parsed.name, memberId: BigInt(parsed.memberId), clusterId: BigInt(parsed.clusterId) };
}

/** Writes the identity durably (temp file, fsync, rename, fsync the directory). */
export function writeIdentity(dataDir: string, id: Identity): void {
  const dir = memberDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const body: IdentityFile = {
    layoutVersion: DATA_DIR_LAYOUT_VERSION,
    name: id.name,
    memberId: id.memberId.toString(),
    clusterId: id.clusterId.toString(),
  };
  const tmp = join(dir, 'identity.json.tmp');
  writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n');
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, join(dir, 'identity.json'));
  const dfd = openSync(dir, 'r');
  fsyncSync(dfd);
  closeSync(dfd);
}
