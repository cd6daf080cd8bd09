/**
 * Randomized model test: thousands of seeded random writes (puts, deletes, txns, compactions,
 * in batches, with reopens) applied both to the store and to a naive in-memory model that keeps
 * a full copy of the key space per revision; ranges at random revisions, events and counts
 * must agree. A failure prints its seed; rerun with MVCC_MODEL_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore, b, s } from './helpers.js';
import type { KeyValue, RequestOp, WriteRequest, Compare } from '../../src/mvcc/types.js';
import type { MvccStore } from '../../src/mvcc/store.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface MKv { create: bigint; mod: bigint; version: bigint; value: string }
type MState = Map<string, MKv>;

class Model {
  rev = 1n;
  compact = 0n;
  states = new Map<bigint, MState>([[1n, new Map()]]);
  events: string[] = [];
  get cur(): MState { return this.states.get(this.rev)!; }

  /** Applies changes made by `fn` to a copy; takes a revision only if something changed. */
  change(fn: (next: MState, rev: bigint) => number): void {
    const next = new Map(this.cur);
    if (fn(next, this.rev + 1n) > 0) {
      this.rev += 1n;
      this.states.set(this.rev, next);
    }
  }
  put(next: MState, rev: bigint, k: string, v: string): number {
    const old = next.get(k);
    next.set(k, { create: old?.create ?? rev, mod: rev, version: (old?.version ?? 0n) + 1n, value: v });
    this.events.push(`PUT ${k} ${rev} ${v}`);
    return 1;
  }
  del(next: MState, rev: bigint, from: string, to?: string): number {
    const doomed = [...next.keys()].filter((k) => (to === undefined ? k === from : k >= from && k < to)).sort();
    for (const k of doomed) { next.delete(k); this.events.push(`DELETE ${k} ${rev}`); }
    return doomed.length;
  }
  holds(c: { key: string; target: 'VERSION' | 'VALUE'; n: number; v: string }): boolean {
    const kv = this.cur.get(c.key);
    if (c.target === 'VALUE') return kv !== undefined && kv.value === c.v;
    return (kv?.version ?? 0n) === BigInt(c.n);
  }
  rangeAt(rev: bigint, from: string, to: string): Array<[string, MKv]> {
    return [...this.states.get(rev)!.entries()].filter(([k]) => k >= from && k < to).sort(([a], [c]) => (a < c ? -1 : 1));
  }
}

const KEYS = Array.from({ length: 16 }, (_, i) => `k${i.toString().padStart(2, '0')}`);

function fmt(kv: KeyValue): string {
  return `${s(kv.key)}=${s(kv.value)}/${kv.createRevision}/${kv.modRevision}/${kv.version}`;
}

/** applyModel returns the error kind the store must answer, if any. */
function genWrite(rnd: () => number, m: Model): { w: WriteRequest; applyModel: () => string | void } {
  const pick = () => KEYS[Math.floor(rnd() * KEYS.length)];
  const x = rnd();
  if (x < 0.5) {
    const k = pick(); const v = `v${Math.floor(rnd() * 1000)}`;
    return { w: { put: { key: b(k), value: b(v) } }, applyModel: () => m.change((n, r) => m.put(n, r, k, v)) };
  }
  if (x < 0.7) {
    const k = pick();
    if (rnd() < 0.5) return { w: { deleteRange: { key: b(k) } }, applyModel: () => m.change((n, r) => m.del(n, r, k)) };
    const k2 = pick();
    return { w: { deleteRange: { key: b(k), rangeEnd: b(k2) } }, applyModel: () => m.change((n, r) => m.del(n, r, k, k2)) };
  }
  if (x < 0.97) return genTxn(rnd, m, pick);
  const target = m.compact + 1n + BigInt(Math.floor(rnd() * Number(m.rev - m.compact)));
  return {
    w: { compaction: { revision: target } },
    applyModel: () => {
      if (target <= m.compact) return 'Compacted';
      m.compact = target;
    },
  };
}

function genTxn(rnd: () => number, m: Model, pick: () => string): { w: WriteRequest; applyModel: () => void } {
  const ck = pick();
  const c = { key: ck, target: (rnd() < 0.5 ? 'VERSION' : 'VALUE') as 'VERSION' | 'VALUE', n: Math.floor(rnd() * 3), v: `v${Math.floor(rnd() * 1000)}` };
  const compare: Compare = c.target === 'VERSION'
    ? { key: b(ck), target: 'VERSION', result: 'EQUAL', number: BigInt(c.n) }
    : { key: b(ck), target: 'VALUE', result: 'EQUAL', value: b(c.v) };
  // distinct keys per branch so no DuplicateKey: puts on some keys, a delete on another
  const branch = (): { ops: RequestOp[]; run: (n: MState, r: bigint) => number } => {
    const keys = [...new Set([pick(), pick(), pick()])];
    const delKey = keys.length > 1 && rnd() < 0.5 ? keys.pop()! : undefined;
    const vals = keys.map(() => `t${Math.floor(rnd() * 1000)}`);
    const ops: RequestOp[] = keys.map((k, i) => ({ put: { key: b(k), value: b(vals[i]) } }));
    if (delKey !== undefined) ops.push({ deleteRange: { key: b(delKey) } });
    return { ops, run: (n, r) => keys.reduce((acc, k, i) => acc + m.put(n, r, k, vals[i]), 0) + (delKey ? m.del(n, r, delKey) : 0) };
  };
  const succ = branch();
  const fail = branch();
  return {
    w: { txn: { compare: [compare], success: succ.ops, failure: fail.ops } },
    applyModel: () => { const chosen = m.holds(c) ? succ : fail; m.change((n, r) => chosen.run(n, r)); },
  };
}

function checkReads(st: MvccStore, m: Model, rnd: () => number, seed: number): void {
  const rev = 1n + BigInt(Math.floor(rnd() * Number(m.rev)));
  const i = Math.floor(rnd() * KEYS.length);
  const j = i + Math.floor(rnd() * (KEYS.length - i + 1));
  const from = KEYS[i]; const to = KEYS[j] ?? 'l';
  const limit = rnd() < 0.3 ? BigInt(1 + Math.floor(rnd() * 4)) : 0n;
  if (rev < m.compact) {
    assert.throws(() => st.range({ key: b(from), rangeEnd: b(to), revision: rev }), { kind: 'Compacted' }, `seed ${seed}`);
    return;
  }
  const want = m.rangeAt(rev, from, to);
  const got = st.range({ key: b(from), rangeEnd: b(to), revision: rev, limit });
  const wantFmt = want.map(([k, kv]) => `${k}=${kv.value}/${kv.create}/${kv.mod}/${kv.version}`);
  assert.deepEqual(got.kvs.map(fmt), limit > 0n ? wantFmt.slice(0, Number(limit)) : wantFmt, `seed ${seed}: range [${from},${to}) at ${rev} limit ${limit}`);
  assert.equal(got.count, BigInt(want.length), `seed ${seed}: count`);
  assert.equal(got.more, limit > 0n && want.length > Number(limit), `seed ${seed}: more`);
}

const SEEDS = process.env.MVCC_MODEL_SEED !== undefined ? [Number(process.env.MVCC_MODEL_SEED)] : [1, 2, 3];

for (const seed of SEEDS) test(`random ops agree with an in-memory model (seed ${seed})`, async () => {
  const rnd = mulberry32(seed);
  const ts = tempStore({ compactionChunkEntries: 5 });
  const m = new Model();
  let liveEvents: string[] = [];
  try {
    for (let step = 0; step < 600; step++) {
      const batch = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => genWrite(rnd, m));
      const { outcomes, events } = await ts.store.applyBatch(batch.map((x) => x.w));
      for (let i = 0; i < batch.length; i++) {
        const wantError = batch[i].applyModel();
        const o = outcomes[i];
        assert.equal(o.ok ? undefined : (o.error as { kind?: string }).kind, wantError ?? undefined, `seed ${seed}: step ${step}: ${!o.ok ? o.error.message : ''}`);
        assert.equal(outcomes[i].revision, m.rev, `seed ${seed}: step ${step} revision`);
      }
      liveEvents.push(...events.map((e) => `${e.type} ${s(e.kv.key)} ${e.kv.modRevision}${e.type === 'PUT' ? ' ' + s(e.kv.value) : ''}`));
      assert.equal(ts.store.compactRevision, m.compact);
      for (let r = 0; r < 3; r++) checkReads(ts.store, m, rnd, seed);
      if (rnd() < 0.02) await ts.reopen();
      if (rnd() < 0.1) await ts.store.compactionSettled();
    }
    assert.deepEqual(liveEvents, m.events, `seed ${seed}: live events`);
    const from = m.compact > 0n ? m.compact : 1n;
    const replay = ts.store.eventsSince(from, 1_000_000).events
      .map((e) => `${e.type} ${s(e.kv.key)} ${e.kv.modRevision}${e.type === 'PUT' ? ' ' + s(e.kv.value) : ''}`);
    const modelReplay = m.events.filter((e) => {
      const rev = BigInt(e.split(' ')[2]);
      return rev > from || (rev === from && e.startsWith('PUT'));
    });
    assert.deepEqual(replay, modelReplay, `seed ${seed}: eventsSince`);
    const hashLogical = ts.store.hashKV(0n).hash;
    await ts.store.compactionSettled();
    assert.equal(ts.store.hashKV(0n).hash, hashLogical, `seed ${seed}: hash independent of physical compaction`);
    liveEvents = [];
  } finally { await ts.cleanup(); }
});
