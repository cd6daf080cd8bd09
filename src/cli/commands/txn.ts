/**
 * `txn`: reads compares, success ops and failure ops from stdin in etcdctl's format (blank
 * line between sections; `-i` prints the prompts), sends one `/v3/kv/txn`, prints the result.
 *
 * Must never: send a transaction built from a line it could not parse (the whole txn fails).
 */
import { argify } from '../argify.js';
import { flagBool, positionals, usage, type Args, type Register } from '../command.js';
import { lineReader, type CommandContext } from '../context.js';
import { CliExit, badArgs, invalidInput } from '../exit.js';
import { b64, txnResponse } from '../gateway/codec.js';
import { parseGoInt } from '../go-parse.js';
import { goQuote } from '../printers/go-format.js';
import { deleteBody, deleteOp, putBody, putOp, rangeBody, rangeOp } from './kv.js';

/** Most lines one section may hold; etcd's default limit is 128 operations per txn. */
const maxLinesPerSection = 10_000;

const resultOf: Record<string, string> = { '=': 'EQUAL', '!=': 'NOT_EQUAL', '>': 'GREATER', '<': 'LESS' };

/** A Go string literal at the start of `s` (as fmt's %q scans it): [value, rest] or null. */
function scanQuoted(s: string): [string, string] | null {
  const m = /^\s*("(?:[^"\\]|\\.)*"|`[^`]*`)/.exec(s);
  if (!m) return null;
  const lit = m[1];
  const value = lit.startsWith('`') ? lit.slice(1, -1) : argify(lit)[0] ?? '';
  return [value, s.slice(m[0].length)];
}

/** etcdctl's compare syntax: `target("key") op "value"`. */
export function parseCompare(line: string): Record<string, unknown> {
  const paren = line.indexOf('(');
  if (paren < 0) throw invalidInput(`malformed comparison: ${line}`);
  const target = line.slice(0, paren);
  let key = '', op = '', val = '', n = 0;
  const k = scanQuoted(line.slice(paren + 1));
  if (k) {
    key = k[0]; n = 1;
    const m = /^\)\s+(\S+)/.exec(k[1]);
    if (m) {
      op = m[1]; n = 2;
      const v = scanQuoted(k[1].slice(m[0].length));
      if (v) { val = v[0]; n = 3; }
    }
  }
  if (n !== 3) throw invalidInput(`malformed comparison: ${line}; got ${target}(${goQuote(key)}) ${op} ${goQuote(val)}`);
  const result = resultOf[op];
  if (result === undefined) throw invalidInput(`malformed comparison: ${line} (unknown op ${op})`);
  const cmp: Record<string, unknown> = { result, key: b64(Buffer.from(key)) };
  const num = (base: 10 | 16): string => {
    try {
      return parseGoInt(val, base).toString();
    } catch {
      throw invalidInput(`invalid txn compare request: ${line}`);
    }
  };
  switch (target) {
    case 'ver': case 'version': return { ...cmp, target: 'VERSION', version: num(10) };
    case 'c': case 'create': return { ...cmp, target: 'CREATE', create_revision: num(10) };
    case 'm': case 'mod': return { ...cmp, target: 'MOD', mod_revision: num(10) };
    case 'val': case 'value': return { ...cmp, target: 'VALUE', value: b64(Buffer.from(val)) };
    case 'lease': return { ...cmp, target: 'LEASE', lease: num(16) };
  }
  throw invalidInput(`malformed comparison: ${line} (unknown target ${target})`);
}

const stringFlags = new Set(['lease', 'consistency', 'order', 'sort-by', 'limit', 'rev']);
const boolFlags: Record<string, string[]> = {
  put: ['prev-kv', 'ignore-value', 'ignore-lease'],
  get: ['prefix', 'from-key', 'keys-only', 'count-only', 'print-value-only'],
  del: ['prefix', 'prev-kv', 'from-key'],
};
const stringFlagsOf: Record<string, string[]> = { put: ['lease'], get: ['consistency', 'order', 'sort-by', 'limit', 'rev'], del: [] };

/** One `put|get|del …` line, parsed with the same flags as the commands themselves. */
export function parseRequestOp(line: string): Record<string, unknown> {
  const args = argify(line);
  if (args.length < 2) throw invalidInput(`invalid txn compare request: ${line}`);
  const [cmd, ...rest] = args;
  const bad = (): CliExit => invalidInput(`invalid txn request: ${line}`);
  if (!(cmd in boolFlags)) throw bad();
  const argv: Args = { _: [cmd] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) { argv._.push(a); continue; }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (boolFlags[cmd].includes(name)) argv[name] = inline === undefined ? true : inline === 'true';
    else if (stringFlagsOf[cmd].includes(name) && stringFlags.has(name)) argv[name] = inline ?? rest[++i];
    else throw bad();
  }
  const pos = positionals(argv, 1);
  if (cmd === 'put') {
    return { request_put: putBody(putOp(pos, argv, null)) };
  }
  if (cmd === 'get') return { request_range: rangeBody(rangeOp(pos, argv)) };
  return { request_delete_range: deleteBody(deleteOp(pos, argv)) };
}

async function readSection<T>(ctx: CommandContext, parse: (line: string) => T): Promise<T[]> {
  const out: T[] = [];
  const lines = lineReader(ctx.io);
  for (let i = 0; i < maxLinesPerSection; i++) {
    const next = await lines.next();
    if (next.done || !next.value.endsWith('\n')) throw invalidInput('EOF');
    const line = next.value.trim();
    if (line === '') return out;
    out.push(parse(line));
  }
  throw invalidInput(`more than ${maxLinesPerSection} lines in one txn section`);
}

async function runTxn(ctx: CommandContext, argv: Args): Promise<void> {
  if (positionals(argv, 1).length !== 0) throw badArgs('txn command does not accept argument');
  const interactive = flagBool(argv, 'interactive');
  const prompt = (s: string): void => { if (interactive) ctx.io.out(s + '\n'); };
  prompt('compares:');
  const compare = await readSection(ctx, parseCompare);
  prompt('success requests (get, put, del):');
  const success = await readSection(ctx, parseRequestOp);
  prompt('failure requests (get, put, del):');
  const failure = await readSection(ctx, parseRequestOp);
  const r = await ctx.call('/v3/kv/txn', { compare, success, failure });
  ctx.printer.txn(txnResponse(r));
}

export const registerTxn: Register = (y, select) => y.command('txn', 'Txn processes all the requests in one transaction',
  usage('txn [options]', (s) => s.option('interactive', { alias: 'i', type: 'boolean', default: false, describe: 'Input transaction in interactive mode' })
    .epilog('Reads compares, then success requests, then failure requests from stdin, one per line, sections ended by an empty line:\n'
      + '  mod("key1") > "0"\n\n  put key1 "overwrote-key1"\n\n  put key1 "created-key1"\n  put key2 "some extra key"\n')),
  (a) => select(a as Args, (ctx) => runTxn(ctx, a as Args)));

