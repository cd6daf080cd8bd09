/**
 * `watch`: streams events from `POST /v3/watch` (newline-delimited JSON, one HTTP stream per
 * watcher), prints them with the chosen printer, optionally runs a command per event with
 * ETCD_WATCH_* variables, and the interactive mode reading `watch …` lines from stdin.
 * Behaviour and messages follow etcdctl 3.4.
 *
 * Must never: buffer events without bound (each event is printed before the next is read),
 * or exit 0 when the server ends the watch (etcdctl exits 5).
 */
import type { Argv } from 'yargs';
import { argify } from '../argify.js';
import { afterDashDash, flagBool, flagString, positionalsBeforeDashDash, usage, type Args, type Register } from '../command.js';
import { lineReader, type CommandContext } from '../context.js';
import { CliExit, ExitCode, badArgs } from '../exit.js';
import { b64, rangeResponse, watchResponse } from '../gateway/codec.js';
import type { WatchResponse } from '../gateway/types.js';
import { goQuote } from '../printers/go-format.js';
import { prefixRangeEnd } from '../printers/simple.js';
import { execErrorText, quoteArgs, runUserCommand } from './exec.js';
import { int64Flag } from './kv.js';

interface WatchSpec { key: string; rangeEnd?: string; prefix: boolean; prevKv: boolean; rev: bigint; progressNotify: boolean }

/** Most interactive watchers one cairnctl keeps open (each is one HTTP stream). */
const maxInteractiveWatchers = 64;

function watchFlags(y: Argv): Argv {
  return y
    .option('interactive', { alias: 'i', type: 'boolean', default: false, describe: 'Interactive mode' })
    .option('prefix', { type: 'boolean', default: false, describe: 'Watch on a prefix if prefix is set' })
    .option('rev', { type: 'string', default: '0', describe: 'Revision to start watching' })
    .option('prev-kv', { type: 'boolean', default: false, describe: 'get the previous key-value pair before the event happens' })
    .option('progress-notify', { type: 'boolean', default: false, describe: 'get periodic watch progress notification from server' });
}

/** etcdctl's parseWatchArgs: key and range end from arguments or ETCDCTL_WATCH_KEY/RANGE_END. */
function watchArgs(args: string[], dashDash: string[] | null, env: Record<string, string | undefined>): string[] {
  if (dashDash !== null && dashDash.length === 0) throw badArgs('bad number of arguments (found separator --, but no commands)');
  const envKey = env.ETCDCTL_WATCH_KEY ?? '';
  const envRange = env.ETCDCTL_WATCH_RANGE_END ?? '';
  if (envKey !== '') {
    if (args.length > 0) throw badArgs('bad number of arguments (found conflicting environment key)');
    return envRange !== '' ? [envKey, envRange] : [envKey];
  }
  if (args.length < 1 || args.length > 2) throw badArgs('bad number of arguments');
  return args;
}

function specOf(args: string[], argv: Args): WatchSpec {
  if (args.length === 2 && flagBool(argv, 'prefix')) throw badArgs('`range_end` and `--prefix` are mutually exclusive');
  return {
    key: args[0], rangeEnd: args[1], prefix: flagBool(argv, 'prefix'), prevKv: flagBool(argv, 'prev-kv'),
    rev: int64Flag(argv, 'rev'), progressNotify: flagBool(argv, 'progress-notify'),
  };
}

function createRequest(s: WatchSpec): Record<string, unknown> {
  const key = Buffer.from(s.key);
  const req: Record<string, unknown> = { key: b64(key) };
  if (s.rangeEnd !== undefined) req.range_end = b64(Buffer.from(s.rangeEnd));
  if (s.prefix) req.range_end = key.length === 0 ? b64(Buffer.from([0])) : b64(prefixRangeEnd(key));
  if (s.rev > 0n) req.start_revision = s.rev.toString();
  if (s.prevKv) req.prev_kv = true;
  if (s.progressNotify) req.progress_notify = true;
  return { create_request: req };
}

function isProgressNotify(r: WatchResponse): boolean {
  return r.events.length === 0 && !r.canceled && !r.created && r.compactRevision === 0n && r.header.revision !== 0n;
}

function cancelMessage(r: WatchResponse): string {
  if (r.compactRevision > 0n) return 'etcdserver: mvcc: required revision has been compacted';
  return r.cancelReason !== '' ? r.cancelReason : 'watch canceled';
}

/** Prints one watch stream until it ends or the command is interrupted; false if the server canceled it. */
async function printWatch(ctx: CommandContext, spec: WatchSpec, exec: string[], stop: AbortSignal): Promise<boolean> {
  const client = await ctx.client();
  // The request body ends after the create request: etcd's gateway (Go's HTTP/1 server) holds
  // the response until the body is complete, and keeps the watch open afterwards.
  async function* requests(): AsyncGenerator<unknown> {
    yield createRequest(spec);
  }
  try {
    for await (const raw of client.stream('/v3/watch', requests(), stop)) {
      const r = watchResponse(raw);
      if (r.created && r.events.length === 0 && !r.canceled) continue;
      if (r.canceled) ctx.io.err(`watch was canceled (${cancelMessage(r)})\n`);
      if (isProgressNotify(r)) ctx.io.out(`progress notify: ${r.header.revision}\n`);
      ctx.printer.watch(r);
      if (exec.length > 0) await runPerEvent(ctx, r, exec, stop);
      if (r.canceled) return false;
    }
  } catch (e) {
    if (!stop.aborted) throw e;
  }
  return stop.aborted;
}

async function runPerEvent(ctx: CommandContext, r: WatchResponse, exec: string[], stop: AbortSignal): Promise<void> {
  for (const ev of r.events) {
    const env = {
      ETCD_WATCH_REVISION: String(r.header.revision), ETCD_WATCH_EVENT_TYPE: JSON.stringify(ev.type),
      ETCD_WATCH_KEY: goQuote(ev.kv.key), ETCD_WATCH_VALUE: goQuote(ev.kv.value),
    };
    const res = await runUserCommand(ctx.io, exec, env, stop);
    const err = execErrorText(res, exec[0]);
    if (err !== null && !stop.aborted) {
      ctx.io.err(`command ${quoteArgs(exec)} error (${err})\n`);
      throw new CliExit(ExitCode.Error, '');
    }
  }
}

function interruption(ctx: CommandContext): AbortController {
  const ctl = new AbortController();
  void ctx.io.interrupted.then(() => ctl.abort());
  return ctl;
}

async function runWatch(ctx: CommandContext, argv: Args): Promise<void> {
  const env = ctx.io.env;
  if ((env.ETCDCTL_WATCH_KEY ?? '') === '' && (env.ETCDCTL_WATCH_RANGE_END ?? '') !== '') {
    throw badArgs(`ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=${JSON.stringify(env.ETCDCTL_WATCH_RANGE_END)}`);
  }
  if (flagBool(argv, 'interactive')) return runInteractive(ctx, argv);
  const dashDash = ctx.rawArgs.includes('--') ? afterDashDash(argv) : null;
  const spec = specOf(watchArgs(positionalsBeforeDashDash(argv, 1), dashDash, env), argv);
  const stop = interruption(ctx);
  const interrupted = await printWatch(ctx, spec, dashDash ?? [], stop.signal);
  if (!interrupted) throw new CliExit(ExitCode.Interrupted, 'watch is canceled by the server');
}

/** Interactive mode: each stdin line `watch [options] key [range_end]` starts one more watcher. */
async function runInteractive(ctx: CommandContext, argv: Args): Promise<void> {
  const stop = interruption(ctx);
  const watchers: Promise<unknown>[] = [];
  const lines = lineReader(ctx.io);
  const interrupted = ctx.io.interrupted.then(() => null);
  for (;;) {
    // Reading stdin must not keep an interrupted cairnctl alive.
    const next = await Promise.race([lines.next(), interrupted]);
    if (next === null || next.done) break;
    const rawLine = next.value;
    if (!rawLine.endsWith('\n')) break;
    const line = rawLine.replace(/\n$/, '');
    const args = argify(line);
    if (args.length < 1) { ctx.io.err(`Invalid command: ${line} (watch and progress supported)\n`); continue; }
    if (args[0] === 'progress') { await progressNotify(ctx, watchers.length); continue; }
    if (args[0] !== 'watch') { ctx.io.err(`Invalid command ${line} (only support watch)\n`); continue; }
    const spec = interactiveSpec(ctx, line, args.slice(1), argv);
    if (spec === null) continue;
    if (watchers.length >= maxInteractiveWatchers) { ctx.io.err(`Invalid command ${line} (too many watchers)\n`); continue; }
    watchers.push(printWatch(ctx, spec, [], stop.signal).catch((e: Error) => ctx.io.err(`Error: ${e.message}\n`)));
  }
  if (!stop.signal.aborted) {
    stop.abort();
    await Promise.allSettled(watchers);
    throw new CliExit(ExitCode.InvalidInput, 'Error reading watch request line: EOF');
  }
  await Promise.allSettled(watchers);
}

/**
 * `progress` in interactive mode. Each watcher has its own HTTP stream whose request body has
 * ended, so no progress request can be sent on it; a synced watcher's progress is the store's
 * current revision, which one read gives (documented difference: etcd answers per stream).
 */
async function progressNotify(ctx: CommandContext, watcherCount: number): Promise<void> {
  if (watcherCount === 0) return;
  const r = rangeResponse(await ctx.call('/v3/kv/range', { key: b64(Buffer.from([0])), count_only: true, serializable: false }));
  for (let i = 0; i < watcherCount; i++) ctx.io.out(`progress notify: ${r.header.revision}\n`);
}

function interactiveSpec(ctx: CommandContext, line: string, words: string[], argv: Args): WatchSpec | null {
  const flags: Args = { _: [], prefix: flagBool(argv, 'prefix'), 'prev-kv': flagBool(argv, 'prev-kv'), rev: flagString(argv, 'rev', '0') };
  const rest: string[] = [];
  for (const w of words) {
    if (w === '--prefix') flags.prefix = true;
    else if (w === '--prev-kv') flags['prev-kv'] = true;
    else if (w.startsWith('--rev=')) flags.rev = w.slice(6);
    else if (w.startsWith('--')) { ctx.io.err(`Invalid command ${line} (unknown flag: ${w})\n`); return null; }
    else rest.push(w);
  }
  if (rest.length < 1 && (ctx.io.env.ETCDCTL_WATCH_KEY ?? '') === '') {
    ctx.io.err(`Invalid command ${line} (command type or key is not provided)\n`);
    return null;
  }
  try {
    return specOf(watchArgs(rest, null, ctx.io.env), flags);
  } catch (e) {
    ctx.io.err(`Invalid command ${line} (${(e as Error).message})\n`);
    return null;
  }
}

export const registerWatch: Register = (y, select) => y.command('watch', 'Watches events stream on keys or prefixes',
  usage('watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]', watchFlags),
  (a) => select(a as Args, (ctx) => runWatch(ctx, a as Args)));
