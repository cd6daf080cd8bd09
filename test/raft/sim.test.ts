/**
 * Randomized simulation of the Raft core: many seeds, each a different world (cluster size,
 * pre-vote and check-quorum on or off, timeouts, message size and window limits, drop and
 * duplicate rates) and a different sequence of faults; invariants are checked after every step
 * and liveness at the end. A failing seed prints the command that replays it.
 *
 *   RAFT_SEEDS=n   number of seeds (default 1000)     RAFT_SEED=s   run only seed s
 *   RAFT_STEPS=n   steps per seed (default 4000)     RAFT_TRACE=1  print the replayed actions
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation, type SimStats } from './sim.js';

const env = process.env;
const STEPS = Number(env.RAFT_STEPS ?? 4000);
const SEEDS = Number(env.RAFT_SEEDS ?? 1000);
const ONLY = env.RAFT_SEED === undefined ? null : Number(env.RAFT_SEED);
const TRACE = env.RAFT_TRACE === '1';

function runSeed(seed: number): SimStats {
  const sim = new Simulation({ seed, steps: STEPS, trace: TRACE });
  try {
    return sim.run();
  } catch (e) {
    if (TRACE) console.log(sim.log.join('\n'));
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`seed ${seed} failed: ${msg}\n  state: ${sim.summary()}\n` +
      `  replay: RAFT_SEED=${seed} RAFT_STEPS=${STEPS} RAFT_TRACE=1 node --import tsx --test test/raft/sim.test.ts`,
      { cause: e });
  }
}

test(`simulation: ${ONLY !== null ? `seed ${ONLY}` : `${SEEDS} seeds`} x ${STEPS} steps keep every invariant and stay live`, () => {
  const seeds = ONLY !== null ? [ONLY] : Array.from({ length: SEEDS }, (_, i) => i + 1);
  const total: SimStats = {
    elections: 0, committed: 0, readsServed: 0, snapshotsInstalled: 0, confChangesApplied: 0,
    crashes: 0, transfers: 0, livenessTicks: 0,
  };
  let worstLiveness = 0;
  const started = performance.now();
  for (const seed of seeds) {
    const s = runSeed(seed);
    for (const k of Object.keys(total) as (keyof SimStats)[]) total[k] += s[k];
    worstLiveness = Math.max(worstLiveness, s.livenessTicks);
  }
  const ms = performance.now() - started;
  console.log(`# raft sim: ${seeds.length} seeds in ${(ms / 1000).toFixed(1)} s; ${JSON.stringify(total)}; worst liveness ${worstLiveness} ticks`);
  if (ONLY === null && seeds.length >= 50) {
    // The run must have exercised what it claims to, or the invariants proved nothing.
    assert.ok(total.elections > seeds.length, 'elections');
    assert.ok(total.committed > seeds.length * 10, 'commits');
    assert.ok(total.readsServed > seeds.length, 'reads served');
    assert.ok(total.snapshotsInstalled > 0, 'snapshots installed');
    assert.ok(total.confChangesApplied > seeds.length, 'conf changes applied');
    assert.ok(total.crashes > seeds.length, 'crashes');
  }
});
