/**
 * Liveness: with a stable quorum and a fair network, a leader is elected within a bounded
 * number of ticks, every proposal commits, and a crashed leader is replaced in bounded time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { isRaftError, type NodeId } from '../../src/raft/index.js';

const ELECTION_TICK = 10;
/** Generous bound: the first timeout fires within 2 x electionTick; a split vote costs at most
 * another randomized timeout. */
const MAX_TICKS_TO_LEADER = 3 * ELECTION_TICK;

function ticksUntilLeader(c: Cluster, exclude: NodeId | null = null): number {
  for (let t = 1; t <= MAX_TICKS_TO_LEADER * 3; t++) {
    c.tickAll(1);
    if (c.leaders().some((l) => l.id !== exclude)) return t;
  }
  return Infinity;
}

test('a leader is elected within a bounded number of ticks (1, 3, 5, 7 voters, 25 seeds each)', () => {
  const worst: Record<number, number> = {};
  for (const size of [1, 3, 5, 7]) {
    for (let seed = 1; seed <= 25; seed++) {
      const ids = Array.from({ length: size }, (_, i) => BigInt(i + 1));
      const c = new Cluster({ voters: ids, seed, electionTick: ELECTION_TICK });
      const t = ticksUntilLeader(c);
      assert.ok(t <= MAX_TICKS_TO_LEADER, `size ${size} seed ${seed}: ${t} ticks`);
      worst[size] = Math.max(worst[size] ?? 0, t);
      assert.equal(c.leaders().length, 1);
    }
  }
  console.log(`# ticks to first leader, worst of 25 seeds: ${JSON.stringify(worst)} (electionTick ${ELECTION_TICK})`);
});

test('every proposal commits, in one order on every node, wherever it is proposed', () => {
  const c = new Cluster({ voters: [1n, 2n, 3n, 4n, 5n], seed: 11 });
  ticksUntilLeader(c);
  const want: string[] = [];
  for (let i = 0; i < 200; i++) {
    const at = BigInt(1 + (i % 5));
    c.get(at).node.propose(new TextEncoder().encode(`v${i}`));
    want.push(`v${i}`);
    if (i % 7 === 0) c.tickAll(1);
  }
  c.tickAll(3);
  const order = c.get(1n).appliedData();
  assert.deepEqual([...order].sort(), [...want].sort());
  for (const n of c.nodes.values()) assert.deepEqual(n.appliedData(), order);
});

test('a crashed leader is replaced within a bounded number of ticks and writes resume', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const c = new Cluster({ voters: [1n, 2n, 3n], seed, electionTick: ELECTION_TICK });
    ticksUntilLeader(c);
    const old = c.leader();
    c.crash(old.id);
    const t = ticksUntilLeader(c, old.id);
    // Check-quorum's lease keeps followers loyal for one election timeout first.
    assert.ok(t <= MAX_TICKS_TO_LEADER + ELECTION_TICK, `seed ${seed}: ${t} ticks`);
    const l = c.leader();
    let proposed = false;
    for (let i = 0; i < 5 && !proposed; i++) {
      try {
        c.propose(l.id, 'after failover');
        proposed = true;
      } catch (e) {
        if (!isRaftError(e, 'ProposalDropped')) throw e;
        c.tickAll(1);
      }
    }
    for (const n of c.nodes.values()) if (!n.crashed) assert.deepEqual(n.appliedData(), ['after failover']);
  }
});
