import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';

test('three nodes elect a leader and commit a proposal on every node', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n] });
  c.campaign(1n);
  assert.equal(c.get(1n).state, 'leader');
  c.propose(1n, 'hello');
  for (const n of c.nodes.values()) assert.deepEqual(n.appliedData(), ['hello']);
});
