/**
 * Fixed differential cases: hand-picked request sequences where implementations tend to differ
 * from etcd 3.4 (the order of txn checks, sort ties, limit vs count, compaction edges, empty
 * values), sent to cairn and to etcd side by side and compared like the random test. Unlike the
 * seeded run, these fail every time a behaviour regresses, not one run in five.
 *
 * Skipped when etcd is not installed or cairn is not built.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { b64, cairnBuilt, cairnEntry, etcdAvailable, gw, withServers } from '../support/harness.js';
import { compareResponses } from './compare.js';
import type { DiffOp } from './kv-ops.js';

const k = (s: string): string => b64(s);
const put = (key: string, value: string, extra: object = {}): DiffOp =>
  ({ kind: 'put', path: '/v3/kv/put', body: JSON.stringify({ key: k(key), value: k(value), ...extra }) });
const range = (body: object): DiffOp => ({ kind: 'range', path: '/v3/kv/range', body: JSON.stringify(body) });
const txn = (body: object): DiffOp => ({ kind: 'txn', path: '/v3/kv/txn', body: JSON.stringify(body) });
const compact = (revision: string): DiffOp => ({ kind: 'compaction', path: '/v3/kv/compaction', body: JSON.stringify({ revision }) });
const all = { key: 'AA==', range_end: 'AA==' };
const future = { request_range: { key: k('a'), revision: '1000' } };

/** Named sequences; each runs on a fresh pair of servers. */
const cases: Record<string, DiffOp[]> = {
  'txn: put preconditions are checked before range revisions (the chosen branch, nested too)': [
    txn({ success: [future, { request_put: { key: k('missing'), ignore_value: true } }] }),
    txn({ success: [future, { request_put: { key: k('x'), value: k('v'), lease: '99' } }] }),
    txn({ success: [future, { request_txn: { success: [{ request_put: { key: k('missing'), ignore_lease: true } }] } }] }),
    txn({ success: [{ request_txn: { success: [future] } }, { request_put: { key: k('missing'), ignore_value: true } }] }),
    txn({ compare: [{ key: k('a'), target: 'VERSION', result: 'GREATER', version: '0' }],
      success: [{ request_put: { key: k('missing'), ignore_value: true } }], failure: [future] }),
  ],
  'range: ties on a non-key sort target keep key order; limit applies after sorting; count ignores limit': [
    put('b', 'same'), put('a', 'same'), put('c', 'other'), put('a/1', 'same'),
    range({ ...all, sort_target: 'VALUE', sort_order: 'ASCEND' }),
    range({ ...all, sort_target: 'VALUE', sort_order: 'DESCEND', limit: '2' }),
    range({ ...all, sort_target: 'VERSION', sort_order: 'DESCEND' }),
    range({ ...all, sort_target: 'MOD', limit: '1' }),
    range({ ...all, limit: '1', min_mod_revision: '3' }),
    range({ ...all, count_only: true, limit: '1' }),
  ],
  'compaction: at 0 once, at the current revision, then reads at and below it': [
    compact('0'), compact('0'), put('a', '1'), put('a', '2'), put('b', ''), compact('3'), compact('3'), compact('2'),
    range({ key: k('a'), revision: '3' }), range({ key: k('a'), revision: '2' }), range({ ...all, revision: '4' }),
    txn({ success: [{ request_range: { key: k('a'), revision: '2' } }] }),
    compact('4'), compact('5'),
  ],
  'puts: empty value, prev_kv of a deleted key, ignore_value keeps the old value': [
    put('a', ''), put('a', 'v', { prev_kv: true }),
    { kind: 'del', path: '/v3/kv/deleterange', body: JSON.stringify({ key: k('a'), prev_kv: true }) },
    put('a', 'w', { prev_kv: true }), { kind: 'put', path: '/v3/kv/put', body: JSON.stringify({ key: k('a'), ignore_value: true, prev_kv: true }) },
    range({ key: k('a') }),
  ],
};

const skip = !etcdAvailable() ? 'etcd not installed' : !cairnBuilt() ? `cairn not built (${cairnEntry().file} missing)` : false;

describe('differential: fixed KV cases, cairn vs etcd 3.4', { skip, timeout: 120_000 }, () => {
  for (const [name, ops] of Object.entries(cases)) {
    it(name, async () => {
      await withServers(async (scope) => {
        const [etcd, cairn] = await Promise.all([scope.startEtcd(), scope.startCairn()]);
        const mismatches: string[] = [];
        for (const [i, op] of ops.entries()) {
          const [sub, ref] = await Promise.all([gw(cairn.clientUrl, op.path, op.body), gw(etcd.clientUrl, op.path, op.body)]);
          const diff = compareResponses(op, sub, ref);
          if (diff !== null) mismatches.push(`#${i} POST ${op.path} ${op.body}\n  ${diff}\n  cairn: ${sub.status} ${sub.text}\n  etcd:  ${ref.status} ${ref.text}`);
        }
        await etcd.dispose(); // keep only cairn's data dir on failure
        assert.ok(mismatches.length === 0, `${mismatches.length} mismatch(es):\n${mismatches.join('\n')}`);
      });
    });
  }
});
