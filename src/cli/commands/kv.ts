/**
 * `put`, `get`, `del`: the key-value commands, with etcdctl 3.4's flags, argument checks and
 * messages (plus 3.5's `--count-only`). Also builds the request bodies `txn` reuses for its
 * put/get/del lines.
 *
 * Must never: print other than through the printer, or send a request before the arguments
 * are known to be valid.
 */
import type { Argv } from 'yargs';
import { flagBool, flagString, positionals, usage, type Args, type Register } from '../command.js';
import { readAll, type CommandContext } from '../context.js';
import { CliExit, ExitCode, badArgs } from '../exit.js';
import { b64, deleteRangeResponse, putResponse, rangeResponse } from '../gateway/codec.js';
import { parseGoInt } from '../go-parse.js';
import { FieldsPrinter } from '../printers/fields.js';
import { SimplePrinter, prefixRangeEnd } from '../printers/simple.js';

/** Largest value accepted from stdin: etcd's default request limit is 1.5 MiB. */
const maxStdinValueBytes = 64 * 1024 * 1024;
const fromKeyEnd = Buffer.from([0]);

export interface PutOp { key: Buffer; value: Buffer; lease: bigint; prevKv: boolean; ignoreValue: boolean; ignoreLease: boolean }
export interface RangeOp {
  key: Buffer; rangeEnd?: Buffer; limit: bigint; revision: bigint; sortOrder: string; sortTarget: string;
  serializable: boolean; keysOnly: boolean; countOnly: boolean;
}
export interface DeleteOp { key: Buffer; rangeEnd?: Buffer; prevKv: boolean }

export function putFlags(y: Argv): Argv {
  return y
    .option('lease', { type: 'string', default: '0', describe: 'lease ID (in hexadecimal) to attach to the key' })
    .option('prev-kv', { type: 'boolean', default: false, describe: 'return the previous key-value pair before modification' })
    .option('ignore-value', { type: 'boolean', default: false, describe: 'updates the key using its current value' })
    .option('ignore-lease', { type: 'boolean', default: false, describe: 'updates the key using its current lease' });
}

export function getFlags(y: Argv): Argv {
  return y
    .option('consistency', { type: 'string', default: 'l', describe: 'Linearizable(l) or Serializable(s)' })
    .option('order', { type: 'string', default: '', describe: 'Order of results; ASCEND or DESCEND (ASCEND by default)' })
    .option('sort-by', { type: 'string', default: '', describe: 'Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION' })
    .option('limit', { type: 'string', default: '0', describe: 'Maximum number of results' })
    .option('prefix', { type: 'boolean', default: false, describe: 'Get keys with matching prefix' })
    .option('from-key', { type: 'boolean', default: false, describe: 'Get keys that are greater than or equal to the given key using byte compare' })
    .option('rev', { type: 'string', default: '0', describe: 'Specify the kv revision' })
    .option('keys-only', { type: 'boolean', default: false, describe: 'Get only the keys' })
    .option('count-only', { type: 'boolean', default: false, describe: 'Get only the count' })
    .option('print-value-only', { type: 'boolean', default: false, describe: 'Only write values when using the "simple" output format' });
}

export function delFlags(y: Argv): Argv {
  return y
    .option('prefix', { type: 'boolean', default: false, describe: 'delete keys with matching prefix' })
    .option('prev-kv', { type: 'boolean', default: false, describe: 'return deleted key-value pairs' })
    .option('from-key', { type: 'boolean', default: false, describe: 'delete keys that are greater than or equal to the given key using byte compare' });
}

/** An int64 flag, rejected with the text pflag uses for a bad value. */
export function int64Flag(argv: Args, name: string): bigint {
  const s = flagString(argv, name, '0');
  try {
    return parseGoInt(s, 10);
  } catch (e) {
    throw new CliExit(ExitCode.Error, `invalid argument ${JSON.stringify(s)} for "--${name}" flag: ${(e as Error).message.replace(/^strconv.ParseInt: /, '')}`, true);
  }
}

/** etcdctl's getPutOp: argument checks and options; the value may come from stdin. */
export function putOp(args: string[], argv: Args, stdinValue: Buffer | null): PutOp {
  if (args.length === 0) throw badArgs('put command needs 1 argument and input from stdin or 2 arguments');
  const ignoreValue = flagBool(argv, 'ignore-value');
  if (ignoreValue && args.length > 1) throw badArgs("put command needs only 1 argument when 'ignore-value' is set");
  let value: Buffer = Buffer.alloc(0);
  if (!ignoreValue) {
    if (args.length > 1) value = Buffer.from(args[1]);
    else if (stdinValue !== null && stdinValue.length > 0) value = stdinValue;
    else throw badArgs('put command needs 1 argument and input from stdin or 2 arguments');
  }
  let lease: bigint;
  try {
    lease = parseGoInt(flagString(argv, 'lease', '0'), 16);
  } catch (e) {
    throw badArgs(`bad lease ID (${(e as Error).message}), expecting ID in Hex`);
  }
  return {
    key: Buffer.from(args[0]), value, lease, prevKv: flagBool(argv, 'prev-kv'), ignoreValue,
    ignoreLease: flagBool(argv, 'ignore-lease'),
  };
}

export function putBody(op: PutOp): Record<string, unknown> {
  return {
    key: b64(op.key), value: b64(op.value), lease: op.lease.toString(), prev_kv: op.prevKv,
    ignore_value: op.ignoreValue, ignore_lease: op.ignoreLease,
  };
}

const sortOrders: Record<string, string> = { '': 'NONE', ASCEND: 'ASCEND', DESCEND: 'DESCEND' };
const sortTargets: Record<string, string> = { '': 'KEY', CREATE: 'CREATE', KEY: 'KEY', MODIFY: 'MOD', VALUE: 'VALUE', VERSION: 'VERSION' };

/** etcdctl's getGetOp. */
export function rangeOp(args: string[], argv: Args): RangeOp {
  if (args.length === 0 || args.length > 2) throw badArgs('get command needs one argument as key and an optional argument as range_end');
  const prefix = flagBool(argv, 'prefix');
  const fromKey = flagBool(argv, 'from-key');
  if (prefix && fromKey) throw badArgs('`--prefix` and `--from-key` cannot be set at the same time, choose one');
  const keysOnly = flagBool(argv, 'keys-only');
  const countOnly = flagBool(argv, 'count-only');
  if (keysOnly && countOnly) throw badArgs('`--keys-only` and `--count-only` cannot be set at the same time, choose one');
  const consistency = flagString(argv, 'consistency', 'l');
  if (consistency !== 'l' && consistency !== 's') throw new CliExit(ExitCode.BadFeature, `unknown consistency flag ${JSON.stringify(consistency)}`);
  const op: RangeOp = {
    key: Buffer.from(args[0]), limit: int64Flag(argv, 'limit'), revision: int64Flag(argv, 'rev'),
    sortOrder: 'NONE', sortTarget: 'KEY', serializable: consistency === 's', keysOnly, countOnly,
  };
  if (args.length > 1) {
    if (prefix || fromKey) throw badArgs('too many arguments, only accept one argument when `--prefix` or `--from-key` is set');
    op.rangeEnd = Buffer.from(args[1]);
  }
  const order = sortOrders[flagString(argv, 'order').toUpperCase()];
  if (order === undefined) throw new CliExit(ExitCode.BadFeature, `bad sort order ${flagString(argv, 'order')}`);
  const target = sortTargets[flagString(argv, 'sort-by').toUpperCase()];
  if (target === undefined) throw new CliExit(ExitCode.BadFeature, `bad sort target ${flagString(argv, 'sort-by')}`);
  // clientv3.WithSort: ascending by key is the natural order, sent as no sort at all.
  op.sortOrder = target === 'KEY' && order === 'ASCEND' ? 'NONE' : order;
  op.sortTarget = target;
  applyPrefixOrFromKey(op, prefix, fromKey);
  return op;
}

function applyPrefixOrFromKey(op: { key: Buffer; rangeEnd?: Buffer }, prefix: boolean, fromKey: boolean): void {
  if (prefix) {
    if (op.key.length === 0) { op.key = Buffer.from([0]); op.rangeEnd = fromKeyEnd; } else op.rangeEnd = prefixRangeEnd(op.key);
  }
  if (fromKey) {
    if (op.key.length === 0) op.key = Buffer.from([0]);
    op.rangeEnd = fromKeyEnd;
  }
}

export function rangeBody(op: RangeOp): Record<string, unknown> {
  const body: Record<string, unknown> = { key: b64(op.key) };
  if (op.rangeEnd) body.range_end = b64(op.rangeEnd);
  if (op.limit !== 0n) body.limit = op.limit.toString();
  if (op.revision > 0n) body.revision = op.revision.toString();
  if (op.sortOrder !== 'NONE') body.sort_order = op.sortOrder;
  if (op.sortTarget !== 'KEY') body.sort_target = op.sortTarget;
  if (op.serializable) body.serializable = true;
  if (op.keysOnly) body.keys_only = true;
  if (op.countOnly) body.count_only = true;
  return body;
}

/** etcdctl's getDelOp. */
export function deleteOp(args: string[], argv: Args): DeleteOp {
  if (args.length === 0 || args.length > 2) throw badArgs('del command needs one argument as key and an optional argument as range_end');
  const prefix = flagBool(argv, 'prefix');
  const fromKey = flagBool(argv, 'from-key');
  if (prefix && fromKey) throw badArgs('`--prefix` and `--from-key` cannot be set at the same time, choose one');
  const op: DeleteOp = { key: Buffer.from(args[0]), prevKv: flagBool(argv, 'prev-kv') };
  if (args.length > 1) {
    if (prefix || fromKey) throw badArgs('too many arguments, only accept one argument when `--prefix` or `--from-key` is set');
    op.rangeEnd = Buffer.from(args[1]);
  }
  applyPrefixOrFromKey(op, prefix, fromKey);
  return op;
}

export function deleteBody(op: DeleteOp): Record<string, unknown> {
  const body: Record<string, unknown> = { key: b64(op.key) };
  if (op.rangeEnd) body.range_end = b64(op.rangeEnd);
  if (op.prevKv) body.prev_kv = true;
  return body;
}

async function runPut(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 1);
  const needsStdin = args.length === 1 && !flagBool(argv, 'ignore-value');
  const op = putOp(args, argv, needsStdin ? await readAll(ctx.io, maxStdinValueBytes) : null);
  const r = putResponse(await ctx.call('/v3/kv/put', putBody(op)));
  ctx.printer.put(r);
}

async function runGet(ctx: CommandContext, argv: Args): Promise<void> {
  const op = rangeOp(positionals(argv, 1), argv);
  const r = rangeResponse(await ctx.call('/v3/kv/range', rangeBody(op)));
  if (op.countOnly && !(ctx.printer instanceof FieldsPrinter)) throw badArgs('--count-only is only for `--write-out=fields`');
  if (flagBool(argv, 'print-value-only')) {
    if (!(ctx.printer instanceof SimplePrinter)) throw badArgs('print-value-only is only for `--write-out=simple`');
    ctx.valueOnlyPrinter().get(r);
    return;
  }
  ctx.printer.get(r);
}

async function runDel(ctx: CommandContext, argv: Args): Promise<void> {
  const op = deleteOp(positionals(argv, 1), argv);
  ctx.printer.del(deleteRangeResponse(await ctx.call('/v3/kv/deleterange', deleteBody(op))));
}

export const registerKv: Register = (y, select) => y
  .command('put', 'Puts the given key into the store', usage('put [options] <key> <value> (<value> can also be given from stdin)', putFlags),
    (a) => select(a as Args, (ctx) => runPut(ctx, a as Args)))
  .command('get', 'Gets the key or a range of keys', usage('get [options] <key> [range_end]', getFlags),
    (a) => select(a as Args, (ctx) => runGet(ctx, a as Args)))
  .command('del', 'Removes the specified key or range of keys [key, range_end)', usage('del [options] <key> [range_end]', delFlags),
    (a) => select(a as Args, (ctx) => runDel(ctx, a as Args)));
