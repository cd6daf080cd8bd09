/**
 * The differential test of the KV gateway: a seeded random sequence of put, deleterange,
 * range, txn, compaction and bad-input requests sent to cairn and to a real etcd 3.4, each
 * starting empty; every status and body must match (see compare.ts for the few ignored
 * fields). On the first mismatch it fails with the seed, op index, request and both answers.
 *
 * Env: DIFF_SEED (default random, printed), DIFF_OPS (default 600), DIFF_PLAIN=1 (canonical
 * spelling only), DIFF_ETCD_VS_ETCD=1 (also run etcd against etcd: a determinism check of
 * the harness itself), DIFF_TRACE=1 (print each request and etcd's answer),
 * DIFF_MAX_MISMATCHES=n (collect up to n mismatches before failing; default 1). Skipped when etcd is not installed or cairn is not built.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cairnBuilt, cairnEntry, etcdAvailable, withServers } from '../support/harness.js';
import { randomSeed } from './rng.js';
import { runDiff, type DiffSummary } from './run-diff.js';

const defaultOps = 600;
const seed = process.env.DIFF_SEED !== undefined && process.env.DIFF_SEED !== '' ? Number(process.env.DIFF_SEED) >>> 0 : randomSeed();
const ops = Number(process.env.DIFF_OPS ?? defaultOps);
const plain = process.env.DIFF_PLAIN === '1';
const trace = process.env.DIFF_TRACE === '1';
const maxMismatches = Number(process.env.DIFF_MAX_MISMATCHES ?? 1);
/** A run must finish in bounded time on a shared 2-core machine. */
const testTimeoutMs = 180_000;

function skipReason(needCairn: boolean): string | false {
  if (!etcdAvailable()) return 'etcd not installed (apt-get install etcd-server; CI installs it)';
  if (needCairn && !cairnBuilt()) return `cairn not built (${cairnEntry().file} missing)`;
  return false;
}

function checkSummary(s: DiffSummary): void {
  console.log(`diff: ${s.ops} ops, final revision ${s.finalRevision}, ${s.referenceErrors} refused by etcd; ` +
    JSON.stringify(s.byKind));
  assert.equal(s.ops, ops);
  // The sequence must exercise writes, not only errors: a broken generator would pass trivially.
  assert.ok(s.finalRevision > BigInt(Math.floor(ops / 10)), `only ${s.finalRevision} revisions after ${ops} ops`);
  assert.ok(s.referenceErrors < ops / 2, `${s.referenceErrors} of ${ops} requests were refused`);
}

console.log(`diff seed ${seed} (replay with DIFF_SEED=${seed}), ${ops} ops${plain ? ', plain spelling' : ''}`);

describe('differential: cairn vs etcd 3.4 on the v3 KV gateway', { skip: skipReason(true), timeout: testTimeoutMs }, () => {
  it(`answers ${ops} random KV requests exactly as etcd does (seed ${seed})`, async () => {
    await withServers(async (scope) => {
      const [etcd, cairn] = await Promise.all([scope.startEtcd(), scope.startCairn()]);
      try {
        checkSummary(await runDiff({
          subjectUrl: cairn.clientUrl, referenceUrl: etcd.clientUrl, subjectName: 'cairn', seed, ops, plain, trace, maxMismatches,
        }));
      } finally {
        // The reference's data dir (60 MB of preallocated WAL) tells nothing the report does
        // not; only cairn's is kept when the run fails.
        await etcd.dispose();
      }
    });
  });
});

describe('differential harness self-check: etcd vs etcd', {
  skip: process.env.DIFF_ETCD_VS_ETCD === '1' ? skipReason(false) : 'set DIFF_ETCD_VS_ETCD=1 to run',
  timeout: testTimeoutMs,
}, () => {
  it(`two fresh etcds answer the same ${ops} requests identically (seed ${seed})`, async () => {
    await withServers(async (scope) => {
      const [a, b] = await Promise.all([scope.startEtcd(), scope.startEtcd()]);
      checkSummary(await runDiff({
        subjectUrl: b.clientUrl, referenceUrl: a.clientUrl, subjectName: 'etcd#2', seed, ops, plain, trace, maxMismatches,
      }));
    });
  });
});
