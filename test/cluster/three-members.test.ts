/**
 * A three-member Cairn cluster of real processes on 127.0.0.1: writes through every member,
 * linearizable reads everywhere, the leader killed under write load, a follower restarted, the
 * whole cluster restarted from its data dirs. Every acknowledged write must survive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitFor } from '../support/cluster.js';
import { b64, gw, unb64s, type ServerHandle } from '../support/harness.js';

async function status(m: ServerHandle): Promise<{ leader: string; raftTerm: string; raftAppliedIndex: string }> {
  const r = await gw(m.clientUrl, '/v3/maintenance/status', {});
  assert.equal(r.status, 200, r.text);
  return r.json as never;
}

async function memberId(m: ServerHandle): Promise<string> {
  const r = await gw(m.clientUrl, '/v3/kv/range', { key: b64('x'), serializable: true });
  return (r.json as { header: { member_id: string } }).header.member_id;
}


async function leaderOf(ms: ServerHandle[]): Promise<ServerHandle> {
  return waitFor('a leader', 15_000, async () => {
    const ids = await Promise.all(ms.map(memberId));
    for (const m of ms) {
      const s = await status(m);
      const i = ids.indexOf(s.leader);
      if (s.leader !== '0' && i >= 0) return ms[i];
    }
    return undefined;
  });
}

async function get(m: ServerHandle, key: string, serializable = false): Promise<string | undefined> {
  const r = await gw(m.clientUrl, '/v3/kv/range', { key: b64(key), serializable });
  assert.equal(r.status, 200, r.text);
  const kvs = (r.json as { kvs?: Array<{ value?: string }> }).kvs;
  return kvs ? unb64s(kvs[0].value) : undefined;
}

test('three members: one cluster, writes anywhere, linearizable reads everywhere, failover and restarts', { timeout: 180_000 }, async (t) => {
  let members = await startCluster(3);
  t.after(async () => { await Promise.all(members.map((m) => m.dispose())); });

  // One cluster: the same cluster id everywhere, three distinct members, one leader.
  const heads = await Promise.all(members.map((m) => gw(m.clientUrl, '/v3/kv/range', { key: b64('x') })));
  const clusterIds = new Set(heads.map((h) => (h.json as { header: { cluster_id: string } }).header.cluster_id));
  assert.equal(clusterIds.size, 1);
  const list = await gw(members[0].clientUrl, '/v3/cluster/member/list', {});
  assert.equal((list.json as { members: unknown[] }).members.length, 3);
  await leaderOf(members);

  // A write through each member is readable (linearizably) from every member at once.
  for (const [i, m] of members.entries()) {
    const r = await gw(m.clientUrl, '/v3/kv/put', { key: b64(`k${i}`), value: b64(`v${i}`) });
    assert.equal(r.status, 200, r.text);
    for (const reader of members) assert.equal(await get(reader, `k${i}`), `v${i}`);
  }

  // Kill the leader under write load: a new leader comes, every acknowledged write survives.
  const oldLeader = await leaderOf(members);
  const acked: string[] = [];
  let stop = false;
  const writers = members.map(async (m, w) => {
    for (let n = 0; !stop && n < 400; n++) {
      const key = `load/${w}/${n}`;
      try {
        const r = await gw(m.clientUrl, '/v3/kv/put', { key: b64(key), value: b64(key) });
        if (r.status === 200) acked.push(key);
      } catch {
        // the killed member's connections fail: those writes were never acknowledged
      }
    }
  });
  await waitFor('some load', 10_000, async () => (acked.length >= 30 ? true : undefined));
  await oldLeader.kill9();
  const survivors = members.filter((m) => m !== oldLeader);
  const newLeader = await leaderOf(survivors);
  assert.notEqual(newLeader, oldLeader);
  await waitFor('writes after failover', 20_000, async () => {
    const r = await gw(survivors[0].clientUrl, '/v3/kv/put', { key: b64('after-failover'), value: b64('ok') });
    return r.status === 200 ? true : undefined;
  });
  stop = true;
  await Promise.all(writers);

  // The old leader comes back and catches up from the log.
  const back = await oldLeader.restart();
  members = [...survivors, back];
  await waitFor('the restarted member to catch up', 20_000, async () => ((await get(back, 'after-failover', true)) === 'ok' ? true : undefined));
  for (const key of acked) {
    for (const m of members) assert.equal(await get(m, key, true), key, `acknowledged ${key} missing on ${m.name}`);
  }

  // The whole cluster restarts from its data dirs and still has everything.
  const restarted = await Promise.all(members.map((m) => m.restart()));
  members = restarted;
  await leaderOf(members);
  for (const key of acked.slice(0, 50)) assert.equal(await get(members[0], key), key);
  assert.equal(await get(members[2], 'k0'), 'v0');
});
