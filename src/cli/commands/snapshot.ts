/**
 * `snapshot save|status|restore`. `save` streams `/v3/maintenance/snapshot` from exactly one
 * endpoint into `<file>.part`, fsyncs, renames; `status` and `restore` hand the file to its
 * format (../snapshot/formats.ts).
 *
 * Must never: leave a partial file under the final name, or hold the whole snapshot in memory
 * while saving (each chunk is written as it arrives).
 */
import { open, rename, unlink } from 'node:fs/promises';
import { flagBool, flagString, positionals, usage, type Args, type Register } from '../command.js';
import type { CommandContext } from '../context.js';
import { CliExit, ExitCode, badArgs } from '../exit.js';
import { bytes, int64 } from '../gateway/codec.js';
import { detectFormat } from '../snapshot/formats.js';
import { group } from './group.js';

async function save(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('snapshot save expects one argument');
  const eps = ctx.globals.endpoints;
  if (eps.length !== 1) throw new CliExit(ExitCode.Interrupted, `snapshot must be requested to one selected node, not multiple [${eps.join(' ')}]`);
  const path = args[0];
  const partPath = `${path}.part`;
  const fh = await open(partPath, 'w', 0o600).catch((e: NodeJS.ErrnoException) => {
    throw new CliExit(ExitCode.Interrupted, `could not open ${partPath} (open ${partPath}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message})`);
  });
  const stop = new AbortController();
  void ctx.io.interrupted.then(() => stop.abort());
  try {
    const client = await ctx.client();
    async function* one(): AsyncGenerator<unknown> { yield {}; }
    let remaining = -1n;
    for await (const raw of client.stream('/v3/maintenance/snapshot', one(), stop.signal)) {
      const r = raw as { blob?: unknown; remaining_bytes?: unknown };
      const blob = bytes(r.blob);
      if (blob.length > 0) await fh.write(blob);
      // The data ends with remaining_bytes 0; etcd then sends its sha256 in one more message
      // (also remaining 0), which belongs in the file: restore checks it.
      remaining = int64(r.remaining_bytes);
    }
    if (remaining !== 0n) throw new CliExit(ExitCode.Interrupted, stop.signal.aborted ? 'interrupted' : 'snapshot stream ended early');
    await fh.sync();
    await fh.close();
    await rename(partPath, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(partPath).catch(() => undefined);
    if (e instanceof CliExit) throw e;
    throw new CliExit(ExitCode.Interrupted, (e as Error).message);
  }
  ctx.io.out(`Snapshot saved at ${path}\n`);
}

async function status(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('snapshot status requires exactly one argument');
  const format = await detectFormat(args[0]);
  ctx.printer.dbStatus(await format.status(args[0]));
}

async function restore(argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('snapshot restore requires exactly one argument');
  const format = await detectFormat(args[0]);
  if (!format.restore) {
    throw new CliExit(ExitCode.BadFeature, `restoring a ${format.name} snapshot is not supported by cairnctl (etcd snapshots: use etcdctl snapshot restore)`);
  }
  const name = flagString(argv, 'name', 'default');
  await format.restore(args[0], {
    dataDir: flagString(argv, 'data-dir') || `${name}.etcd`, name,
    initialCluster: flagString(argv, 'initial-cluster', 'default=http://localhost:2380'),
    initialClusterToken: flagString(argv, 'initial-cluster-token', 'etcd-cluster'),
    initialAdvertisePeerUrls: flagString(argv, 'initial-advertise-peer-urls', 'http://localhost:2380'),
    skipHashCheck: flagBool(argv, 'skip-hash-check'),
  });
}

export const registerSnapshot: Register = (y, select) => group(y, select, 'snapshot', 'Manages etcd node snapshots', (g) => g
  .command('save', 'Stores an etcd node backend snapshot to a given file', usage('snapshot save <filename>'),
    (a) => select(a as Args, (ctx) => save(ctx, a as Args)))
  .command('status', 'Gets backend snapshot status of a given file', usage('snapshot status <filename>'),
    (a) => select(a as Args, (ctx) => status(ctx, a as Args)))
  .command('restore', 'Restores an etcd member snapshot to an etcd directory', usage('snapshot restore <filename> [options]', (s) => s
    .option('data-dir', { type: 'string', default: '', describe: 'Path to the data directory' })
    .option('name', { type: 'string', default: 'default', describe: 'Human-readable name for this member' })
    .option('initial-cluster', { type: 'string', default: 'default=http://localhost:2380', describe: 'Initial cluster configuration for restore bootstrap' })
    .option('initial-cluster-token', { type: 'string', default: 'etcd-cluster', describe: 'Initial cluster token for the etcd cluster during restore bootstrap' })
    .option('initial-advertise-peer-urls', { type: 'string', default: 'http://localhost:2380', describe: 'List of this member\'s peer URLs to advertise to the rest of the cluster' })
    .option('skip-hash-check', { type: 'boolean', default: false, describe: 'Ignore snapshot integrity hash value (required if copied from data directory)' })),
  (a) => select(a as Args, () => restore(a as Args))));
