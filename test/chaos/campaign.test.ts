/**
 * The short chaos campaign CI runs on every change: a three-member cluster of real processes,
 * six clients, every fault the nemesis has (kill -9 and restart, kill the leader, SIGSTOP and
 * SIGCONT, move leadership, partitions through the peer proxies) for `CHAOS_TIME` seconds
 * (default 40), with log snapshots every 500 entries so that a member brought back after a fault
 * often catches up by a snapshot install; the history must be linearizable and pass every other check. A failure names
 * the seed (set `CHAOS_SEED` to run it again) and the history file, which is kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCampaign } from './campaign.js';
import { allFaults } from './nemesis.js';

const seed = process.env.CHAOS_SEED !== undefined ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
const timeSec = Number(process.env.CHAOS_TIME ?? 40);

test(`chaos: 3 members, every fault, ${timeSec}s (seed ${seed}): linearizable, nothing lost, watches and leases agree`, { timeout: (timeSec + 150) * 1000 }, async () => {
  const lines: string[] = [];
  const { report, historyPath } = await runCampaign({ seed, nodes: 3, timeSec, faults: allFaults, snapshotCount: 500, log: (l) => lines.push(l) });
  const summary = `seed ${seed}, history ${historyPath}: ${report.problems.join('; ')}`;
  assert.equal(report.linearizability, 'ok', summary);
  assert.deepEqual(report.problems, [], summary);
  assert.ok(report.ok, summary);
  // The run did something: faults happened, most operations were acknowledged, leases expired.
  assert.ok(Object.values(report.faults).reduce((a, b) => a + b, 0) >= 3, `too few faults: ${JSON.stringify(report.faults)}`);
  assert.ok(report.availability.overall.okOps > 100, `too few ok ops: ${JSON.stringify(report.availability)}`);
  assert.ok(report.leases.expiries > 0, 'no lease expired with keys attached');
});
