/** Small files written so that a crash leaves the old or the new version, never a torn one. */
import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeJsonDurably(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  const fh = await open(tmp, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
