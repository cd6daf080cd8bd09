/** Small files written so that a crash leaves the old or the new version, never a torn one. */
import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeJsonDurably(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await fsyncPath(tmp);
  await rename(tmp, path);
  await fsyncPath(dirname(path));
}

/** fsyncs a file or a folder (after a rename in it) that is already written. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
