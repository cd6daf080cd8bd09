/**
 * A member whose data dir belongs to another cluster (the seed guide's warning: a stale data dir,
 * or the cluster re-created with a new --initial-cluster-token) is refused by the others with a
 * cluster-ID mismatch and stops with a message naming both cluster IDs, while the healthy
 * cluster keeps serving: the stale member must never take the good ones down with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterLayout, waitFor } from '../support/cluster.js';
import { launchMember, type MemberLayout } from '../support/member.js';
import { b64, gw, type ServerHandle } from '../support/harness.js';

test('a member with a data dir of another cluster stops and says why; the others keep serving', { timeout: 120_000 }, async (t) => {
  const { layouts } = await clusterLayout(3);
  const handles: ServerHandle[] = [];
  t.after(async () => { await Promise.all(handles.map((h) => h.dispose())); });
  // Cluster A, all three members; then stopped.
  const a = await Promise.all(layouts.map((l) => launchMember(l, true)));
  handles.push(...a);
  const idA = ((await gw(a[0].clientUrl, '/v3/kv/range', { key: b64('x') })).json as { header: { cluster_id: string } }).header.cluster_id;
  await Promise.all(a.map((h) => h.stop()));

  // Cluster B on the same addresses: m1 and m2 with fresh data dirs and another token.
  const b: MemberLayout[] = [];
  for (const l of layouts.slice(0, 2)) {
    b.push({ ...l, dataDir: await mkdtemp(join(tmpdir(), `cairn-test-b-${l.name}-`)), initialClusterToken: `${l.initialClusterToken}-b` });
  }
  const bHandles = await Promise.all(b.map((l) => launchMember(l, true)));
  handles.push(...bHandles);
  const idB = ((await gw(bHandles[0].clientUrl, '/v3/kv/put', { key: b64('b'), value: b64('1') })).json as { header: { cluster_id: string } }).header.cluster_id;
  assert.notEqual(idA, idB);

  // m3 starts on its old data dir (cluster A): refused by both, it stops.
  const stale = launchMember({ ...layouts[2], initialClusterToken: `${layouts[2].initialClusterToken}-b` }, true);
  const failure = await stale.then(() => null, (e: Error) => e);
  assert.ok(failure, 'the stale member must not become healthy');
  const idHex = (dec: string) => BigInt(dec).toString(16);
  assert.match(failure.message, new RegExp(`belongs to cluster ${idHex(idB)}, but this data dir belongs to cluster ${idHex(idA)}`), failure.message.slice(-2000));

  // Cluster B never stopped: both still serve linearizable writes and reads.
  for (const h of bHandles) {
    assert.equal(h.exitInfo(), null, `${h.name} of the healthy cluster stopped:\n${h.logs().slice(-2000)}`);
    const r = await waitFor(`${h.name} to take a write`, 10_000, async () => {
      const x = await gw(h.clientUrl, '/v3/kv/put', { key: b64(`after/${h.name}`), value: b64('ok') });
      return x.status === 200 ? x : undefined;
    });
    assert.equal(r.status, 200);
  }
  assert.match(bHandles[0].logs() + bHandles[1].logs(), /cluster ID mismatch/);
});
