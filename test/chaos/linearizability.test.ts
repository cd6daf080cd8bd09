/**
 * The register linearizability checker on small hand-made histories: it accepts linearizable
 * ones (concurrent overlaps, indeterminate writes that did or did not happen) and rejects a
 * stale read, a lost acknowledged write, a CAS that could not have succeeded and a read of a
 * value nobody wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHistory, checkKey, type CheckedOp, type RegisterOp, type RegisterOutput } from './linearizability.js';

let nextId = 0;
function op(op: RegisterOp, invoke: number, ret: number | null, output: RegisterOutput | null, key = 'k'): CheckedOp {
  return { id: nextId++, key, op, invokeNs: BigInt(invoke), returnNs: ret === null ? null : BigInt(ret), output };
}
const w = (v: string, a: number, b: number | null) => op({ kind: 'write', value: v }, a, b, b === null ? null : { kind: 'write' });
const r = (v: string | null, a: number, b: number) => op({ kind: 'read' }, a, b, { kind: 'read', value: v });
const cas = (e: string, v: string, a: number, b: number | null, ok?: boolean) =>
  op({ kind: 'cas', expect: e, value: v }, a, b, b === null ? null : { kind: 'cas', succeeded: ok! });
const del = (a: number, b: number | null, deleted?: number) => op({ kind: 'delete' }, a, b, b === null ? null : { kind: 'delete', deleted: deleted! });

test('sequential history of writes, reads, CAS and delete is linearizable', () => {
  const h = [w('a', 0, 1), r('a', 2, 3), cas('a', 'b', 4, 5, true), cas('a', 'c', 6, 7, false), r('b', 8, 9), del(10, 11, 1), r(null, 12, 13), del(14, 15, 0)];
  assert.equal(checkKey('k', h).result, 'ok');
});

test('concurrent writes may be ordered either way; reads see one order consistently', () => {
  // w(a) and w(b) overlap; a read after both sees b, so the order was a then b.
  const h = [w('a', 0, 10), w('b', 1, 9), r('b', 11, 12), r('b', 13, 14)];
  assert.equal(checkKey('k', h).result, 'ok');
  // A read overlapping the writes may see the old value.
  const h2 = [w('a', 0, 2), w('b', 3, 10), r('a', 4, 5), r('b', 11, 12)];
  assert.equal(checkKey('k', h2).result, 'ok');
});

test('a stale read is rejected', () => {
  // b is acknowledged before the read starts, yet the read returns a.
  const h = [w('a', 0, 1), w('b', 2, 3), r('a', 4, 5)];
  const v = checkKey('k', h);
  assert.equal(v.result, 'illegal');
});

test('reads going back in time are rejected (a then b then a without a write of a)', () => {
  const h = [w('a', 0, 1), w('b', 2, 20), r('b', 3, 4), r('a', 5, 6)];
  assert.equal(checkKey('k', h).result, 'illegal');
});

test('a lost acknowledged write is rejected', () => {
  // w(b) was acknowledged, nothing else wrote, but after healing the key still reads a.
  const h = [w('a', 0, 1), w('b', 2, 3), r('a', 100, 101)];
  assert.equal(checkKey('k', h).result, 'illegal');
  // Deleted after the write, the key reads as absent: also lost.
  const h2 = [w('a', 0, 1), r(null, 2, 3)];
  assert.equal(checkKey('k', h2).result, 'illegal');
});

test('an indeterminate write may take effect late, or never', () => {
  // The timed-out write of b shows up long after its invoke: fine.
  assert.equal(checkKey('k', [w('a', 0, 1), w('b', 2, null), r('a', 3, 4), r('b', 50, 51)]).result, 'ok');
  // Or never: fine.
  assert.equal(checkKey('k', [w('a', 0, 1), w('b', 2, null), r('a', 3, 4), r('a', 50, 51)]).result, 'ok');
  // But it cannot take effect before its invoke.
  assert.equal(checkKey('k', [w('a', 0, 1), r('b', 2, 3), w('b', 4, null)]).result, 'illegal');
  // And once seen, it cannot be unseen.
  assert.equal(checkKey('k', [w('a', 0, 1), w('b', 2, null), r('b', 3, 4), r('a', 5, 6)]).result, 'illegal');
});

test('CAS outcomes must agree with the value at their linearization point', () => {
  assert.equal(checkKey('k', [w('a', 0, 1), cas('a', 'b', 2, 3, false)]).result, 'illegal');
  assert.equal(checkKey('k', [w('a', 0, 1), cas('x', 'b', 2, 3, true)]).result, 'illegal');
  // Two CAS from a racing on the same value: only one can succeed.
  assert.equal(checkKey('k', [w('a', 0, 1), cas('a', 'b', 2, 5, true), cas('a', 'c', 2, 5, true)]).result, 'illegal');
  assert.equal(checkKey('k', [w('a', 0, 1), cas('a', 'b', 2, 5, true), cas('a', 'c', 2, 5, false), r('b', 6, 7)]).result, 'ok');
  // An indeterminate CAS that succeeded is visible; one that could not succeed changes nothing.
  assert.equal(checkKey('k', [w('a', 0, 1), cas('a', 'b', 2, null), r('b', 3, 4)]).result, 'ok');
  assert.equal(checkKey('k', [w('a', 0, 1), cas('x', 'b', 2, null), r('b', 3, 4)]).result, 'illegal');
});

test('delete counts must agree with the state; a lease expiry deletes only its own value', () => {
  assert.equal(checkKey('k', [del(0, 1, 1)]).result, 'illegal');
  assert.equal(checkKey('k', [w('a', 0, 1), del(2, 3, 0)]).result, 'illegal');
  const expire = (v: string, a: number, b: number | null) => op({ kind: 'expire', value: v }, a, b, null);
  assert.equal(checkKey('k', [w('a', 0, 1), expire('a', 1, null), r(null, 5, 6)]).result, 'ok');
  // The lease of a was superseded by b: its expiry cannot delete b.
  assert.equal(checkKey('k', [w('a', 0, 1), w('b', 2, 3), expire('a', 1, null), r(null, 5, 6)]).result, 'illegal');
});

test('keys are checked independently, and one bad key fails the history', () => {
  const h = [w('a', 0, 1, ), r('a', 2, 3), op({ kind: 'write', value: 'x' }, 0, 1, { kind: 'write' }, 'j'), op({ kind: 'read' }, 2, 3, { kind: 'read', value: null }, 'j')];
  const v = checkHistory(h);
  assert.equal(v.result, 'illegal');
  assert.deepEqual(v.keys.map((k) => [k.key, k.result]), [['j', 'illegal'], ['k', 'ok']]);
});

test('the search stays small on a long concurrent history, and the bound answers unknown', () => {
  // 4 clients, 2000 ops each, overlapping pairwise, values unique: linearizable by construction
  // (each read returns the last write whose return came before the read's invoke, when no write overlaps).
  const h: CheckedOp[] = [];
  let t = 0;
  for (let i = 0; i < 2000; i++) {
    h.push(w(`v${i}`, t, t + 3), w(`u${i}`, t + 1, t + 2));
    h.push(r(`v${i}`, t + 4, t + 5), r(`v${i}`, t + 4, t + 6));
    t += 10;
  }
  const v = checkKey('k', h);
  assert.equal(v.result, 'ok');
  assert.ok(v.configurations < 100_000, `explored ${v.configurations}`);
  const bounded = checkKey('k', h, null, 10);
  assert.equal(bounded.result, 'unknown');
});
