/**
 * `lease grant|revoke|timetolive|list|keep-alive`: etcdctl 3.4's lease commands over the
 * gateway (`/v3/lease/*`). Keep-alive sends one request per renewal, at a third of the TTL,
 * each on its own short HTTP exchange (the gateway only answers a keep-alive stream once its
 * request body is complete).
 *
 * Must never: print a lease ID other than as 16 hex digits in simple output, or keep a lease
 * alive after the command is interrupted.
 */
import { positionals, flagBool, usage, type Args, type Register } from '../command.js';
import type { CommandContext } from '../context.js';
import { CliExit, ExitCode, badArgs } from '../exit.js';
import { GatewayError } from '../gateway/client.js';
import * as codec from '../gateway/codec.js';
import type { LeaseKeepAliveResponse } from '../gateway/types.js';
import { parseGoInt } from '../go-parse.js';
import { SimplePrinter } from '../printers/simple.js';
import { group } from './group.js';

/** Shortest wait between two keep-alives, whatever the TTL. */
const minKeepAliveIntervalMs = 500;

export function leaseIdArg(s: string): bigint {
  try {
    return parseGoInt(s, 16);
  } catch (e) {
    throw badArgs(`bad lease ID arg (${(e as Error).message}), expecting ID in Hex`);
  }
}

/** Server errors as etcdctl words them for this command: `<prefix> (<error>)`, or the bare error. */
function wrap(prefix: string, code: number = ExitCode.Error): (e: unknown) => never {
  return (e) => {
    if (e instanceof GatewayError) throw new CliExit(code, prefix === '' ? e.message : `${prefix} (${e.message})`);
    throw e;
  };
}

async function grant(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('lease grant command needs TTL argument');
  let ttl: bigint;
  try {
    ttl = parseGoInt(args[0], 10);
  } catch (e) {
    throw badArgs(`bad TTL (${(e as Error).message})`);
  }
  const r = await ctx.call('/v3/lease/grant', { TTL: ttl.toString() }).catch(wrap('failed to grant lease'));
  ctx.printer.grant(codec.leaseGrantResponse(r));
}

async function revoke(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('lease revoke command needs 1 argument');
  const id = leaseIdArg(args[0]);
  const r = await ctx.call('/v3/lease/revoke', { ID: id.toString() }).catch(wrap('failed to revoke lease'));
  ctx.printer.revoke(id, codec.headerOnly(r));
}

async function timeToLive(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('lease timetolive command needs lease ID as argument');
  const id = leaseIdArg(args[0]);
  const keys = flagBool(argv, 'keys');
  const r = await ctx.call('/v3/lease/timetolive', { ID: id.toString(), keys }).catch(wrap('failed to get lease info', ExitCode.BadConnection));
  ctx.printer.timeToLive(codec.leaseTimeToLiveResponse(r), keys);
}

async function list(ctx: CommandContext): Promise<void> {
  const r = await ctx.call('/v3/lease/leases', {}).catch(wrap('failed to list leases', ExitCode.BadConnection));
  ctx.printer.leases(codec.leaseLeasesResponse(r));
}

/** One keep-alive exchange; a TTL of 0 or less means the lease is gone (clientv3's rule). */
export async function keepAliveOnce(ctx: CommandContext, id: bigint, signal: AbortSignal): Promise<LeaseKeepAliveResponse | null> {
  const client = await ctx.client();
  async function* one(): AsyncGenerator<unknown> { yield { ID: id.toString() }; }
  for await (const raw of client.stream('/v3/lease/keepalive', one(), signal)) {
    const r = codec.leaseKeepAliveResponse(raw);
    return r.ttl <= 0n ? null : r;
  }
  return null;
}

async function keepAlive(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('lease keep-alive command needs lease ID as argument');
  const id = leaseIdArg(args[0]);
  const stop = new AbortController();
  void ctx.io.interrupted.then(() => stop.abort());
  if (flagBool(argv, 'once')) {
    const r = await keepAliveOnce(ctx, id, stop.signal).catch(wrap('', ExitCode.BadConnection));
    if (r === null) throw new CliExit(ExitCode.BadConnection, 'etcdserver: requested lease not found');
    ctx.printer.keepAlive(r);
    return;
  }
  while (!stop.signal.aborted) {
    let r: LeaseKeepAliveResponse | null;
    try {
      r = await keepAliveOnce(ctx, id, stop.signal);
    } catch (e) {
      if (stop.signal.aborted) return;
      throw e;
    }
    if (r === null) break;
    ctx.printer.keepAlive(r);
    await sleep(Math.max(minKeepAliveIntervalMs, (Number(r.ttl) * 1000) / 3), stop.signal);
  }
  if (stop.signal.aborted) return;
  if (ctx.printer instanceof SimplePrinter) ctx.io.out(`lease ${id.toString(16).padStart(16, '0')} expired or revoked.\n`);
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const t = setTimeout(done, ms);
    function done(): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

export const registerLease: Register = (y, select) => group(y, select, 'lease', 'Lease related commands', (g) => g
  .command('grant', 'Creates leases', usage('lease grant <ttl>'), (a) => select(a as Args, (ctx) => grant(ctx, a as Args)))
  .command('revoke', 'Revokes leases', usage('lease revoke <leaseID>'), (a) => select(a as Args, (ctx) => revoke(ctx, a as Args)))
  .command('timetolive', 'Get lease information', usage('lease timetolive <leaseID> [options]',
    (s) => s.option('keys', { type: 'boolean', default: false, describe: 'Get keys attached to this lease' })),
  (a) => select(a as Args, (ctx) => timeToLive(ctx, a as Args)))
  .command('list', 'List all active leases', usage('lease list'), (a) => select(a as Args, (ctx) => list(ctx)))
  .command('keep-alive', 'Keeps leases alive (renew)', usage('lease keep-alive [options] <leaseID>',
    (s) => s.option('once', { type: 'boolean', default: false, describe: 'Resets the keep-alive time to its original value and exits immediately' })),
  (a) => select(a as Args, (ctx) => keepAlive(ctx, a as Args))));
