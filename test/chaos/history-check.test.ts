/**
 * The history judge on small hand-made histories: a clean one passes; a watch gap, a duplicate,
 * members that disagree, an acknowledged write missing from the log, a lease whose keys go at
 * two revisions, a lease key left behind and a stale read each fail it with a reason; and an
 * indeterminate write is settled by the watch streams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryFile, OpRecord, WatchEventRecord } from './history.js';
import { analyze } from './history-check.js';

function op(id: number, f: Partial<OpRecord> & Pick<OpRecord, 'kind' | 'key'>, invoke: number, complete: number | null, status: OpRecord['status']): OpRecord {
  return { id, client: 0, member: 'm1', invokeNs: String(invoke), completeNs: complete === null ? null : String(complete), status, ...f };
}
const ev = (rev: number, key: string, type: 'PUT' | 'DELETE', at: number, value?: string, lease?: string): WatchEventRecord =>
  ({ rev, key, type, atNs: String(at), ...(value !== undefined ? { value } : {}), ...(lease !== undefined ? { lease } : {}) });

function clean(): HistoryFile {
  const ops: OpRecord[] = [
    op(0, { kind: 'write', key: 'k', value: 'a' }, 10, 20, 'ok'),
    op(1, { kind: 'read', key: 'k', read: 'a' }, 30, 40, 'ok'),
    op(2, { kind: 'write', key: 'k', value: 'b' }, 50, null, 'info'), // timed out, never applied
    op(3, { kind: 'write', key: 'l/1', value: 'x', lease: '7' }, 60, 70, 'ok'),
    op(4, { kind: 'write', key: 'l/2', value: 'y', lease: '7' }, 80, 90, 'ok'),
    op(5, { kind: 'read', key: 'k', read: 'a' }, 500, 510, 'ok'),
    op(6, { kind: 'read', key: 'l/1', read: null }, 500, 510, 'ok'),
  ];
  const stream = (d: number) => [ev(2, 'k', 'PUT', 15 + d, 'a'), ev(3, 'l/1', 'PUT', 65 + d, 'x', '7'), ev(4, 'l/2', 'PUT', 85 + d, 'y', '7'),
    ev(5, 'l/1', 'DELETE', 300 + d), ev(5, 'l/2', 'DELETE', 300 + d)];
  return {
    format: 1, seed: 1, nodes: 2, timeSec: 1, faults: [], startedAt: '', startNs: '0', endNs: '600', healedNs: '400',
    ops, faultLog: [{ kind: 'pause', detail: 'SIGSTOP m2', startNs: '100', endNs: '200' }],
    watch: { m1: stream(0), m2: stream(3) }, leaseKeys: ['l/1', 'l/2'], notes: [],
  };
}

test('a clean history passes, and the timed-out write that no stream shows is dropped', () => {
  const r = analyze(clean());
  assert.deepEqual(r.problems, []);
  assert.equal(r.ok, true);
  assert.deepEqual(r.indeterminateSettled, { tookEffect: 0, neverHappened: 1, stillOpen: 0 });
  assert.deepEqual(r.leases, { expiries: 1, keysDeleted: 2 });
  assert.equal(r.watch.lastRevision, 5);
});

test('a timed-out write that a stream shows took effect, and a later read must see it', () => {
  const h = clean();
  for (const s of Object.values(h.watch)) {
    s.splice(3, 0, ev(5, 'k', 'PUT', 95, 'b'));
    for (const e of s.slice(4)) e.rev = 6;
  }
  h.ops[5].read = 'b';
  const r = analyze(h);
  assert.deepEqual(r.problems, []);
  assert.equal(r.indeterminateSettled.tookEffect, 1);
  h.ops[5].read = 'a'; // stale: b was in the log before this read began
  assert.equal(analyze(h).ok, false);
  assert.match(analyze(h).problems.join('\n'), /key k: not linearizable/);
});

test('a gap, a duplicate, or members that disagree fail the watch check', () => {
  let h = clean();
  h.watch.m2.splice(1, 1);
  assert.match(analyze(h).problems.join('\n'), /watch m2: after rev 2 came rev 4 \(gap\)/);
  h = clean();
  h.watch.m1.splice(1, 0, { ...h.watch.m1[1] });
  assert.match(analyze(h).problems.join('\n'), /watch m1: duplicate event rev 3/);
  h = clean();
  h.watch.m2[0].value = 'z';
  assert.match(analyze(h).problems.join('\n'), /watch m2: event 0 is/);
});

test('an acknowledged write that is in no stream is reported lost', () => {
  const h = clean();
  h.ops.push(op(7, { kind: 'write', key: 'k', value: 'c' }, 100, 110, 'ok'));
  const r = analyze(h);
  assert.equal(r.ok, false);
  assert.match(r.problems.join('\n'), /acknowledged write of k=c .* lost/);
});

test('a lease whose keys go at two revisions, or a lease key left behind, fails', () => {
  let h = clean();
  for (const s of Object.values(h.watch)) s[4].rev = 6;
  assert.match(analyze(h).problems.join('\n'), /lease 7: its keys were deleted at 2 revisions/);
  h = clean();
  for (const s of Object.values(h.watch)) s.splice(4, 1);
  assert.match(analyze(h).problems.join('\n'), /lease key l\/2 still holds y/);
});
