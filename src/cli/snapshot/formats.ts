/**
 * Snapshot files, by format. `snapshot save` writes whatever the server streams; `status` and
 * `restore` need to understand the file, so each format is one `SnapshotFormat` here, chosen
 * by sniffing the file's first bytes.
 *
 * Cairn's own format is cairn-format.ts; etcd's bbolt files are etcd-bolt.ts. cairnctl must not
 * import server code, so each module uses only the snapshot file's documented layout.
 *
 * Must never: modify the snapshot file.
 */
import { open, stat } from 'node:fs/promises';
import { CliExit, ExitCode } from '../exit.js';
import type { SnapshotStatus } from '../gateway/types.js';
import { cairnSnapshotFormat } from './cairn-format.js';
import { etcdBoltFormat } from './etcd-bolt.js';

export interface RestoreOptions {
  dataDir: string; name: string; initialCluster: string; initialClusterToken: string;
  initialAdvertisePeerUrls: string; skipHashCheck: boolean;
}

export interface SnapshotFormat {
  readonly name: string;
  /** Whether the file starting with `head` (up to 8 KiB) is in this format. */
  matches(head: Buffer): boolean;
  status(path: string): Promise<SnapshotStatus>;
  /** Absent when cairnctl cannot restore this format. */
  restore?(path: string, opts: RestoreOptions): Promise<void>;
}

/** Bytes read to recognise a format (bbolt's second meta page starts at 4 KiB). */
const sniffBytes = 8192;

export const snapshotFormats: SnapshotFormat[] = [cairnSnapshotFormat, etcdBoltFormat];

export async function detectFormat(path: string): Promise<SnapshotFormat> {
  await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new CliExit(ExitCode.Error, `stat ${path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  });
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(sniffBytes);
    const { bytesRead } = await fh.read(head, 0, sniffBytes, 0);
    const found = snapshotFormats.find((f) => f.matches(head.subarray(0, bytesRead)));
    if (!found) throw new CliExit(ExitCode.Error, 'invalid database');
    return found;
  } finally {
    await fh.close();
  }
}
