/**
 * Differential check of the lock and election calls against a real etcd 3.4: the same script
 * (fixed lease IDs, so keys and revisions match) on a fresh cairn and a fresh etcd, each answer
 * compared whole (status, body; only cluster_id, member_id and raft_term ignored), including
 * error bodies and the first message of an observe stream. Skipped without etcd or cairn.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cairnBuilt, etcdAvailable, gw, b64, withServers } from '../support/harness.js';
import { GatewayStreamClient } from '../watch/stream-client.js';
import { firstDifference, normalise } from '../diff/compare.js';

interface Step { step: string; status: number; json: unknown }

const LEASE_A = '7001';
const LEASE_B = '7002';

async function script(url: string): Promise<Step[]> {
  const steps: Step[] = [];
  const call = async (step: string, path: string, body: unknown) => {
    const r = await gw(url, path, body);
    steps.push({ step, status: r.status, json: r.json ?? r.text });
    return r;
  };
  await call('grant A', '/v3/lease/grant', { ID: LEASE_A, TTL: 30 });
  await call('grant B', '/v3/lease/grant', { ID: LEASE_B, TTL: 30 });
  const lock = await call('lock', '/v3/lock/lock', { name: b64('dl'), lease: LEASE_A });
  await call('lock again, same lease', '/v3/lock/lock', { name: b64('dl'), lease: LEASE_A });
  await call('lock unknown lease', '/v3/lock/lock', { name: b64('dl2'), lease: '999' });
  await call('lock bad base64', '/v3/lock/lock', { name: '!!' });
  await call('unlock no key', '/v3/lock/unlock', {});
  await call('unlock', '/v3/lock/unlock', { key: lock.json.key });
  await call('unlock gone key', '/v3/lock/unlock', { key: lock.json.key });
  await call('leader, none', '/v3/election/leader', { name: b64('el') });
  const obs = new GatewayStreamClient(url, '/v3/election/observe', [{ name: b64('el') }]);
  obs.endRequest();
  try {
    const c = await call('campaign', '/v3/election/campaign', { name: b64('el'), lease: LEASE_A, value: b64('v1') });
    const [first] = await obs.waitFor(1);
    steps.push({ step: 'observe, first message', status: obs.status, json: first });
    await call('campaign again, new value', '/v3/election/campaign', { name: b64('el'), lease: LEASE_A, value: b64('v0') });
    await call('leader', '/v3/election/leader', { name: b64('el') });
    await call('proclaim', '/v3/election/proclaim', { leader: c.json.leader, value: b64('v2') });
    await call('proclaim, stale rev', '/v3/election/proclaim', { leader: { ...c.json.leader, rev: '1' }, value: b64('x') });
    await call('proclaim, no leader', '/v3/election/proclaim', { value: b64('x') });
    await call('resign, stale rev', '/v3/election/resign', { leader: { ...c.json.leader, rev: '1' } });
    await call('resign, no leader', '/v3/election/resign', {});
    await call('resign', '/v3/election/resign', { leader: c.json.leader });
    await call('campaign unknown lease', '/v3/election/campaign', { name: b64('el'), lease: '999', value: b64('v') });
    await call('campaign B', '/v3/election/campaign', { name: b64('el'), lease: LEASE_B, value: b64('b') });
    await obs.waitFor(4);
    await obs.settle(200);
    obs.messages.forEach((m, i) => steps.push({ step: `observe message ${i}`, status: obs.status, json: m }));
  } finally {
    obs.close();
  }
  return steps;
}

const skip = !etcdAvailable() ? 'etcd not installed' : !cairnBuilt() ? 'cairn not built' : false;

describe('lock and election against etcd 3.4 (differential)', { skip, timeout: 60_000 }, () => {
  it('answers every call as etcd does', async () => {
    await withServers(async (scope) => {
      const [cairn, etcd] = await Promise.all([scope.startCairn(), scope.startEtcd()]);
      const [ours, theirs] = await Promise.all([script(cairn.clientUrl), script(etcd.clientUrl)]);
      assert.equal(ours.length, theirs.length);
      for (let i = 0; i < ours.length; i++) {
        const d = firstDifference(normalise(ours[i]), normalise(theirs[i]));
        assert.equal(d, null, `step "${ours[i].step}": ${d}\ncairn: ${JSON.stringify(ours[i])}\netcd:  ${JSON.stringify(theirs[i])}`);
      }
    });
  });
});
