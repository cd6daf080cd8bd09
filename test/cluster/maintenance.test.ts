/**
 * Maintenance on a three-member cluster of real processes:
 * - the NOSPACE alarm: past --quota-backend-bytes a put is refused with etcd's error and the
 *   alarm is raised through the log, so every member lists it and refuses writes that add data
 *   (puts, txns with a put, lease grants) while reads, deletes and compaction are still served;
 *   compaction, defragment and `alarm disarm` clear it (the answers' shapes are etcd 3.4's,
 *   checked by hand against `etcd --quota-backend-bytes`: no header on alarm answers, `errors`
 *   in status);
 * - snapshot save from a follower, `snapshot status`, and `snapshot restore` into three new data
 *   dirs that found a new cluster holding the same key space (same hashkv at the same revision).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { clusterLayout, startCluster, waitFor } from '../support/cluster.js';
import { launchMember } from '../support/member.js';
import { b64, gw, unb64s, type ServerHandle } from '../support/harness.js';
import { cairnctl } from '../cli/cli-harness.js';

const QUOTA_BYTES = 2_500_000;
const BIG_VALUE = b64('v'.repeat(60_000));

interface Status { header: { member_id: string }; leader: string; dbSize: string; errors?: string[] }

async function status(m: ServerHandle): Promise<Status> {
  const r = await gw(m.clientUrl, '/v3/maintenance/status', {});
  assert.equal(r.status, 200, r.text);
  return r.json as Status;
}

async function alarms(m: ServerHandle): Promise<Array<{ memberID: string; alarm: string }>> {
  const r = await gw(m.clientUrl, '/v3/maintenance/alarm', { action: 'GET' });
  assert.equal(r.status, 200, r.text);
  assert.equal((r.json as { header?: unknown }).header, undefined, 'etcd 3.4 answers alarm calls without a header');
  return (r.json as { alarms?: Array<{ memberID: string; alarm: string }> }).alarms ?? [];
}

test('NOSPACE: past the quota writes are refused everywhere, reads and deletes go on; compact, defragment and disarm clear it', { timeout: 180_000 }, async (t) => {
  const members = await startCluster(3, { extraArgs: ['--quota-backend-bytes', String(QUOTA_BYTES)] });
  t.after(async () => { await Promise.all(members.map((m) => m.dispose())); });
  const [m1, m2, m3] = members;

  let refused: { status: number; json: unknown } | undefined;
  let acked = 0;
  for (let i = 0; i < 200 && !refused; i++) {
    const r = await gw(m1.clientUrl, '/v3/kv/put', { key: b64(`big/${String(i).padStart(3, '0')}`), value: BIG_VALUE });
    if (r.status === 200) acked++;
    else refused = r;
  }
  assert.ok(refused, 'the quota was never reached');
  assert.ok(acked > 10, `only ${acked} puts were accepted before the quota`);
  assert.equal(refused.status, 429);
  assert.deepEqual(refused.json, { error: 'etcdserver: mvcc: database space exceeded', message: 'etcdserver: mvcc: database space exceeded', code: 8 });

  const m1Id = (await status(m1)).header.member_id;
  for (const m of members) {
    await waitFor(`the alarm on ${m.name}`, 10_000, async () => ((await alarms(m)).length > 0 ? true : undefined));
    assert.deepEqual(await alarms(m), [{ memberID: m1Id, alarm: 'NOSPACE' }]);
    assert.deepEqual((await status(m)).errors, [`memberID:${m1Id} alarm:NOSPACE `]);
  }
  // (Below, the other members' files are past the quota too: a write they are asked for raises
  // their own NOSPACE alarm as well, as etcd's members each do.)

  // Every member refuses what adds data, even a small put well under its own quota.
  const small = await gw(m3.clientUrl, '/v3/kv/put', { key: b64('small'), value: b64('x') });
  assert.equal(small.status, 429, small.text);
  const txnPut = await gw(m2.clientUrl, '/v3/kv/txn', { success: [{ request_put: { key: b64('t'), value: b64('x') } }] });
  assert.equal(txnPut.status, 429, txnPut.text);
  const grant = await gw(m2.clientUrl, '/v3/lease/grant', { TTL: 60 });
  assert.equal(grant.status, 429, grant.text);
  // Reads (linearizable), read-only txns, deletes and compaction are served.
  const read = await gw(m3.clientUrl, '/v3/kv/range', { key: b64('big/000') });
  assert.equal(read.status, 200, read.text);
  assert.equal(unb64s((read.json as { kvs: Array<{ value: string }> }).kvs[0].value).length, 60_000);
  const txnRead = await gw(m2.clientUrl, '/v3/kv/txn', { success: [{ request_range: { key: b64('big/001') } }] });
  assert.equal(txnRead.status, 200, txnRead.text);
  const del = await gw(m2.clientUrl, '/v3/kv/deleterange', { key: b64('big/'), range_end: b64('big0') });
  assert.equal(del.status, 200, del.text);
  assert.equal((del.json as { deleted: string }).deleted, String(acked));
  const rev = (del.json as { header: { revision: string } }).header.revision;
  const compact = await gw(m1.clientUrl, '/v3/kv/compaction', { revision: rev, physical: true });
  assert.equal(compact.status, 200, compact.text);

  // Defragment every member: the files shrink, the data stays.
  for (const m of members) {
    const before = Number((await status(m)).dbSize);
    const d = await gw(m.clientUrl, '/v3/maintenance/defragment', {});
    assert.equal(d.status, 200, d.text);
    const after = Number((await status(m)).dbSize);
    assert.ok(after < before / 2, `${m.name}: ${before} → ${after} bytes`);
  }
  // Still refused until disarmed (as etcd: the alarm stays until deactivated).
  assert.equal((await gw(m1.clientUrl, '/v3/kv/put', { key: b64('small'), value: b64('x') })).status, 429);
  const raised = await alarms(m2);
  assert.ok(raised.every((a) => a.alarm === 'NOSPACE') && raised.some((a) => a.memberID === m1Id), JSON.stringify(raised));
  // As `etcdctl alarm disarm`: deactivate each raised alarm.
  for (const a of raised) {
    const disarm = await gw(m2.clientUrl, '/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID: a.memberID, alarm: 'NOSPACE' });
    assert.equal(disarm.status, 200, disarm.text);
    assert.deepEqual(disarm.json, { alarms: [a] });
  }
  const again = await gw(m2.clientUrl, '/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID: m1Id, alarm: 'NOSPACE' });
  assert.deepEqual(again.json, {}, 'nothing left to clear');
  for (const m of members) assert.deepEqual(await alarms(m), []);
  for (const m of members) {
    const r = await gw(m.clientUrl, '/v3/kv/put', { key: b64(`after/${m.name}`), value: b64('ok') });
    assert.equal(r.status, 200, r.text);
  }
  const bad = await gw(m1.clientUrl, '/v3/maintenance/alarm', { action: 'BOGUS' });
  const badText = 'unknown value "BOGUS" for enum etcdserverpb.AlarmRequest_AlarmAction'; // etcd 3.4's answer
  assert.deepEqual({ status: bad.status, json: bad.json }, { status: 400, json: { error: badText, message: badText, code: 3 } });
});

test('snapshot save from a follower, status, and restore into a new three-member cluster', { timeout: 180_000 }, async (t) => {
  const members = await startCluster(3);
  const started: ServerHandle[] = [...members];
  t.after(async () => { await Promise.all(started.map((m) => m.dispose())); });
  for (let i = 0; i < 200; i++) {
    const r = await gw(members[i % 3].clientUrl, '/v3/kv/put', { key: b64(`s/${String(i).padStart(3, '0')}`), value: b64(`v${i}`) });
    assert.equal(r.status, 200, r.text);
  }
  const lease = await gw(members[0].clientUrl, '/v3/lease/grant', { TTL: 900, ID: 4242 });
  assert.equal(lease.status, 200, lease.text);
  assert.equal((await gw(members[0].clientUrl, '/v3/kv/put', { key: b64('leased'), value: b64('l'), lease: '4242' })).status, 200);
  assert.equal((await gw(members[1].clientUrl, '/v3/kv/deleterange', { key: b64('s/000') })).status, 200);

  const st = await status(members[0]);
  const followerOf = async () => {
    for (const m of members) if ((await status(m)).header.member_id !== st.leader) return m;
    throw new Error('no follower');
  };
  const from = await followerOf();
  // The follower's copy is as of its applied index: wait until it has everything.
  const revision = (await gw(members[0].clientUrl, '/v3/kv/range', { key: b64('x') })).json as { header: { revision: string } };
  await gw(from.clientUrl, '/v3/kv/range', { key: b64('x') }); // a linearizable read: applied up to the leader's commit
  const work = await mkdtemp(join(tmpdir(), 'cairn-snap-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const file = join(work, 'backup.snap');
  const saved = await cairnctl(from.clientUrl, ['snapshot', 'save', file]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(saved.stdout, /Snapshot saved at/);

  const hashkv = await gw(from.clientUrl, '/v3/maintenance/hashkv', { revision: revision.header.revision });
  const hashAtSave = (hashkv.json as { hash: number }).hash;
  const stat = await cairnctl(null, ['snapshot', 'status', file, '-w', 'json']);
  assert.equal(stat.code, 0, stat.stderr);
  const s = JSON.parse(stat.stdout) as { hash: number; revision: number; totalKey: number; totalSize: number };
  assert.equal(String(s.revision), revision.header.revision);
  assert.equal(s.totalKey, 200); // 199 of s/ and "leased"
  assert.equal(s.hash, hashAtSave);

  await Promise.all(members.map((m) => m.stop()));
  const { layouts, initialCluster } = await clusterLayout(3);
  for (const l of layouts) {
    await rm(l.dataDir, { recursive: true, force: true });
    const r = await cairnctl(null, [
      'snapshot', 'restore', file, '--data-dir', l.dataDir, '--name', l.name, '--initial-cluster', initialCluster,
      '--initial-cluster-token', l.initialClusterToken, '--initial-advertise-peer-urls', `http://127.0.0.1:${l.peerPort}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const again = await cairnctl(null, ['snapshot', 'restore', file, '--data-dir', layouts[0].dataDir]);
  assert.notEqual(again.code, 0, 'restoring over an existing data dir must fail');
  assert.match(again.stderr, /exists/);

  const restored = await Promise.all(layouts.map((l) => launchMember(l, true)));
  started.push(...restored);
  // A new cluster: the same key space at the same revision, the lease with its key.
  for (const m of restored) {
    const h = await gw(m.clientUrl, '/v3/maintenance/hashkv', { revision: revision.header.revision });
    assert.equal(h.status, 200, h.text);
    assert.equal((h.json as { hash: number }).hash, hashAtSave, `${m.name}: hashkv at the snapshot's revision`);
  }
  const ttl = await gw(restored[2].clientUrl, '/v3/lease/timetolive', { ID: '4242', keys: true });
  assert.equal(ttl.status, 200, ttl.text);
  assert.deepEqual((ttl.json as { keys: string[] }).keys.map(unb64s), ['leased']);
  const list = await gw(restored[0].clientUrl, '/v3/cluster/member/list', {});
  assert.equal((list.json as { members: unknown[] }).members.length, 3);
  assert.notEqual((list.json as { header: { cluster_id: string } }).header.cluster_id, (st as unknown as { header: { cluster_id: string } }).header.cluster_id);
  const put = await gw(restored[1].clientUrl, '/v3/kv/put', { key: b64('new'), value: b64('cluster') });
  assert.equal(put.status, 200, put.text);
  assert.equal(BigInt((put.json as { header: { revision: string } }).header.revision), BigInt(revision.header.revision) + 1n, 'revisions continue from the snapshot');
  for (const m of restored) {
    const r = await gw(m.clientUrl, '/v3/kv/range', { key: b64('new') });
    assert.equal(unb64s((r.json as { kvs: Array<{ value: string }> }).kvs[0].value), 'cluster');
  }
});
