/**
 * Cairn members for process-level tests: `startCairn()` runs the cairn server (compiled
 * dist/src/bin/cairn.js, or src/bin/cairn.ts under tsx) with etcd's flags on free ports in a
 * fresh temp data dir.
 *
 * Owns only the processes it starts. Must never build the project or write to dist/.
 */
import { cairnEntry } from './paths.js';
import { launchMember, singleMemberLayout, type ServerHandle, type StartOptions } from './member.js';

/** True when the cairn entry point exists (the server may not be written yet). */
export function cairnBuilt(): boolean {
  return cairnEntry().exists;
}

/** Start one cairn member (a one-node cluster) and wait until /health says true. */
export async function startCairn(opts: StartOptions = {}): Promise<ServerHandle> {
  const entry = cairnEntry();
  if (!entry.exists) throw new Error(`cairn not built: ${entry.file} does not exist`);
  const { layout, ownsDataDir } = await singleMemberLayout('cairn', { command: entry.command, args: entry.args }, opts);
  return launchMember(layout, ownsDataDir);
}
