/**
 * The few file operations the WAL and the snapshot files need, done off the event loop
 * (node:fs/promises runs them on libuv's thread pool, so the server keeps serving meanwhile).
 *
 * Owns: full writes at a position, directory fsync, atomic file replacement.
 * Must never: swallow an error — a failed write or fsync leaves the disk in an unknown state
 * and the caller must stop trusting it.
 */
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes all of `buf` at `position`, looping over short writes. */
export async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`short write: 0 bytes at position ${position + done}`);
    done += bytesWritten;
  }
}

/** fsyncs a directory, so that files created, renamed or removed in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `bytes` to `path` so that after a crash the path holds either the old content or all
 * of the new: write a temporary file, fdatasync it, rename it over the path, fsync the folder.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await writeAll(fh, bytes, 0);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}
