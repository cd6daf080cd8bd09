/**
 * `lock <name> [command …]` and `elect <name> [proposal]` / `elect -l <name>`: etcd's lock and
 * election services over `/v3/lock/*` and `/v3/election/*`, each holding a session lease.
 * `lock` runs the command with ETCD_LOCK_KEY and ETCD_LOCK_REV and releases the lock when it
 * ends; without a command it prints the lock key and holds it until interrupted.
 *
 * Must never: leave a lock or leadership held after returning (unlock/resign, then revoke).
 */
import { flagBool, flagString, positionals, usage, type Args, type Register } from '../command.js';
import type { CommandContext } from '../context.js';
import { CliExit, ExitCode, badArgs } from '../exit.js';
import * as codec from '../gateway/codec.js';
import type { RangeResponse } from '../gateway/types.js';
import { execErrorText, runUserCommand } from './exec.js';
import { Session } from './session.js';

/** clientv3 concurrency's default session TTL (elect); lock's --ttl defaults to 10. */
const electSessionTtlSeconds = 60n;

function interruption(ctx: CommandContext): AbortSignal {
  const ctl = new AbortController();
  void ctx.io.interrupted.then(() => ctl.abort());
  return ctl.signal;
}

/** Waits for the interruption or the session's loss; true when interrupted. */
async function holdUntil(stop: AbortSignal, session: Session): Promise<boolean> {
  const interrupted = new Promise<boolean>((resolve) => {
    if (stop.aborted) resolve(true);
    stop.addEventListener('abort', () => resolve(true), { once: true });
  });
  return Promise.race([interrupted, session.done().then(() => false)]);
}

async function getKey(ctx: CommandContext, key: Buffer): Promise<RangeResponse> {
  return codec.rangeResponse(await ctx.call('/v3/kv/range', { key: codec.b64(key) }));
}

/** A long call that blocks until the server grants it (lock, campaign): no command deadline. */
async function blockingCall(ctx: CommandContext, path: string, body: unknown, stop: AbortSignal): Promise<unknown> {
  return (await ctx.client()).callUntil(path, body, stop);
}

async function runLock(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 1);
  if (args.length === 0) throw badArgs('lock takes a lock name argument and an optional command to execute');
  const ttl = BigInt(flagString(argv, 'ttl', '10'));
  const stop = interruption(ctx);
  const session = await Session.open(ctx, ttl);
  try {
    const raw = await blockingCall(ctx, '/v3/lock/lock', { name: codec.b64(Buffer.from(args[0])), lease: session.leaseId.toString() }, stop)
      .catch((e: unknown) => { if (stop.aborted) return null; throw e; });
    if (raw === null) return;
    const lock = codec.lockResponse(raw);
    if (args.length > 1) {
      const env = { ETCD_LOCK_KEY: lock.key.toString('utf8'), ETCD_LOCK_REV: String(lock.header.revision) };
      const res = await runUserCommand(ctx.io, args.slice(1), env);
      await ctx.call('/v3/lock/unlock', { key: codec.b64(lock.key) });
      const err = execErrorText(res, args[1]);
      if (err !== null) throw new CliExit(ExitCode.Error, err);
      return;
    }
    const held = await getKey(ctx, lock.key);
    if (held.kvs.length === 0) throw new CliExit(ExitCode.Error, 'lock lost on init');
    ctx.printer.get(held);
    if (!(await holdUntil(stop, session))) throw new CliExit(ExitCode.Error, 'session expired');
    await ctx.call('/v3/lock/unlock', { key: codec.b64(lock.key) });
    ctx.io.interruptHandled?.();
  } finally {
    await session.close();
  }
}

async function campaign(ctx: CommandContext, name: string, proposal: string): Promise<void> {
  const stop = interruption(ctx);
  const session = await Session.open(ctx, electSessionTtlSeconds);
  try {
    const body = { name: codec.b64(Buffer.from(name)), lease: session.leaseId.toString(), value: codec.b64(Buffer.from(proposal)) };
    const raw = await blockingCall(ctx, '/v3/election/campaign', body, stop).catch((e: unknown) => { if (stop.aborted) return null; throw e; });
    if (raw === null) return;
    const leader = codec.campaignResponse(raw).leader;
    ctx.printer.get(await getKey(ctx, leader.key));
    if (!(await holdUntil(stop, session))) throw new CliExit(ExitCode.Error, 'elect: session expired');
    const leaderJson = { name: codec.b64(leader.name), key: codec.b64(leader.key), rev: leader.rev.toString(), lease: leader.lease.toString() };
    await ctx.call('/v3/election/resign', { leader: leaderJson });
    ctx.io.interruptHandled?.();
  } finally {
    await session.close();
  }
}

async function observe(ctx: CommandContext, name: string): Promise<void> {
  const stop = interruption(ctx);
  const client = await ctx.client();
  async function* one(): AsyncGenerator<unknown> { yield { name: codec.b64(Buffer.from(name)) }; }
  try {
    for await (const raw of client.stream('/v3/election/observe', one(), stop)) {
      const r = codec.leaderResponse(raw);
      ctx.printer.get({ header: r.header, kvs: r.kv ? [r.kv] : [], more: false, count: r.kv ? 1n : 0n });
    }
  } catch (e) {
    if (!stop.aborted) throw e;
  }
  if (!stop.aborted) throw new CliExit(ExitCode.Error, 'elect: observer lost');
}

async function runElect(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 1);
  if (args.length !== 1 && args.length !== 2) throw badArgs('elect takes one election name argument and an optional proposal argument');
  if (args.length === 1) {
    if (!flagBool(argv, 'listen')) throw badArgs('no proposal argument but -l not set');
    return observe(ctx, args[0]);
  }
  return campaign(ctx, args[0], args[1]);
}

export const registerLockElect: Register = (y, select) => y
  .command('lock', 'Acquires a named lock', usage('lock <lockname> [exec-command arg1 arg2 ...]',
    (s) => s.option('ttl', { type: 'string', default: '10', describe: 'timeout for session' })),
  (a) => select(a as Args, (ctx) => runLock(ctx, a as Args)))
  .command('elect', 'Observes and participates in leader election', usage('elect <election-name> [proposal]',
    (s) => s.option('listen', { alias: 'l', type: 'boolean', default: false, describe: 'observation mode' })),
  (a) => select(a as Args, (ctx) => runElect(ctx, a as Args)));
