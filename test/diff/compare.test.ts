/**
 * Unit tests of the differential test's own parts: the comparison ignores exactly the
 * cluster-identity header fields (at any depth) and nothing else, decoder errors are compared
 * by shape, and the generator replays the same requests from the same seed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareResponses, firstDifference, normalise } from './compare.js';
import { Encoder } from './kv-encoding.js';
import { KvOpGenerator, type DiffOp } from './kv-ops.js';
import { Rng } from './rng.js';

const ok = (json: unknown) => ({ status: 200, json, text: JSON.stringify(json) });
const op: DiffOp = { kind: 'range', path: '/v3/kv/range', body: '{}' };

describe('differential comparison', () => {
  it('ignores cluster_id, member_id and raft_term but not revision, also in nested txn headers', () => {
    const a = { header: { cluster_id: '1', member_id: '2', revision: '5', raft_term: '2' },
      responses: [{ response_txn: { header: { cluster_id: '1' }, succeeded: true } }] };
    const b = { header: { cluster_id: '9', member_id: '8', revision: '5', raft_term: '7' },
      responses: [{ response_txn: { header: {}, succeeded: true } }] };
    assert.equal(compareResponses(op, ok(a), ok(b)), null);
    const c = { ...b, header: { ...b.header, revision: '6' } };
    assert.match(compareResponses(op, ok(a), ok(c)) ?? '', /header\.revision/);
    assert.deepEqual(normalise({ kvs: [{ key: 'YQ==' }] }), { kvs: [{ key: 'YQ==' }] });
  });

  it('reports a field present on one side only, a status difference, and array length', () => {
    assert.match(firstDifference({ count: '1' }, {}) ?? '', /count missing in reference/);
    assert.match(firstDifference({}, { more: true }) ?? '', /more missing in cairn/);
    assert.match(compareResponses(op, { status: 404, json: {}, text: '{}' }, ok({})) ?? '', /status 404 vs 200/);
    assert.match(firstDifference({ kvs: [1] }, { kvs: [1, 2] }) ?? '', /length 1 vs 2/);
    assert.equal(firstDifference({ a: 1, b: 2 }, { b: 2, a: 1 }), null);
  });

  it('compares decoder errors by code and shape only, and only when the op says so', () => {
    const goText = { error: "invalid character 'b'", message: "invalid character 'b'", code: 3 };
    const ours = { error: 'Unexpected token b', message: 'Unexpected token b', code: 3 };
    const bad = (json: unknown) => ({ status: 400, json, text: JSON.stringify(json) });
    assert.equal(compareResponses({ ...op, relax: 'decode-error' }, bad(ours), bad(goText)), null);
    assert.notEqual(compareResponses(op, bad(ours), bad(goText)), null);
    assert.notEqual(compareResponses({ ...op, relax: 'decode-error' }, bad({ ...ours, code: 2 }), bad(goText)), null);
  });
});

describe('differential generator', () => {
  const sequence = (seed: number): DiffOp[] => {
    const rng = new Rng(seed);
    const gen = new KvOpGenerator(rng, new Encoder(rng, false), 200);
    const state = { revision: 1n, compactRevision: 0n };
    return Array.from({ length: 200 }, (_, i) => {
      const next = gen.next(i, state);
      state.revision += 1n; // stand-in for the reference's answers
      if (next.compactTo !== undefined && next.kind === 'compaction') state.compactRevision = next.compactTo;
      return next;
    });
  };

  it('replays the same requests from the same seed, and different ones from another', () => {
    assert.deepEqual(sequence(42), sequence(42));
    assert.notDeepEqual(sequence(42), sequence(43));
  });

  it('schedules a compaction midway and reads around it', () => {
    const kinds = sequence(5).map((o) => o.kind);
    assert.ok(kinds.includes('compaction'));
    assert.ok(kinds.includes('range-at-compaction'));
    assert.ok(kinds.includes('range-below-compaction'));
  });
});
