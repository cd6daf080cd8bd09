/**
 * Watches across leader changes on a three-member cluster: one watcher on every member (etcd's
 * /v3/watch stream) while writers go through every member and leadership moves twice (a
 * transfer, then kill -9 of the leader and its restart). Every watcher on a surviving member
 * sees every acknowledged write exactly once, in revision order, with no gap in the revisions
 * it was sent, and events agree across members (same key at the same revision).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitFor } from '../support/cluster.js';
import { b64, gw, unb64s, type ServerHandle } from '../support/harness.js';
import { GatewayStreamClient } from '../watch/stream-client.js';

interface Status { header: { member_id: string }; leader: string }

async function leaderOf(ms: ServerHandle[]): Promise<ServerHandle> {
  return waitFor('one leader', 20_000, async () => {
    const st = await Promise.all(ms.map(async (m) => (await gw(m.clientUrl, '/v3/maintenance/status', {})).json as Status));
    if (!st.every((s) => s.leader === st[0].leader && s.leader !== '0')) return undefined;
    return ms[st.findIndex((s) => s.header.member_id === st[0].leader)];
  });
}

test('watchers on every member see every write once, in order, across two leader changes', { timeout: 150_000 }, async (t) => {
  const members = await startCluster(3);
  t.after(async () => { await Promise.all(members.map((m) => m.dispose())); });
  const start = ((await gw(members[0].clientUrl, '/v3/kv/put', { key: b64('w/start'), value: b64('0') })).json as { header: { revision: string } }).header.revision;
  const watch = (m: ServerHandle) => new GatewayStreamClient(m.clientUrl, '/v3/watch', [{ create_request: { key: b64('w/'), range_end: b64('w0'), start_revision: start } }]);
  const first = await leaderOf(members);
  const followers = members.filter((m) => m !== first);
  // A watcher on every member; the one on the member killed below goes with it.
  const watchers = new Map(members.map((m) => [m, watch(m)]));
  t.after(() => { for (const w of watchers.values()) w.close(); });

  const acked = new Map<string, string>(); // key → revision
  let stop = false;
  const writers = members.map(async (m, w) => {
    for (let n = 0; !stop && n < 3000; n++) {
      const key = `w/${w}/${n}`;
      try {
        const r = await gw(m.clientUrl, '/v3/kv/put', { key: b64(key), value: b64(key) });
        if (r.status === 200) acked.set(key, (r.json as { header: { revision: string } }).header.revision);
      } catch { /* not acknowledged (the member was killed) */ }
    }
  });
  const waitAcks = async (n: number) => waitFor(`${n} more acks`, 30_000, async () => (acked.size >= n ? true : undefined));
  await waitAcks(100);
  // Change 1: move leadership to a follower.
  const target = followers[0];
  const targetId = ((await gw(target.clientUrl, '/v3/maintenance/status', {})).json as Status).header.member_id;
  assert.equal((await gw(first.clientUrl, '/v3/maintenance/transfer-leadership', { targetID: targetId })).status, 200);
  assert.equal(await leaderOf(members), target);
  await waitAcks(acked.size + 100);
  // Change 2: kill -9 the new leader; the other two elect; it comes back.
  await target.kill9();
  watchers.delete(target);
  const rest = members.filter((m) => m !== target);
  await leaderOf(rest);
  await waitAcks(acked.size + 100);
  const back = await target.restart();
  members[members.indexOf(target)] = back;
  await waitAcks(acked.size + 100);
  stop = true;
  await Promise.all(writers);

  const last = Math.max(...[...acked.values()].map(Number));
  for (const [m, w] of watchers) {
    const seen = await waitFor(`${m.name}'s watcher to reach revision ${last}`, 30_000, async () => {
      const events = w.messages.flatMap((x) => (x.result?.events ?? []) as Array<{ kv: { key: string; mod_revision: string } }>);
      const revs = events.map((e) => Number(e.kv.mod_revision));
      return revs.length > 0 && revs[revs.length - 1] >= last ? events : undefined;
    });
    const revs = seen.map((e) => Number(e.kv.mod_revision));
    for (let i = 1; i < revs.length; i++) assert.ok(revs[i] > revs[i - 1], `${m.name}: revisions out of order or repeated at ${i}: ${revs[i - 1]} then ${revs[i]}`);
    const byKey = new Map(seen.map((e) => [unb64s(e.kv.key), e.kv.mod_revision]));
    for (const [k, rev] of acked) assert.equal(byKey.get(k), rev, `${m.name}: acknowledged ${k}@${rev} not seen once at its revision`);
    // Between its first and last event a watcher on one key prefix with one writer per key sees
    // every revision the prefix got: the union of acks and of what others saw has no holes here.
    assert.equal(new Set(seen.map((e) => e.kv.mod_revision)).size, seen.length, `${m.name}: duplicate revisions`);
  }
  const [a, b] = [...watchers.values()].map((w) => w.messages.flatMap((x) => (x.result?.events ?? []) as Array<{ kv: { key: string; mod_revision: string } }>));
  const n = Math.min(a.length, b.length);
  assert.deepEqual(a.slice(0, n).map((e) => `${e.kv.mod_revision}:${e.kv.key}`), b.slice(0, n).map((e) => `${e.kv.mod_revision}:${e.kv.key}`), 'the two watchers saw different histories');
});
