/**
 * Leases on a three-member cluster: keep-alives and time-to-live sent to followers reach the
 * leader (the only member whose expiry clock is current), as etcd's followers forward them. A
 * lease kept alive only through followers outlives its TTL many times over; a follower's
 * time-to-live shows the renewal at once; once keep-alives stop, the lease expires and its key is
 * deleted on every member at one revision; a keep-alive to a follower after a leader change still
 * reaches the (new) leader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitFor } from '../support/cluster.js';
import { b64, gw, type ServerHandle } from '../support/harness.js';

const TTL_SEC = 3;

interface Status { header: { member_id: string }; leader: string }

async function roles(ms: ServerHandle[]): Promise<{ leader: ServerHandle; followers: ServerHandle[] }> {
  return waitFor('a leader', 20_000, async () => {
    const st = await Promise.all(ms.map(async (m) => (await gw(m.clientUrl, '/v3/maintenance/status', {})).json as Status));
    const i = st.findIndex((s) => s.header.member_id === st[0].leader && st.every((o) => o.leader === st[0].leader));
    return i >= 0 ? { leader: ms[i], followers: ms.filter((_, j) => j !== i) } : undefined;
  });
}

async function keepAlive(m: ServerHandle, id: string): Promise<string | undefined> {
  const r = await gw(m.clientUrl, '/v3/lease/keepalive', `{"ID":"${id}"}`);
  assert.equal(r.status, 200, r.text);
  return (JSON.parse(r.text.trim().split('\n')[0]) as { result: { TTL?: string } }).result.TTL;
}

async function remaining(m: ServerHandle, id: string): Promise<number> {
  const r = await gw(m.clientUrl, '/v3/lease/timetolive', { ID: id, keys: true });
  assert.equal(r.status, 200, r.text);
  return Number((r.json as { TTL: string }).TTL);
}

test('keep-alive and time-to-live through followers reach the leader', { timeout: 120_000 }, async (t) => {
  const members = await startCluster(3);
  t.after(async () => { await Promise.all(members.map((m) => m.dispose())); });
  const { leader, followers } = await roles(members);
  const grant = await gw(followers[0].clientUrl, '/v3/lease/grant', { TTL: TTL_SEC });
  assert.equal(grant.status, 200, grant.text);
  const id = (grant.json as { ID: string }).ID;
  assert.equal((await gw(followers[1].clientUrl, '/v3/kv/put', { key: b64('held'), value: b64('1'), lease: id })).status, 200);

  // Renew only through followers, for well over three TTLs.
  const until = Date.now() + 3.5 * TTL_SEC * 1000;
  let n = 0;
  while (Date.now() < until) {
    assert.equal(await keepAlive(followers[n++ % 2], id), String(TTL_SEC));
    // Right after a renewal, a follower's time-to-live is the leader's fresh view.
    assert.ok(await remaining(followers[n % 2], id) >= TTL_SEC - 1, 'time-to-live on a follower shows the renewal');
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const m of members) {
    const r = await gw(m.clientUrl, '/v3/kv/range', { key: b64('held') });
    assert.equal((r.json as { count?: string }).count, '1', `${m.name} still has the key of the renewed lease`);
  }
  const ttl = await gw(followers[1].clientUrl, '/v3/lease/timetolive', { ID: id, keys: true });
  assert.deepEqual((ttl.json as { keys: string[] }).keys, [b64('held')]);

  // Move leadership: a keep-alive through a follower reaches the new leader.
  const target = followers[0];
  const targetId = ((await gw(target.clientUrl, '/v3/maintenance/status', {})).json as Status).header.member_id;
  const moved = await gw(leader.clientUrl, '/v3/maintenance/transfer-leadership', { targetID: targetId });
  assert.equal(moved.status, 200, moved.text);
  const after = await roles(members);
  assert.equal(after.leader, target);
  assert.equal(await keepAlive(after.followers[0], id), String(TTL_SEC));

  // Stop renewing: the lease expires and its key goes, at one revision everywhere.
  await waitFor('the lease to expire', 20_000, async () => ((await remaining(after.followers[1], id)) === -1 ? true : undefined));
  const revs = await Promise.all(members.map(async (m) => {
    const r = await waitFor(`${m.name} to delete the key`, 10_000, async () => {
      const x = await gw(m.clientUrl, '/v3/kv/range', { key: b64('held'), serializable: true });
      return (x.json as { count?: string }).count === undefined ? x : undefined;
    });
    return (r.json as { header: { revision: string } }).header.revision;
  }));
  assert.equal(new Set(revs).size, 1, `the same revision everywhere: ${revs.join(', ')}`);
  assert.equal(await keepAlive(after.followers[0], id), undefined, 'a keep-alive of an expired lease answers without TTL');
});
