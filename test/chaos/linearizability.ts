/**
 * A linearizability checker for per-key registers (read, write, compare-and-set, delete, and a
 * conditional delete for lease expiry), in the manner of Wing & Gong as improved by Lowe (and as
 * Porcupine and Knossos do it): per key, walk the history's call and return entries in real-time
 * order, linearize a pending call when the model accepts it, backtrack when a return is reached
 * whose call was not linearized yet, and remember every (set of linearized ops, register state)
 * already explored so no configuration is searched twice.
 *
 * An indeterminate operation (a timeout, a reset connection, an error that does not say the
 * request was refused) may have taken effect at any time after its invoke, or never: it gets a
 * return at +infinity, and its model step accepts whatever its outcome would have been — so it
 * may be linearized anywhere after its call, including after everything (which is "never").
 *
 * Owns: the model and the search. Must never: read the clock, do I/O, or search without a bound
 * (`maxConfigurations` per key ends the search with `unknown`, never with a pass).
 */

/** The register's value; null when the key does not exist. */
export type RegisterValue = string | null;

export type RegisterOp =
  | { kind: 'read' }
  | { kind: 'write'; value: string }
  | { kind: 'cas'; expect: string; value: string }
  | { kind: 'delete' }
  /** A lease expiry: deletes the key if (and only if) it still holds `value`. */
  | { kind: 'expire'; value: string };

/** What an acknowledged operation returned. */
export type RegisterOutput =
  | { kind: 'read'; value: RegisterValue }
  | { kind: 'write' }
  | { kind: 'cas'; succeeded: boolean }
  | { kind: 'delete'; deleted: number };

export interface CheckedOp {
  /** An id unique in the history, to name ops in reports. */
  readonly id: number;
  readonly key: string;
  readonly op: RegisterOp;
  /** Monotonic nanoseconds. */
  readonly invokeNs: bigint;
  /** Monotonic nanoseconds; null = indeterminate (may have taken effect after invoke, or never). */
  readonly returnNs: bigint | null;
  /** The acknowledged result; null when indeterminate. */
  readonly output: RegisterOutput | null;
}

export interface KeyVerdict {
  readonly key: string;
  readonly ops: number;
  readonly result: 'ok' | 'illegal' | 'unknown';
  /** Configurations explored by the search. */
  readonly configurations: number;
  /** When illegal: the op at which the deepest linearization got stuck, for the report. */
  readonly stuckAt?: CheckedOp;
  readonly deepestLinearized?: number;
}

export interface Verdict {
  readonly result: 'ok' | 'illegal' | 'unknown';
  readonly keys: KeyVerdict[];
}

/**
 * Default bound on configurations explored for one key before answering `unknown`. Each memo
 * entry holds a bitset of the key's ops (a 10,000-op key: 1.25 KB), so this bounds memory too.
 */
export const defaultMaxConfigurations = 300_000;

/**
 * One model step: the next state if the op, with this output, could take effect on `state`;
 * undefined if it could not. An indeterminate op (output null) is always accepted.
 */
export function step(state: RegisterValue, op: RegisterOp, output: RegisterOutput | null): RegisterValue | undefined {
  switch (op.kind) {
    case 'read':
      if (output === null) return state;
      return output.kind === 'read' && output.value === state ? state : undefined;
    case 'write':
      return op.value;
    case 'cas': {
      const matches = state === op.expect;
      if (output === null) return matches ? op.value : state;
      if (output.kind !== 'cas' || output.succeeded !== matches) return undefined;
      return matches ? op.value : state;
    }
    case 'delete':
      if (output !== null && (output.kind !== 'delete' || output.deleted !== (state === null ? 0 : 1))) return undefined;
      return null;
    case 'expire':
      return state === op.value ? null : state;
  }
}

interface Entry {
  readonly op: number; // index into the key's ops
  readonly isCall: boolean;
  readonly timeNs: bigint;
  match: Entry | null; // a call's return entry
  prev: Entry | null;
  next: Entry | null;
}

const infinityNs = 1n << 80n;

function buildEntries(ops: readonly CheckedOp[]): Entry {
  const raw: Entry[] = [];
  ops.forEach((o, i) => {
    const call: Entry = { op: i, isCall: true, timeNs: o.invokeNs, match: null, prev: null, next: null };
    const ret: Entry = { op: i, isCall: false, timeNs: o.returnNs ?? infinityNs, match: null, prev: null, next: null };
    call.match = ret;
    raw.push(call, ret);
  });
  // Calls before returns at equal times: two ops that touch at an instant count as concurrent.
  raw.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, timeNs: -1n, match: null, prev: null, next: null };
  let last = head;
  for (const e of raw) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Unlink a call and its return from the list. */
function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Relink them, in the reverse order of lift. */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

class Bitset {
  private readonly words: Uint32Array;
  constructor(bits: number) {
    this.words = new Uint32Array(Math.ceil(bits / 32) || 1);
  }
  set(i: number): void { this.words[i >>> 5] |= 1 << (i & 31); }
  clear(i: number): void { this.words[i >>> 5] &= ~(1 << (i & 31)); }
  /** A compact text form for the memo table. */
  key(): string {
    return Buffer.from(this.words.buffer, this.words.byteOffset, this.words.byteLength).toString('latin1');
  }
}

/** Check one key's ops (all of the same key), starting from `initial`. */
export function checkKey(
  key: string, ops: readonly CheckedOp[], initial: RegisterValue = null, maxConfigurations = defaultMaxConfigurations,
): KeyVerdict {
  const head = buildEntries(ops);
  const linearized = new Bitset(ops.length);
  const seen = new Set<string>();
  const calls: Array<{ entry: Entry; state: RegisterValue }> = [];
  let state = initial;
  let entry = head.next;
  let configurations = 0;
  let deepest = 0;
  let stuckAt: CheckedOp | undefined;
  while (head.next !== null) {
    if (entry === null) throw new Error('checker: walked off the end of the history (a call without a return)');
    if (entry.isCall) {
      const o = ops[entry.op];
      const next = step(state, o.op, o.output);
      if (next !== undefined) {
        linearized.set(entry.op);
        const memo = `${linearized.key()}|${next === null ? '\u0000' : `=${next}`}`;
        if (!seen.has(memo)) {
          seen.add(memo);
          if (++configurations > maxConfigurations) return { key, ops: ops.length, result: 'unknown', configurations };
          calls.push({ entry, state });
          if (calls.length > deepest) deepest = calls.length;
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized.clear(entry.op);
      }
      entry = entry.next;
    } else {
      // A return whose call is still pending: undo the last linearization and try the next call.
      if (calls.length === deepest && stuckAt === undefined) stuckAt = ops[entry.op];
      const top = calls.pop();
      if (top === undefined) {
        return { key, ops: ops.length, result: 'illegal', configurations, stuckAt: stuckAt ?? ops[entry.op], deepestLinearized: deepest };
      }
      state = top.state;
      linearized.clear(top.entry.op);
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return { key, ops: ops.length, result: 'ok', configurations };
}

/** Check every key's register on its own (linearizability is compositional). */
export function checkHistory(ops: readonly CheckedOp[], maxConfigurations = defaultMaxConfigurations): Verdict {
  const byKey = new Map<string, CheckedOp[]>();
  for (const o of ops) {
    if (o.returnNs !== null && o.returnNs < o.invokeNs) throw new Error(`op ${o.id} returns before its invoke`);
    let list = byKey.get(o.key);
    if (!list) byKey.set(o.key, (list = []));
    list.push(o);
  }
  const keys = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, list]) => checkKey(key, list, null, maxConfigurations));
  const result = keys.some((k) => k.result === 'illegal') ? 'illegal' : keys.some((k) => k.result === 'unknown') ? 'unknown' : 'ok';
  return { result, keys };
}
