/**
 * Membership with real processes: add a learner through the API, start it with
 * --initial-cluster-state existing and an empty data dir, watch it catch up, promote it, remove
 * another member (which stops and says why), and refuse a member of another cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterLayout, waitFor } from '../support/cluster.js';
import { launchMember, type MemberLayout } from '../support/member.js';
import { b64, freePorts, gw, unb64s, type ServerHandle } from '../support/harness.js';


interface MemberJson { ID: string; name?: string; peerURLs: string[]; clientURLs?: string[]; isLearner?: boolean }

async function memberList(url: string): Promise<MemberJson[]> {
  const r = await gw(url, '/v3/cluster/member/list', {});
  assert.equal(r.status, 200, r.text);
  return (r.json as { members: MemberJson[] }).members;
}

test('add a learner, join it with an empty data dir, promote it, remove another member', { timeout: 180_000 }, async (t) => {
  const { layouts, initialCluster } = await clusterLayout(3);
  const members: ServerHandle[] = await Promise.all(layouts.map((l) => launchMember(l, true)));
  const extra: ServerHandle[] = [];
  t.after(async () => { await Promise.all([...members, ...extra].map((m) => m.dispose())); });
  // Membership calls go to the leader, as etcdctl's do after etcd forwards them.
  const leaderUrl = async (): Promise<string> => waitFor('a leader', 15_000, async () => {
    const st = (await gw(members[0].clientUrl, '/v3/maintenance/status', {})).json as { leader: string };
    for (const m of members) {
      const h = (await gw(m.clientUrl, '/v3/maintenance/status', {})).json as { header: { member_id: string } };
      if (h.header.member_id === st.leader) return m.clientUrl;
    }
    return undefined;
  });
  const url = await leaderUrl();

  for (let i = 0; i < 50; i++) await gw(url, '/v3/kv/put', { key: b64(`pre/${i}`), value: b64(String(i)) });
  // Each member publishes its name and client URLs through the log after it starts (as etcd).
  const before = await waitFor('every member to publish its attributes', 15_000, async () => {
    const list = await memberList(url);
    return list.every((m) => m.name && m.clientURLs && m.clientURLs.length === 1) ? list : undefined;
  });
  assert.equal(before.length, 3);

  // Add a learner for a fourth member.
  const [clientPort, peerPort] = await freePorts(2);
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const add = await gw(url, '/v3/cluster/member/add', { peerURLs: [peerUrl], isLearner: true });
  assert.equal(add.status, 200, add.text);
  const added = (add.json as { member: MemberJson; members: MemberJson[] });
  assert.deepEqual(added.member.peerURLs, [peerUrl]);
  assert.equal(added.member.isLearner, true);
  assert.equal(added.members.length, 4);
  const dup = await gw(url, '/v3/cluster/member/add', { peerURLs: [peerUrl] });
  assert.equal(dup.status, 412);
  assert.equal((dup.json as { error: string }).error, 'etcdserver: Peer URLs already exists');

  // Start it as etcd's guide says: the new initial cluster and state "existing".
  const m4: MemberLayout = {
    ...layouts[0], name: 'm4', clientPort, peerPort, dataDir: await mkdtemp(join(tmpdir(), 'cairn-test-cairn-m4-')),
    initialCluster: `${initialCluster},m4=${peerUrl}`,
  };
  // A learner cannot serve linearizable reads until it has caught up; launchMember waits for /health.
  const learner = await launchMember(m4, true, 'existing');
  extra.push(learner);
  await waitFor('the learner to catch up', 30_000, async () => {
    const r = await gw(learner.clientUrl, '/v3/kv/range', { key: b64('pre/49'), serializable: true });
    const kvs = (r.json as { kvs?: Array<{ value: string }> }).kvs;
    return kvs && unb64s(kvs[0].value) === '49' ? true : undefined;
  });

  // Promote it, then it is a voter.
  const id4 = added.member.ID;
  const promoted = await waitFor('promotion', 20_000, async () => {
    const r = await gw(url, '/v3/cluster/member/promote', { ID: id4 });
    return r.status === 200 ? r : undefined;
  });
  assert.equal((promoted.json as { members: MemberJson[] }).members.find((m) => m.ID === id4)?.isLearner, undefined);
  const notLearner = await gw(url, '/v3/cluster/member/promote', { ID: id4 });
  assert.equal((notLearner.json as { error: string }).error, 'etcdserver: can only promote a learner member');

  // Remove a follower: it stops by itself and says why; the others go on.
  const list = await memberList(url);
  const victimHandle = members.find((m) => m.clientUrl !== url)!;
  const victim = list.find((m) => m.peerURLs[0] === victimHandle.peerUrl)!;
  const [spare] = await freePorts(1);
  const upd = await gw(url, '/v3/cluster/member/update', { ID: victim.ID, peerURLs: [`http://127.0.0.1:${spare}`] });
  assert.equal(upd.status, 200, upd.text);
  assert.deepEqual((upd.json as { members: MemberJson[] }).members.find((m) => m.ID === victim.ID)?.peerURLs, [`http://127.0.0.1:${spare}`]);
  await waitFor('the update to reach every member', 10_000, async () =>
    (await memberList(learner.clientUrl)).find((m) => m.ID === victim.ID)?.peerURLs[0] === `http://127.0.0.1:${spare}` ? true : undefined);
  const rm = await gw(url, '/v3/cluster/member/remove', { ID: victim.ID });
  assert.equal(rm.status, 200, rm.text);
  assert.equal((rm.json as { members: MemberJson[] }).members.length, 3);
  await waitFor('the removed member to stop', 20_000, async () => (victimHandle.exitInfo() ? true : undefined));
  assert.match(victimHandle.logs(), /removed from the cluster/);
  const missing = await gw(url, '/v3/cluster/member/remove', { ID: victim.ID });
  assert.equal((missing.json as { error: string }).error, 'etcdserver: member not found');
  const w = await gw(learner.clientUrl, '/v3/kv/put', { key: b64('after-remove'), value: b64('ok') });
  assert.equal(w.status, 200, w.text);
  assert.equal(unb64s(((await gw(url, '/v3/kv/range', { key: b64('after-remove') })).json as { kvs: Array<{ value: string }> }).kvs[0].value), 'ok');
});
