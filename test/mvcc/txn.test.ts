import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore, put, get, b, s, txn, errorKind, opPut, apply1 } from './helpers.js';
import type { Compare, CompareResult, CompareTarget, TxnResult, WriteOutcome } from '../../src/mvcc/types.js';
import type { MvccStore } from '../../src/mvcc/store.js';

function txnResult(o: WriteOutcome): TxnResult {
  assert.ok(o.ok, !o.ok ? o.error.message : '');
  assert.ok('txn' in o.result);
  return o.result.txn;
}

async function holds(st: MvccStore, c: Compare): Promise<boolean> {
  return txnResult(await txn(st, { compare: [c], success: [], failure: [] })).succeeded;
}

test('compares on every target with every result against an existing key', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'k', 'm');                   // 2
    await apply1(st, { put: { key: b('k'), value: b('m'), lease: 5n } }, [5n]); // 3: version 2, lease 5
    const table: Array<[CompareTarget, bigint | string, Record<CompareResult, boolean>]> = [
      ['VERSION', 2n, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
      ['VERSION', 1n, { EQUAL: false, NOT_EQUAL: true, GREATER: true, LESS: false }],
      ['CREATE', 2n, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
      ['CREATE', 3n, { EQUAL: false, NOT_EQUAL: true, GREATER: false, LESS: true }],
      ['MOD', 3n, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
      ['MOD', 2n, { EQUAL: false, NOT_EQUAL: true, GREATER: true, LESS: false }],
      ['LEASE', 5n, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
      ['LEASE', 0n, { EQUAL: false, NOT_EQUAL: true, GREATER: true, LESS: false }],
      ['VALUE', 'm', { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
      ['VALUE', 'n', { EQUAL: false, NOT_EQUAL: true, GREATER: false, LESS: true }],
      ['VALUE', 'l', { EQUAL: false, NOT_EQUAL: true, GREATER: true, LESS: false }],
      ['VALUE', 'mm', { EQUAL: false, NOT_EQUAL: true, GREATER: false, LESS: true }],
    ];
    for (const [target, operand, expect] of table) {
      for (const result of Object.keys(expect) as CompareResult[]) {
        const c: Compare = typeof operand === 'string'
          ? { key: b('k'), target, result, value: b(operand) }
          : { key: b('k'), target, result, number: operand };
        assert.equal(await holds(st, c), expect[result], `${target} ${result} ${operand}`);
      }
    }
    assert.equal(st.currentRevision, 3n, 'txns without writes take no revision');
  } finally { await ts.cleanup(); }
});

test('a missing key compares as zeros, except VALUE compares which always fail', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    const k = b('missing');
    assert.equal(await holds(st, { key: k, target: 'VERSION', result: 'EQUAL', number: 0n }), true);
    assert.equal(await holds(st, { key: k, target: 'CREATE', result: 'EQUAL', number: 0n }), true);
    assert.equal(await holds(st, { key: k, target: 'MOD', result: 'LESS', number: 1n }), true);
    assert.equal(await holds(st, { key: k, target: 'LEASE', result: 'EQUAL', number: 0n }), true);
    assert.equal(await holds(st, { key: k, target: 'VERSION', result: 'GREATER', number: 0n }), false);
    assert.equal(await holds(st, { key: k, target: 'VALUE', result: 'EQUAL', value: b('') }), false);
    assert.equal(await holds(st, { key: k, target: 'VALUE', result: 'NOT_EQUAL', value: b('x') }), false);
  } finally { await ts.cleanup(); }
});

test('a compare over a range must hold for every key in it; an empty range compares as zeros', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'r/a', '1'); await put(st, 'r/b', '1'); await put(st, 'r/b', '2');
    const range = { key: b('r/'), rangeEnd: b('r0') };
    assert.equal(await holds(st, { ...range, target: 'VERSION', result: 'GREATER', number: 0n }), true);
    assert.equal(await holds(st, { ...range, target: 'VERSION', result: 'EQUAL', number: 1n }), false);
    assert.equal(await holds(st, { ...range, target: 'VALUE', result: 'GREATER', value: b('0') }), true);
    assert.equal(await holds(st, { ...range, target: 'VALUE', result: 'EQUAL', value: b('1') }), false);
    assert.equal(await holds(st, { key: b('r/'), rangeEnd: b('\0'), target: 'MOD', result: 'GREATER', number: 1n }), true);
    const empty = { key: b('s/'), rangeEnd: b('s0') };
    assert.equal(await holds(st, { ...empty, target: 'CREATE', result: 'EQUAL', number: 0n }), true);
    assert.equal(await holds(st, { ...empty, target: 'VALUE', result: 'EQUAL', value: b('') }), false);
  } finally { await ts.cleanup(); }
});

test('success and failure branches; the whole txn is one main revision with sub revisions', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'a', '1'); // 2
    const { outcome, events } = await apply1(st, { txn: {
      compare: [{ key: b('a'), target: 'VALUE', result: 'EQUAL', value: b('1') }],
      success: [opPut('a', '2'), opPut('b', '1'), { deleteRange: { key: b('c') } }, { range: { key: b('a') } }],
      failure: [opPut('f', 'x')],
    } });
    const r = txnResult(outcome);
    assert.equal(r.succeeded, true);
    assert.equal(outcome.revision, 3n);
    assert.deepEqual(events.map((e) => [e.type, s(e.kv.key), e.kv.modRevision]), [['PUT', 'a', 3n], ['PUT', 'b', 3n]]);
    assert.deepEqual(r.responses.map((x) => Object.keys(x)[0]), ['put', 'put', 'deleteRange', 'range']);
    const f = txnResult(await txn(st, {
      compare: [{ key: b('a'), target: 'VALUE', result: 'EQUAL', value: b('1') }],
      success: [opPut('s', 'x')], failure: [opPut('f', 'y')],
    }));
    assert.equal(f.succeeded, false);
    assert.equal(get(st, 'f')?.modRevision, 4n);
    assert.equal(get(st, 's'), undefined);
  } finally { await ts.cleanup(); }
});

test('reads inside a txn see the txn\'s earlier writes (etcd 3.4 applies ops in order in one write txn)', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'a', 'old'); // 2
    const r = txnResult(await txn(st, { compare: [], success: [
      { range: { key: b('a') } },
      opPut('a', 'new'),
      { range: { key: b('a') } },
      { deleteRange: { key: b('x'), rangeEnd: b('y') } },
      { range: { key: b('a'), revision: 2n } },
    ], failure: [] }));
    const ranges = r.responses.filter((x) => 'range' in x).map((x) => 'range' in x ? x.range.kvs.map((kv) => `${s(kv.value)}@${kv.modRevision}`) : []);
    assert.deepEqual(ranges, [['old@2'], ['new@3'], ['old@2']]);
  } finally { await ts.cleanup(); }
});

test('nested txns: compares of nested txns are decided before the txn writes anything', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    const { outcome, events } = await apply1(st, { txn: { compare: [], success: [
      opPut('a', '1'),
      { txn: {
        compare: [{ key: b('a'), target: 'VERSION', result: 'EQUAL', number: 0n }],
        success: [opPut('saw-missing', 'y')], failure: [opPut('saw-a', 'y')],
      } },
    ], failure: [] } });
    const r = txnResult(outcome);
    const nested = r.responses[1];
    assert.ok('txn' in nested && nested.txn.succeeded, 'nested compare saw the state before the outer put');
    assert.deepEqual(events.map((e) => s(e.kv.key)), ['a', 'saw-missing']);
    assert.equal(outcome.revision, 2n);
  } finally { await ts.cleanup(); }
});

test('duplicate keys in one branch are rejected before anything applies', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    const dup = async (success: never[], failure: never[] = []) => errorKind(await txn(st, { compare: [], success, failure }));
    const P = (k: string) => opPut(k, 'v') as never;
    const D = (k: string, e?: string) => ({ deleteRange: { key: b(k), ...(e ? { rangeEnd: b(e) } : {}) } }) as never;
    const T = (success: never[], failure: never[] = []) => ({ txn: { compare: [], success, failure } }) as never;
    assert.equal(await dup([P('a'), P('a')]), 'DuplicateKey');
    assert.equal(await dup([P('b'), D('a', 'c')]), 'DuplicateKey');
    assert.equal(await dup([D('a', 'c'), P('b')]), 'DuplicateKey');
    assert.equal(await dup([D('a'), P('a')]), 'DuplicateKey');
    assert.equal(await dup([P('x'), T([P('x')])]), 'DuplicateKey');
    assert.equal(await dup([D('a', 'z'), T([P('m')])]), 'DuplicateKey');
    assert.equal(await dup([T([D('a', 'z')]), P('m')]), 'DuplicateKey');
    assert.equal(await dup([T([P('m')]), T([P('m')])]), 'DuplicateKey');
    // etcd 3.4 compares a delete's [0x00] end as plain bytes here: a from-key delete conflicts with nothing
    assert.equal(await dup([D('a', '\0'), P('zz')]), undefined);
    assert.equal(await dup([], [P('q'), P('q')]), 'DuplicateKey', 'the failure branch is checked too');
    // allowed: the two branches of one nested txn may put the same key; deletes may overlap
    assert.equal(await dup([T([P('m')], [P('m')])]), undefined);
    assert.equal(await dup([D('a', 'c'), D('b', 'd')]), undefined);
    assert.equal(await dup([P('a'), P('b')]), undefined);
    assert.equal(await dup([P('a')], [P('a')]), undefined);
    assert.equal(st.currentRevision, 5n, 'only the allowed txns with puts took revisions');
  } finally { await ts.cleanup(); }
});

test('errors in the chosen branch (missing key for ignore_value, unknown lease, compacted read) change nothing', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'a', '1'); await put(st, 'a', '2'); await put(st, 'a', '3'); // 2..4
    await st.applyBatch([{ compaction: { revision: 3n } }]);
    const cases: Array<[object, string]> = [
      [{ put: { key: b('nope'), value: b(''), ignoreValue: true } }, 'KeyNotFound'],
      [{ put: { key: b('z'), value: b('1'), lease: 9n } }, 'LeaseNotFound'],
      [{ range: { key: b('a'), revision: 2n } }, 'Compacted'],
      [{ range: { key: b('a'), revision: 5n } }, 'FutureRev'],
    ];
    for (const [op, kind] of cases) {
      const { outcome, events } = await apply1(st, { txn: { compare: [], success: [opPut('first', 'x'), op as never], failure: [] } });
      assert.equal(errorKind(outcome), kind);
      assert.deepEqual(events, []);
      assert.equal(get(st, 'first'), undefined);
      assert.equal(st.currentRevision, 4n);
    }
    // the unchosen branch is not checked dynamically
    const ok = await txn(st, { compare: [], success: [opPut('first', 'x')], failure: [{ put: { key: b('nope'), value: b(''), ignoreValue: true } }] });
    assert.ok(ok.ok);
    assert.ok(txnResult(await txn(st, { compare: [], success: [{ range: { key: b('a'), revision: 3n } }], failure: [] })).succeeded);
  } finally { await ts.cleanup(); }
});

test('static checks cover both branches: empty keys, too many ops', async () => {
  const ts = tempStore({ maxTxnOps: 3 });
  try {
    const st = ts.store;
    assert.equal(errorKind(await txn(st, { compare: [{ key: b(''), target: 'VERSION', result: 'EQUAL', number: 0n }], success: [], failure: [] })), 'EmptyKey');
    assert.equal(errorKind(await txn(st, { compare: [], success: [], failure: [opPut('', 'x')] })), 'EmptyKey');
    assert.equal(errorKind(await txn(st, { compare: [], success: [opPut('a', '1'), opPut('b', '1'), opPut('c', '1'), opPut('d', '1')], failure: [] })), 'TooManyOps');
    assert.equal(errorKind(await txn(st, { compare: [], success: [opPut('a', '1'), opPut('b', '1'), opPut('c', '1')], failure: [] })), undefined);
    assert.equal(errorKind(await txn(st, { compare: [], success: [opPut('a', 'x'), { txn: { compare: [], success: [opPut('b', 'x'), opPut('c', 'x')], failure: [] } }], failure: [] })), 'TooManyOps', 'nested txns share the budget');
  } finally { await ts.cleanup(); }
});

test('a put with ignore_value after a delete of its key in the same txn is refused whole (etcd 3.4 panics there)', async () => {
  const ts = tempStore();
  try {
    const st = ts.store;
    await put(st, 'k', 'v');
    await put(st, 'r/1', 'x');
    const before = st.currentRevision;
    // A from-key delete (range_end "\0") escapes etcd's duplicate-key check (which reads it as a
    // literal, empty interval), then takes the key before the put runs: etcd 3.4 panics there.
    const fromKey = { key: b('a'), rangeEnd: Buffer.from([0]) };
    const cases = [
      { compare: [], success: [{ deleteRange: fromKey }, { put: { key: b('k'), value: b(''), ignoreValue: true } }], failure: [] },
      { compare: [], success: [{ deleteRange: fromKey }, { txn: { compare: [], success: [{ put: { key: b('r/1'), value: b('y'), ignoreLease: true } }], failure: [] } }], failure: [] },
    ];
    for (const t of cases) {
      const o = await txn(st, t);
      assert.equal(errorKind(o), 'KeyNotFound');
      assert.equal(st.currentRevision, before, 'nothing of the txn was written');
    }
    assert.equal(s((await get(st, 'k'))!.value), 'v');
    // Without the delete, the same put is fine.
    const ok = await txn(st, { compare: [], success: [{ put: { key: b('k'), value: b(''), ignoreValue: true } }], failure: [] });
    assert.ok(ok.ok, !ok.ok ? ok.error.message : '');
  } finally {
    await ts.cleanup();
  }
});
