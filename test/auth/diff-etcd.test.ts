/**
 * Differential check of etcd's v3 auth against a real etcd 3.4: the same script of calls (users,
 * roles, permissions on keys, ranges and prefixes, enable/disable, authenticate, every KV call,
 * txn compares and both branches, lease revoke, watch and lock with and without permission,
 * tokens refused after a password change and after disable) on a fresh cairn and a fresh etcd,
 * each answer compared whole (status and body; only cluster_id, member_id, raft_term and the
 * token text ignored). Skipped without etcd or cairn.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cairnBuilt, etcdAvailable, b64, withServers } from '../support/harness.js';
import { firstDifference, normalise } from '../diff/compare.js';

interface Step { step: string; status: number; json: unknown }

const callTimeoutMs = 10_000;

async function post(url: string, path: string, body: unknown, token?: string): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = token;
  const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), headers, signal: AbortSignal.timeout(callTimeoutMs) });
  // A watch stream stays open: its first line is all this script needs.
  const text = path === '/v3/watch' ? await firstLine(res) : await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

async function firstLine(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  await reader.cancel();
  return text.split('\n')[0];
}

const ALL = b64('\0');

async function script(url: string): Promise<Step[]> {
  const steps: Step[] = [];
  const call = async (step: string, path: string, body: unknown, token?: string) => {
    const r = await post(url, path, body, token);
    const json = r.json && typeof r.json === 'object' && typeof r.json.token === 'string' ? { ...r.json, token: '<token>' } : r.json;
    steps.push({ step, status: r.status, json: json ?? r.text });
    return r;
  };
  const login = async (step: string, name: string, password: string) => (await call(step, '/v3/auth/authenticate', { name, password })).json?.token as string;

  await call('enable without root', '/v3/auth/enable', {});
  await call('add root', '/v3/auth/user/add', { name: 'root', password: 'rpw' });
  await call('add root again', '/v3/auth/user/add', { name: 'root', password: 'rpw' });
  await call('add empty user', '/v3/auth/user/add', { name: '', password: 'x' });
  await call('add alice', '/v3/auth/user/add', { name: 'alice', password: 'apw' });
  await call('add bob', '/v3/auth/user/add', { name: 'bob', password: 'bpw' });
  await call('get root (no roles)', '/v3/auth/user/get', { name: 'root' });
  await call('get unknown user', '/v3/auth/user/get', { name: 'nobody' });
  await call('add role r1', '/v3/auth/role/add', { name: 'r1' });
  await call('add role r1 again', '/v3/auth/role/add', { name: 'r1' });
  await call('add empty role', '/v3/auth/role/add', { name: '' });
  await call('grant rw foo', '/v3/auth/role/grant', { name: 'r1', perm: { permType: 'READWRITE', key: b64('foo') } });
  await call('grant read prefix p/', '/v3/auth/role/grant', { name: 'r1', perm: { permType: 'READ', key: b64('p/'), range_end: b64('p0') } });
  await call('grant write a.. (number enum)', '/v3/auth/role/grant', { name: 'r1', perm: { permType: 1, key: b64('a'), range_end: ALL } });
  await call('grant to unknown role', '/v3/auth/role/grant', { name: 'nope', perm: { permType: 'READ', key: b64('x') } });
  await call('grant bad enum', '/v3/auth/role/grant', { name: 'r1', perm: { permType: 'BOGUS', key: b64('x') } });
  await call('role get r1 (sorted by key, READ omitted)', '/v3/auth/role/get', { role: 'r1' });
  await call('role get unknown', '/v3/auth/role/get', { role: 'nope' });
  await call('add role r2', '/v3/auth/role/add', { name: 'r2' });
  await call('r2 read [a,c)', '/v3/auth/role/grant', { name: 'r2', perm: { key: b64('a'), range_end: b64('c') } });
  await call('r2 read [c,e)', '/v3/auth/role/grant', { name: 'r2', perm: { key: b64('c'), range_end: b64('e') } });
  await call('role list', '/v3/auth/role/list', {});
  await call('grant r1 to alice', '/v3/auth/user/grant', { user: 'alice', role: 'r1' });
  await call('grant r1 to alice again', '/v3/auth/user/grant', { user: 'alice', role: 'r1' });
  await call('grant unknown role', '/v3/auth/user/grant', { user: 'alice', role: 'nope' });
  await call('grant to unknown user', '/v3/auth/user/grant', { user: 'nobody', role: 'r1' });
  await call('grant r2 to bob', '/v3/auth/user/grant', { user: 'bob', role: 'r2' });
  await call('user list', '/v3/auth/user/list', {});
  await call('enable, root without root role', '/v3/auth/enable', {});
  await call('authenticate while disabled', '/v3/auth/authenticate', { name: 'alice', password: 'apw' });
  await call('grant root role to root (no role object)', '/v3/auth/user/grant', { user: 'root', role: 'root' });
  await call('enable', '/v3/auth/enable', {});
  await call('enable again without token', '/v3/auth/enable', {});
  await call('range without token', '/v3/kv/range', { key: b64('foo') });
  await call('put without token', '/v3/kv/put', { key: b64('foo'), value: b64('x') });
  await call('lease grant without token', '/v3/lease/grant', { ID: 7001, TTL: 60 });
  await call('user list without token', '/v3/auth/user/list', {});
  await call('bad token', '/v3/kv/range', { key: b64('foo') }, 'not-a-token');
  await call('bad token on lease grant', '/v3/lease/grant', { TTL: 60 }, 'not-a-token');
  await call('wrong password', '/v3/auth/authenticate', { name: 'alice', password: 'nope' });
  await call('unknown user', '/v3/auth/authenticate', { name: 'nobody', password: 'nope' });
  const alice = await login('authenticate alice', 'alice', 'apw');
  const root = await login('authenticate root', 'root', 'rpw');
  const bob = await login('authenticate bob', 'bob', 'bpw');

  await call('alice put foo', '/v3/kv/put', { key: b64('foo'), value: b64('1') }, alice);
  await call('alice range foo', '/v3/kv/range', { key: b64('foo') }, alice);
  await call('alice put foo prev_kv', '/v3/kv/put', { key: b64('foo'), value: b64('2'), prev_kv: true }, alice);
  await call('alice put fop (write a..)', '/v3/kv/put', { key: b64('fop'), value: b64('3') }, alice);
  await call('alice range fop (no read)', '/v3/kv/range', { key: b64('fop') }, alice);
  await call('alice put fop prev_kv (no read)', '/v3/kv/put', { key: b64('fop'), value: b64('3'), prev_kv: true }, alice);
  await call('alice put A (below a)', '/v3/kv/put', { key: b64('A'), value: b64('3') }, alice);
  await call('alice range prefix p/', '/v3/kv/range', { key: b64('p/'), range_end: b64('p0') }, alice);
  await call('alice range p/1..p/2', '/v3/kv/range', { key: b64('p/1'), range_end: b64('p/2') }, alice);
  await call('alice range p/..p1 (too wide)', '/v3/kv/range', { key: b64('p/'), range_end: b64('p1') }, alice);
  await call('alice range all', '/v3/kv/range', { key: ALL, range_end: ALL }, alice);
  await call('root range all', '/v3/kv/range', { key: ALL, range_end: ALL }, root);
  await call('alice put p/x (read only)', '/v3/kv/put', { key: b64('p/x'), value: b64('v') }, alice);
  await call('root put p/x', '/v3/kv/put', { key: b64('p/x'), value: b64('v') }, root);
  await call('alice delete p/x (read only)', '/v3/kv/deleterange', { key: b64('p/x') }, alice);
  await call('alice delete fop prev_kv (no read)', '/v3/kv/deleterange', { key: b64('fop'), prev_kv: true }, alice);
  await call('bob range [b,d) across two grants', '/v3/kv/range', { key: b64('b'), range_end: b64('d') }, bob);
  await call('bob range [a,e)', '/v3/kv/range', { key: b64('a'), range_end: b64('e') }, bob);
  await call('bob range [b,f)', '/v3/kv/range', { key: b64('b'), range_end: b64('f') }, bob);
  await call('bob range inverted [d,b)', '/v3/kv/range', { key: b64('d'), range_end: b64('b') }, bob);

  const cmp = (key: string) => [{ key: b64(key), target: 'VERSION', result: 'EQUAL', version: '0' }];
  await call('txn compare without read', '/v3/kv/txn', { compare: cmp('zz'), success: [{ request_put: { key: b64('foo'), value: b64('t') } }] }, alice);
  await call('txn failure branch denied', '/v3/kv/txn', { compare: cmp('foo'), success: [{ request_put: { key: b64('foo'), value: b64('t') } }], failure: [{ request_range: { key: b64('zz') } }] }, alice);
  await call('txn both branches allowed', '/v3/kv/txn', { success: [{ request_put: { key: b64('foo'), value: b64('t') } }], failure: [{ request_put: { key: b64('zz'), value: b64('t') } }] }, alice);
  await call('txn put denied changes nothing', '/v3/kv/txn', { success: [{ request_put: { key: b64('foo'), value: b64('u') } }, { request_put: { key: b64('A'), value: b64('u') } }] }, alice);
  await call('foo after the refused txn', '/v3/kv/range', { key: b64('foo') }, root);

  await call('alice lease grant', '/v3/lease/grant', { ID: 7002, TTL: 60 }, alice);
  await call('root put p/l on the lease', '/v3/kv/put', { key: b64('p/l'), value: b64('v'), lease: '7002' }, root);
  await call('alice put foo on the lease (p/l not writable)', '/v3/kv/put', { key: b64('foo'), value: b64('v'), lease: '7002' }, alice);
  await call('alice revoke (p/l not writable)', '/v3/lease/revoke', { ID: '7002' }, alice);
  await call('revoke without token', '/v3/lease/revoke', { ID: '7002' });
  await call('p/l still there', '/v3/kv/range', { key: b64('p/l') }, root);
  await call('root revoke', '/v3/lease/revoke', { ID: '7002' }, root);

  await call('watch denied', '/v3/watch', { create_request: { key: b64('zz') } }, alice);
  await call('watch without token', '/v3/watch', { create_request: { key: b64('foo') } });
  await call('watch allowed', '/v3/watch', { create_request: { key: b64('foo') } }, alice);
  await call('lock without token', '/v3/lock/lock', { name: b64('zz'), lease: '7001' });
  await call('lock denied', '/v3/lock/lock', { name: b64('zz'), lease: '7001' }, alice);
  const held = await call('lock allowed (READ p/, WRITE p/<lease>)', '/v3/lock/lock', { name: b64('p'), lease: '7001' }, alice);
  await call('unlock denied without token', '/v3/lock/unlock', { key: held.json?.key });
  await call('unlock allowed', '/v3/lock/unlock', { key: held.json?.key }, alice);
  await call('campaign denied', '/v3/election/campaign', { name: b64('zz'), lease: '7001', value: b64('v') }, alice);
  const led = await call('campaign allowed', '/v3/election/campaign', { name: b64('p'), lease: '7001', value: b64('v') }, alice);
  await call('leader denied', '/v3/election/leader', { name: b64('zz') }, alice);
  await call('leader allowed', '/v3/election/leader', { name: b64('p') }, alice);
  await call('resign allowed', '/v3/election/resign', { leader: led.json?.leader }, alice);

  await call('hash without token', '/v3/maintenance/hash', {});
  await call('hash as alice', '/v3/maintenance/hash', {}, alice);
  await call('compaction without token', '/v3/kv/compaction', { revision: '2' });
  await call('compaction as alice', '/v3/kv/compaction', { revision: '2' }, alice);
  await call('alice role list', '/v3/auth/role/list', {}, alice);
  await call('alice gets herself', '/v3/auth/user/get', { name: 'alice' }, alice);
  await call('alice gets root', '/v3/auth/user/get', { name: 'root' }, alice);
  await call('alice gets her role', '/v3/auth/role/get', { role: 'r1' }, alice);
  await call('alice gets r2', '/v3/auth/role/get', { role: 'r2' }, alice);
  await call('alice adds a role', '/v3/auth/role/add', { name: 'r3' }, alice);
  await call('alice disables', '/v3/auth/disable', {}, alice);
  await call('delete root', '/v3/auth/user/delete', { name: 'root' }, root);
  await call('revoke root from root', '/v3/auth/user/revoke', { name: 'root', role: 'root' }, root);
  await call('delete role root', '/v3/auth/role/delete', { role: 'root' }, root);
  await call('revoke a perm not granted', '/v3/auth/role/revoke', { role: 'r1', key: b64('zz') }, root);
  await call('revoke prefix perm', '/v3/auth/role/revoke', { role: 'r1', key: b64('p/'), range_end: b64('p0') }, root);
  await call('alice range p/1 after revoke', '/v3/kv/range', { key: b64('p/1') }, alice);
  await call('revoke role not granted', '/v3/auth/user/revoke', { name: 'alice', role: 'r2' }, root);
  await call('changepw unknown', '/v3/auth/user/changepw', { name: 'nobody', password: 'x' }, root);
  await call('changepw alice', '/v3/auth/user/changepw', { name: 'alice', password: 'a2' }, root);
  await call('old token after changepw', '/v3/kv/range', { key: b64('foo') }, alice);
  const alice2 = await login('authenticate alice, new password', 'alice', 'a2');
  await call('new token', '/v3/kv/range', { key: b64('foo') }, alice2);
  await call('no-password user', '/v3/auth/user/add', { name: 'np', options: { no_password: true } }, root);
  await call('no-password login', '/v3/auth/authenticate', { name: 'np', password: '' });
  await call('delete unknown user', '/v3/auth/user/delete', { name: 'nobody' }, root);
  await call('delete unknown role', '/v3/auth/role/delete', { role: 'nope' }, root);
  await call('delete bob', '/v3/auth/user/delete', { name: 'bob' }, root);
  await call('bob token after delete', '/v3/kv/range', { key: b64('b') }, bob);
  await call('disable', '/v3/auth/disable', {}, root);
  await call('root token after disable', '/v3/kv/range', { key: b64('foo') }, root);
  await call('disable again', '/v3/auth/disable', {});
  await call('delete role r1 (taken from alice)', '/v3/auth/role/delete', { role: 'r1' });
  await call('alice has no roles', '/v3/auth/user/get', { name: 'alice' });
  await call('delete root while disabled', '/v3/auth/user/delete', { name: 'root' });
  await call('users at the end', '/v3/auth/user/list', {});
  await call('roles at the end', '/v3/auth/role/list', {});
  return steps;
}

const skip = !etcdAvailable() ? 'etcd not installed' : !cairnBuilt() ? 'cairn not built' : false;

describe('auth against etcd 3.4 (differential)', { skip, timeout: 120_000 }, () => {
  it('answers every call as etcd does', async () => {
    await withServers(async (scope) => {
      const [cairn, etcd] = await Promise.all([scope.startCairn(), scope.startEtcd()]);
      const [ours, theirs] = await Promise.all([script(cairn.clientUrl), script(etcd.clientUrl)]);
      assert.equal(ours.length, theirs.length);
      for (let i = 0; i < ours.length; i++) {
        const d = firstDifference(normalise(ours[i]), normalise(theirs[i]));
        assert.equal(d, null, `step "${ours[i].step}": ${d}\ncairn: ${JSON.stringify(ours[i])}\netcd:  ${JSON.stringify(theirs[i])}`);
      }
      assert.ok(ours.length > 100, `${ours.length} calls compared`);
    });
  });
});
