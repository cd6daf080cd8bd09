/**
 * SIGSTOP a member of a three-member cluster under write load (from its point of view, a
 * partition), then SIGCONT it: the others keep serving, nothing acknowledged is lost, nothing is
 * written twice, and the paused member catches up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, waitFor } from '../support/cluster.js';
import { b64, gw, type ServerHandle } from '../support/harness.js';


async function leaderIndex(ms: ServerHandle[]): Promise<number> {
  return waitFor('a leader', 15_000, async () => {
    const ids = await Promise.all(ms.map(async (m) => ((await gw(m.clientUrl, '/v3/maintenance/status', {})).json as { header: { member_id: string }; leader: string })));
    const i = ids.findIndex((s) => s.header.member_id === ids[0].leader);
    return i >= 0 ? i : undefined;
  });
}

for (const role of ['leader', 'follower'] as const) {
  test(`SIGSTOP and SIGCONT the ${role} under write load: no lost or doubled writes`, { timeout: 120_000 }, async (t) => {
    const members = await startCluster(3);
    t.after(async () => {
      for (const m of members) { try { process.kill(m.pid, 'SIGCONT'); } catch { /* gone */ } }
      await Promise.all(members.map((m) => m.dispose()));
    });
    const li = await leaderIndex(members);
    const paused = role === 'leader' ? members[li] : members[(li + 1) % 3];
    const others = members.filter((m) => m !== paused);
    const acked: string[] = [];
    let stop = false;
    const writers = others.map(async (m, w) => {
      for (let n = 0; !stop && n < 2000; n++) {
        const key = `p/${w}/${n}`;
        try {
          const r = await gw(m.clientUrl, '/v3/kv/put', { key: b64(key), value: b64(key) });
          if (r.status === 200) acked.push(key);
        } catch { /* not acknowledged */ }
      }
    });
    await waitFor('load', 10_000, async () => (acked.length > 20 ? true : undefined));
    process.kill(paused.pid, 'SIGSTOP');
    const atPause = acked.length;
    // The rest of the cluster goes on writing while the member is frozen (a new leader if needed).
    await waitFor('writes while paused', 20_000, async () => (acked.length > atPause + 50 ? true : undefined));
    process.kill(paused.pid, 'SIGCONT');
    await waitFor('more writes after resume', 20_000, async () => (acked.length > atPause + 100 ? true : undefined));
    stop = true;
    await Promise.all(writers);
    // Every acknowledged key, on every member (the paused one once it caught up), at version 1.
    for (const m of members) {
      await waitFor(`${m.name} to hold every acknowledged key`, 30_000, async () => {
        const r = await gw(m.clientUrl, '/v3/kv/range', { key: b64('p/'), range_end: b64('p0'), keys_only: true, serializable: true });
        const kvs = ((r.json as { kvs?: Array<{ key: string; version: string }> }).kvs) ?? [];
        const have = new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), kv.version]));
        return acked.every((k) => have.get(k) === '1') ? true : undefined;
      });
    }
  });
}

test('/health is false on a member that cannot reach a quorum, and true again when it can', { timeout: 120_000 }, async (t) => {
  const members = await startCluster(3);
  t.after(async () => {
    for (const m of members) { try { process.kill(m.pid, 'SIGCONT'); } catch { /* gone */ } }
    await Promise.all(members.map((m) => m.dispose()));
  });
  const [alone, a, b] = members;
  const health = async (m: ServerHandle) => {
    const r = await gw(m.clientUrl, '/health', undefined, { method: 'GET' });
    return { status: r.status, body: r.json as { health: string } };
  };
  assert.deepEqual((await health(alone)).body, { health: 'true' });
  process.kill(a.pid, 'SIGSTOP');
  process.kill(b.pid, 'SIGSTOP');
  const down = await waitFor('health false without quorum', 30_000, async () => {
    const h = await health(alone);
    return h.body.health === 'false' ? h : undefined;
  });
  assert.equal(down.status, 503);
  process.kill(a.pid, 'SIGCONT');
  process.kill(b.pid, 'SIGCONT');
  await waitFor('health true with quorum back', 30_000, async () => ((await health(alone)).body.health === 'true' ? true : undefined));
});
