/**
 * `endpoint health|status|hashkv [--cluster]`: asks each endpoint (or each member's client
 * URLs with --cluster) on its own, as etcdctl does, and prints one row per endpoint.
 *
 * Must never: fail over to another endpoint (each answer must come from the endpoint named).
 */
import type { Argv } from 'yargs';
import { flagBool, usage, type Args, type Register } from '../command.js';
import type { CommandContext } from '../context.js';
import { CliExit, ExitCode } from '../exit.js';
import { GatewayError } from '../gateway/client.js';
import * as codec from '../gateway/codec.js';
import type { EpHashKV, EpHealth, EpStatus } from '../printers/printer.js';
import { group } from './group.js';
import { int64Flag } from './kv.js';
import { memberList } from './member.js';

/** The endpoints to ask: the global list, or every member's client URLs (--cluster). */
export async function targetEndpoints(ctx: CommandContext, argv: Args): Promise<string[]> {
  if (!flagBool(argv, 'cluster')) return ctx.globals.endpoints;
  try {
    return (await memberList(ctx)).members.flatMap((m) => m.clientUrls);
  } catch (e) {
    throw new CliExit(ExitCode.Error, `failed to fetch endpoints from etcd cluster member list: ${(e as Error).message}`);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function healthOf(ctx: CommandContext, ep: string): Promise<EpHealth> {
  const client = await ctx.client();
  const started = process.hrtime.bigint();
  const h: EpHealth = { endpoint: ep, health: false, tookNs: 0n, error: '' };
  try {
    await client.callOn(ep, '/v3/kv/range', { key: codec.b64(Buffer.from('health')) });
    h.health = true;
  } catch (e) {
    // permission denied is fine: the read went through consensus to be refused.
    if (e instanceof GatewayError && e.message === 'etcdserver: permission denied') h.health = true;
    else h.error = errorText(e);
  }
  h.tookNs = process.hrtime.bigint() - started;
  if (h.health) {
    try {
      const alarms = codec.alarmResponse(await client.callOn(ep, '/v3/maintenance/alarm', { action: 'GET' }));
      if (alarms.alarms.length > 0) {
        h.health = false;
        h.error = 'Active Alarm(s): ' + alarms.alarms.map((a) => (a.alarm === 'NONE' ? 'UNKNOWN' : a.alarm) + ' ').join('');
      }
    } catch (e) {
      // A server without the alarm route (CliExit "does not serve") has no alarms to raise.
      if (!(e instanceof CliExit && e.code === ExitCode.BadFeature)) {
        h.health = false;
        h.error = 'Unable to fetch the alarm list';
      }
    }
  }
  return h;
}

async function health(ctx: CommandContext, argv: Args): Promise<void> {
  const eps = await targetEndpoints(ctx, argv);
  // Listed in the order the answers come, as etcdctl does.
  const list: EpHealth[] = [];
  await Promise.all(eps.map(async (ep) => { list.push(await healthOf(ctx, ep)); }));
  ctx.printer.endpointHealth(list);
  if (list.some((h) => !h.health)) throw new CliExit(ExitCode.Error, 'unhealthy cluster');
}

async function status(ctx: CommandContext, argv: Args): Promise<void> {
  const client = await ctx.client();
  const list: EpStatus[] = [];
  let failed = false;
  for (const ep of await targetEndpoints(ctx, argv)) {
    try {
      list.push({ endpoint: ep, status: codec.statusResponse(await client.callOn(ep, '/v3/maintenance/status', {})) });
    } catch (e) {
      failed = true;
      ctx.io.err(`Failed to get the status of endpoint ${ep} (${errorText(e)})\n`);
    }
  }
  ctx.printer.endpointStatus(list);
  if (failed) throw new CliExit(ExitCode.Error, '');
}

async function hashKv(ctx: CommandContext, argv: Args): Promise<void> {
  const client = await ctx.client();
  const rev = int64Flag(argv, 'rev');
  const list: EpHashKV[] = [];
  let failed = false;
  for (const ep of await targetEndpoints(ctx, argv)) {
    try {
      list.push({ endpoint: ep, hashKv: codec.hashKvResponse(await client.callOn(ep, '/v3/maintenance/hashkv', { revision: rev.toString() })) });
    } catch (e) {
      failed = true;
      ctx.io.err(`Failed to get the hash of endpoint ${ep} (${errorText(e)})\n`);
    }
  }
  ctx.printer.endpointHashKv(list);
  if (failed) throw new CliExit(ExitCode.Error, '');
}

const cluster = (y: Argv): Argv => y.option('cluster', { type: 'boolean', default: false, describe: 'use all endpoints from the cluster member list' });

export const registerEndpoint: Register = (y, select) => group(y, select, 'endpoint', 'Endpoint related commands', (g) => g
  .command('health', 'Checks the healthiness of endpoints specified in `--endpoints` flag', usage('endpoint health', cluster),
    (a) => select(a as Args, (ctx) => health(ctx, a as Args)))
  .command('status', 'Prints out the status of endpoints specified in `--endpoints` flag', usage('endpoint status', cluster),
    (a) => select(a as Args, (ctx) => status(ctx, a as Args)))
  .command('hashkv', 'Prints the KV history hash for each endpoint in --endpoints', usage('endpoint hashkv [options]',
    (s) => cluster(s).option('rev', { type: 'string', default: '0', describe: 'maximum revision to hash (default: all revisions)' })),
  (a) => select(a as Args, (ctx) => hashKv(ctx, a as Args))));
