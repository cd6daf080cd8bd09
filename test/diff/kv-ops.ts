/**
 * The differential test's request generator: a seeded random sequence of etcd v3 KV gateway
 * requests (put, deleterange, range, txn, compaction, and malformed or invalid input) over a
 * small key space so that operations collide. It reads the reference server's current and
 * compacted revisions (from `DiffState`) to aim historical reads, compares and compactions at
 * revisions that exist, so the sequence depends only on the seed and the reference's answers.
 *
 * Owns request construction. Must never look at the server under test's answers (that would
 * make a divergence change the sequence) and never create leases (their IDs are not
 * deterministic across servers).
 */
import { b64, prefixEnd } from '../support/gateway.js';
import { CompareResult, CompareTarget, Encoder, SortOrder, SortTarget } from './kv-encoding.js';
import type { Rng } from './rng.js';

export interface DiffState {
  /** The reference server's revision, from its last response header. */
  revision: bigint;
  /** The last revision compacted on the reference (0 before any compaction). */
  compactRevision: bigint;
}

export interface DiffOp {
  readonly kind: string;
  readonly path: string;
  /** Sent as is (it may be deliberately malformed). */
  readonly body: string;
  /**
   * 'decode-error': the reference rejects this in its JSON decoder; the texts are those of
   * Go's encoding/json and the protobuf JSON decoder (e.g. "invalid character 'b' looking for
   * beginning of object key string"), which no client acts on. Only status, gRPC code and the
   * error/message shape are compared.
   */
  readonly relax?: 'decode-error';
  /** For a compaction: the revision it asks for (recorded in the state when it succeeds). */
  readonly compactTo?: bigint;
}

/** Twelve keys: etcd sorts with insertion sort (stable) up to 12 items, so ties on a non-key
 * sort target come out in key order and can be compared exactly. Two keys are not UTF-8. */
const keyBytes: readonly Uint8Array[] = [
  ...['a', 'a/1', 'a/2', 'a/3', 'b', 'b/1', 'b/2', 'ba', 'c', 'c/1'].map((k) => Buffer.from(k)),
  Uint8Array.of(0x64, 0x00), Uint8Array.of(0xff, 0xfe),
];
/** Range bounds: the keys plus points between and around them. */
const boundBytes: readonly Uint8Array[] = [
  ...keyBytes, ...['a/', 'a0', 'b/', 'b0', 'bb', 'c0', '0', 'z', 'd'].map((k) => Buffer.from(k)),
];
const prefixes = ['a', 'a/', 'b', 'b/', 'c', 'd'];
const values: readonly Uint8Array[] = [
  Buffer.from(''), Buffer.from('x'), Buffer.from('y'), Buffer.from('hello'), Buffer.from('value-with-more-bytes'),
  Uint8Array.of(0, 1, 2, 0xff), Buffer.from('ünïcødé'),
];
const zeroKey = b64(Uint8Array.of(0));
/** etcd's default --max-txn-ops is 128. */
const maxTxnOps = 128;
const maxTxnDepth = 2;
/** Follow-up requests queued after a compaction; bounded because the queue is refilled only there. */
const maxPendingOps = 16;

export class KvOpGenerator {
  private readonly pending: DiffOp[] = [];
  private readonly compactAt: ReadonlySet<number>;

  constructor(private readonly rng: Rng, private readonly enc: Encoder, totalOps: number) {
    // One or two compactions midway, so reads before and after them are both exercised.
    const points = totalOps >= 40 ? [Math.floor(totalOps * 0.35), Math.floor(totalOps * 0.7)] : [Math.floor(totalOps / 2)];
    this.compactAt = new Set(points);
  }

  next(index: number, state: DiffState): DiffOp {
    const queued = this.pending.shift();
    if (queued !== undefined) return queued;
    if (this.compactAt.has(index) && state.revision > state.compactRevision + 1n) return this.scheduledCompaction(state);
    return this.rng.weighted<() => DiffOp>([
      [24, () => this.put(state)],
      [9, () => this.deleteRange()],
      [30, () => this.range(state)],
      [20, () => this.txn(state)],
      [2, () => this.compactionError(state)],
      [8, () => this.badInput(state)],
    ])();
  }

  // ---- pieces ----

  private key(): string {
    return b64(this.rng.pick(keyBytes));
  }

  private value(): string {
    return b64(this.rng.pick(values));
  }

  /** A key or key range: single, prefix, [a, b), from-key, all keys. */
  private keyRange(): { key: string; range_end?: string } {
    const r = this.rng;
    return r.weighted<() => { key: string; range_end?: string }>([
      [5, () => ({ key: this.key() })],
      [3, () => { const p = r.pick(prefixes); return { key: b64(p), range_end: b64(prefixEnd(p)) }; }],
      [3, () => ({ key: b64(r.pick(boundBytes)), range_end: b64(r.pick(boundBytes)) })],
      [1, () => ({ key: b64(r.pick(boundBytes)), range_end: zeroKey })],
      [1, () => ({ key: zeroKey, range_end: zeroKey })],
    ])();
  }

  /** A revision to read at: mostly current (0), else historical, at or below compaction, future. */
  private readRevision(state: DiffState): bigint | undefined {
    const r = this.rng;
    const floor = state.compactRevision > 0n ? state.compactRevision : 1n;
    const choices: Array<readonly [number, () => bigint | undefined]> = [
      [12, () => undefined],
      [5, () => floor + BigInt(r.int(0, Number(state.revision - floor)))],
      [1, () => state.revision + BigInt(r.int(1, 3))],
    ];
    if (state.compactRevision > 0n) choices.push([1, () => state.compactRevision]);
    if (state.compactRevision > 1n) choices.push([1, () => BigInt(r.int(1, Number(state.compactRevision - 1n)))]);
    return r.weighted(choices)();
  }

  /** A revision near the live ones, for filters and compares. */
  private nearRevision(state: DiffState): bigint {
    return BigInt(this.rng.int(0, Number(state.revision) + 1));
  }

  private bool(p: number): boolean | undefined {
    if (this.rng.chance(p)) return true;
    return this.rng.chance(0.1) ? false : undefined; // an explicit false now and then
  }

  private maybeInt(p: number, make: () => bigint | number): string | number | undefined {
    return this.rng.chance(p) ? this.enc.int(make()) : undefined;
  }

  private op(kind: string, path: string, body: unknown, extra: Partial<DiffOp> = {}): DiffOp {
    return { kind, path, body: typeof body === 'string' ? body : JSON.stringify(body), ...extra };
  }

  // ---- puts, deletes, ranges ----

  private putBody(key = this.key(), noIgnoreFlags = false): Record<string, unknown> {
    const r = this.rng;
    const ignoreValue = !noIgnoreFlags && r.chance(0.08);
    return this.enc.obj({
      key,
      value: ignoreValue ? undefined : this.value(),
      lease: r.chance(0.15) ? this.enc.int(0) : undefined,
      prev_kv: this.bool(0.4),
      ignore_value: ignoreValue ? true : undefined,
      ignore_lease: noIgnoreFlags ? undefined : this.bool(0.08),
    });
  }

  private put(_state: DiffState): DiffOp {
    return this.op('put', '/v3/kv/put', this.putBody());
  }

  private deleteBody(keyRange = this.keyRange()): Record<string, unknown> {
    return this.enc.obj({ ...keyRange, prev_kv: this.bool(0.5) });
  }

  private deleteRange(): DiffOp {
    return this.op('deleterange', '/v3/kv/deleterange', this.deleteBody());
  }

  private rangeBody(state: DiffState): Record<string, unknown> {
    const r = this.rng;
    const e = this.enc;
    const sorted = r.chance(0.35);
    const revision = this.readRevision(state);
    return e.obj({
      ...this.keyRange(),
      limit: this.maybeInt(0.3, () => r.int(0, 5)),
      revision: revision === undefined ? undefined : e.int(revision),
      sort_order: sorted ? e.enumOf(SortOrder, r.pick(Object.keys(SortOrder))) : undefined,
      sort_target: sorted ? e.enumOf(SortTarget, r.pick(Object.keys(SortTarget))) : undefined,
      serializable: this.bool(0.1),
      keys_only: this.bool(0.15),
      count_only: this.bool(0.1),
      min_mod_revision: this.maybeInt(0.08, () => this.nearRevision(state)),
      max_mod_revision: this.maybeInt(0.08, () => this.nearRevision(state)),
      min_create_revision: this.maybeInt(0.08, () => this.nearRevision(state)),
      max_create_revision: this.maybeInt(0.08, () => this.nearRevision(state)),
    });
  }

  private range(state: DiffState): DiffOp {
    return this.op('range', '/v3/kv/range', this.rangeBody(state));
  }

  // ---- transactions ----

  private compare(state: DiffState): Record<string, unknown> {
    const r = this.rng;
    const e = this.enc;
    const target = r.pick(Object.keys(CompareTarget));
    const operand: Record<string, unknown> = {
      VERSION: { version: e.int(r.int(0, 4)) },
      CREATE: { create_revision: e.int(this.nearRevision(state)) },
      MOD: { mod_revision: e.int(this.nearRevision(state)) },
      VALUE: { value: this.value() },
      LEASE: { lease: e.int(r.chance(0.8) ? 0 : r.int(1, 1000)) },
    }[target] as Record<string, unknown>;
    const range = r.chance(0.2) ? this.keyRange() : { key: this.key() };
    return e.obj({
      result: e.enumOf(CompareResult, r.pick(Object.keys(CompareResult))),
      target: e.enumOf(CompareTarget, target),
      ...range,
      ...(r.chance(0.05) ? {} : operand), // a compare without an operand compares with zero
    });
  }

  /** One request op of a txn branch; `used` holds keys written so far, to keep duplicates rare. */
  private requestOp(state: DiffState, depth: number, used: Set<string>): Record<string, unknown> {
    const r = this.rng;
    const freshKey = (): string => {
      let k = this.key();
      for (let tries = 0; used.has(k) && tries < 8 && !r.chance(0.05); tries++) k = this.key();
      used.add(k);
      return k;
    };
    const kind = r.weighted<string>([[4, 'range'], [4, 'put'], [2, 'delete'], [depth < maxTxnDepth ? 1 : 0, 'txn']]);
    switch (kind) {
      case 'range': return this.enc.obj({ request_range: this.rangeBody(state) });
      // After a delete on the path, no ignore_value/ignore_lease: if the delete took the key
      // (nested txns escape etcd's duplicate-key check), etcd 3.4 panics mid-txn. Cairn refuses
      // such a txn with "key not found" (test/mvcc, test/api), which cannot be compared here.
      case 'put': return this.enc.obj({ request_put: this.putBody(freshKey(), this.deletedInTxn) });
      case 'delete': {
        this.deletedInTxn = true;
        const target = r.chance(0.8) ? { key: freshKey() } : this.keyRange();
        return this.enc.obj({ request_delete_range: this.deleteBody(target) });
      }
      default: return this.enc.obj({ request_txn: this.txnBody(state, depth + 1, used) });
    }
  }

  private txnBody(state: DiffState, depth: number, used: Set<string>): Record<string, unknown> {
    const r = this.rng;
    const branch = (): Record<string, unknown>[] | undefined => {
      const n = r.int(0, 3);
      // Each branch checks duplicates on its own; only one of them runs.
      const branchUsed = new Set(used);
      const ops = Array.from({ length: n }, () => this.requestOp(state, depth, branchUsed));
      return n === 0 && r.chance(0.5) ? undefined : ops;
    };
    const nCompares = r.int(0, 3);
    return this.enc.obj({
      compare: nCompares === 0 && r.chance(0.5) ? undefined : Array.from({ length: nCompares }, () => this.compare(state)),
      success: branch(),
      failure: branch(),
    });
  }

  /** A delete was generated earlier in the current top-level txn (see requestOp). */
  private deletedInTxn = false;

  private txn(state: DiffState): DiffOp {
    this.deletedInTxn = false;
    if (this.rng.chance(0.06)) return this.duplicateKeyTxn();
    return this.op('txn', '/v3/kv/txn', this.txnBody(state, 0, new Set()));
  }

  /** Two writes to one key in one branch: etcd refuses the whole txn. */
  private duplicateKeyTxn(): DiffOp {
    const key = this.key();
    const second = this.rng.chance(0.5)
      ? this.enc.obj({ request_put: this.putBody(key) })
      : this.enc.obj({ request_delete_range: this.deleteBody({ key }) });
    const success = [this.enc.obj({ request_put: this.putBody(key) }), second];
    return this.op('txn-duplicate-key', '/v3/kv/txn', this.enc.obj({ success }));
  }

  // ---- compaction ----

  private compaction(kind: string, revision: bigint): DiffOp {
    const body = this.enc.obj({ revision: this.enc.int(revision), physical: this.bool(0.5) });
    return this.op(kind, '/v3/kv/compaction', body, { compactTo: revision });
  }

  /** Compact midway, then read below, at and above the compaction point. */
  private scheduledCompaction(state: DiffState): DiffOp {
    const at = state.compactRevision + 1n + BigInt(this.rng.int(0, Number(state.revision - state.compactRevision - 1n)));
    const all = { key: zeroKey, range_end: zeroKey };
    const follow: DiffOp[] = [
      this.op('range-at-compaction', '/v3/kv/range', this.enc.obj({ ...all, revision: this.enc.int(at) })),
      this.op('txn-range-at-compaction', '/v3/kv/txn', this.enc.obj({
        success: [this.enc.obj({ request_range: this.enc.obj({ ...all, revision: this.enc.int(at) }) })],
      })),
      this.op('range-after-compaction', '/v3/kv/range', this.enc.obj({ ...all, revision: this.enc.int(state.revision) })),
    ];
    if (at > 1n) {
      follow.unshift(this.op('range-below-compaction', '/v3/kv/range', this.enc.obj({ ...all, revision: this.enc.int(at - 1n) })));
      follow.push(this.op('txn-range-below-compaction', '/v3/kv/txn', this.enc.obj({
        success: [this.enc.obj({ request_range: this.enc.obj({ key: this.key(), revision: this.enc.int(at - 1n) }) })],
      })));
    }
    this.pending.push(...follow.slice(0, maxPendingOps - this.pending.length));
    return this.compaction('compaction', at);
  }

  /** Compactions that etcd refuses: at or below the last one, or in the future. */
  private compactionError(state: DiffState): DiffOp {
    const future = state.revision + BigInt(this.rng.int(1, 5));
    const stale = state.compactRevision > 0n ? BigInt(this.rng.int(0, Number(state.compactRevision))) : 0n;
    return this.compaction('compaction-refused', this.rng.chance(0.5) ? future : stale);
  }

  // ---- bad input ----

  private badInput(state: DiffState): DiffOp {
    const r = this.rng;
    const cases: Array<() => DiffOp> = [
      () => this.op('bad:empty-key-put', '/v3/kv/put', this.enc.obj({ key: r.chance(0.5) ? '' : undefined, value: this.value() })),
      () => this.op('bad:empty-key-range', '/v3/kv/range', this.enc.obj({ range_end: r.chance(0.5) ? this.key() : undefined })),
      () => this.op('bad:empty-key-delete', '/v3/kv/deleterange', this.enc.obj({ key: '' })),
      () => this.op('bad:base64', r.pick(['/v3/kv/put', '/v3/kv/range', '/v3/kv/deleterange']),
        { key: r.pick(['YQ', 'YQ=', '!!', 'a b', 'YWJj*', 'Y', '====']), value: this.value() }),
      () => this.op('bad:base64-value', '/v3/kv/put', { key: this.key(), value: r.pick(['eA', 'e===', '%%']) }),
      () => this.op('bad:ignore-value-missing-key', '/v3/kv/put', this.enc.obj({ key: b64('missing-key'), ignore_value: true })),
      () => this.op('bad:ignore-lease-missing-key', '/v3/kv/put', this.enc.obj({ key: b64('missing-key'), value: this.value(), ignore_lease: true })),
      () => this.op('bad:value-with-ignore-value', '/v3/kv/put', this.enc.obj({ key: this.key(), value: b64('v'), ignore_value: true })),
      () => this.op('bad:lease-with-ignore-lease', '/v3/kv/put', this.enc.obj({ key: this.key(), lease: this.enc.int(7), ignore_lease: true })),
      () => this.op('bad:unknown-lease', '/v3/kv/put', this.enc.obj({ key: this.key(), value: this.value(), lease: this.enc.int(r.int(1, 1 << 30)) })),
      () => this.op('bad:unknown-lease-in-txn', '/v3/kv/txn', this.enc.obj({
        success: [this.enc.obj({ request_put: this.enc.obj({ key: this.key(), lease: this.enc.int(424242) }) })],
      })),
      () => this.op('bad:too-many-txn-ops', '/v3/kv/txn', this.enc.obj({
        success: Array.from({ length: maxTxnOps + 1 }, () => this.enc.obj({ request_range: { key: this.key() } })),
      })),
      () => this.op('bad:malformed-json', r.pick(['/v3/kv/put', '/v3/kv/range', '/v3/kv/txn']),
        r.pick(['{bad', '{"key":', '{"key":"YQ==",}', '[]', '"str"', '{"key":12}', '{"limit":"x"}']), { relax: 'decode-error' }),
      () => this.op('bad:wrong-type', '/v3/kv/range', { key: this.key(), ...r.pick([{ keys_only: 'true' }, { limit: 1.5 }, { revision: {} }]) },
        { relax: 'decode-error' }),
      () => this.op('bad:unknown-enum-name', '/v3/kv/range', { key: this.key(), sort_order: 'SIDEWAYS' }, { relax: 'decode-error' }),
      () => this.op('odd:empty-body', r.pick(['/v3/kv/range', '/v3/kv/put', '/v3/kv/txn', '/v3/kv/compaction']), ''),
      () => this.op('odd:null-body', '/v3/kv/range', 'null'),
      () => this.op('odd:unknown-fields', '/v3/kv/range', { key: this.key(), no_such_field: 1, alsoUnknown: 'x' }),
      () => this.op('odd:trailing-text', '/v3/kv/range', `${JSON.stringify({ key: this.key() })} trailing`),
      () => this.op('odd:int64-as-number', '/v3/kv/range', { key: zeroKey, range_end: zeroKey, limit: 2, revision: Number(state.revision) }),
      () => this.op('odd:enum-numbers', '/v3/kv/range', { key: zeroKey, range_end: zeroKey, sort_order: 2, sort_target: 4 }),
      () => this.op('odd:camel-case', '/v3/kv/range', { key: zeroKey, rangeEnd: zeroKey, sortOrder: 'DESCEND', sortTarget: 'MOD', keysOnly: true }),
      () => this.op('odd:negative-limit', '/v3/kv/range', { key: zeroKey, range_end: zeroKey, limit: '-1' }),
      () => this.op('odd:max-int64-revision', '/v3/kv/range', { key: this.key(), revision: '9223372036854775807' }),
      () => this.op('bad:int64-overflow', '/v3/kv/range', { key: this.key(), revision: '9223372036854775808' }, { relax: 'decode-error' }),
    ];
    return r.pick(cases)();
  }
}
