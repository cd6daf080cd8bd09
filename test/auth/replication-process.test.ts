/**
 * Auth state travels through the log: on a three-member cluster of real processes, users, roles
 * and the enabled flag set on one member hold on the others; a simple token issued by one member
 * works on every member (the authenticate entry registers it everywhere); a permission revoked
 * through one member refuses a put sent to another, decided in log order; a restart of the whole
 * cluster keeps the auth state. A single member started with `--auth-token jwt,...` (keys made
 * here) issues tokens that verify and expire as configured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, waitFor } from '../support/cluster.js';
import { spawnSync } from 'node:child_process';
import { b64, cairnBuilt, cairnEntry, freePorts, isHealthy, withServers, type ServerHandle } from '../support/harness.js';

const callTimeoutMs = 10_000;
const skip = cairnBuilt() ? false : 'cairn not built';

async function call(m: ServerHandle, path: string, body: unknown, token?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = token;
  const res = await fetch(`${m.clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers, signal: AbortSignal.timeout(callTimeoutMs) });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) };
}

async function ok(m: ServerHandle, path: string, body: unknown, token?: string): Promise<any> {
  const r = await call(m, path, body, token);
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.json)}`);
  return r.json;
}

async function refused(m: ServerHandle, path: string, body: unknown, token: string | undefined, message: string): Promise<void> {
  const r = await call(m, path, body, token);
  assert.equal(r.json.message, message, `${path}: ${JSON.stringify(r.json)}`);
}

async function login(m: ServerHandle, name: string, password: string): Promise<string> {
  return (await ok(m, '/v3/auth/authenticate', { name, password })).token as string;
}

test('auth state replicates: set on one member, used and checked on the others, kept across restarts', { skip, timeout: 150_000 }, async (t) => {
  let members = await startCluster(3);
  t.after(async () => { await Promise.all(members.map((m) => m.dispose())); });
  const [m1, m2, m3] = members;

  await ok(m1, '/v3/auth/user/add', { name: 'root', password: 'rootpw' });
  await ok(m1, '/v3/auth/user/grant', { user: 'root', role: 'root' });
  await ok(m1, '/v3/auth/user/add', { name: 'alice', password: 'alicepw' });
  await ok(m1, '/v3/auth/role/add', { name: 'app' });
  await ok(m1, '/v3/auth/role/grant', { name: 'app', perm: { permType: 'READWRITE', key: b64('app/'), range_end: b64('app0') } });
  await ok(m1, '/v3/auth/user/grant', { user: 'alice', role: 'app' });
  await ok(m1, '/v3/auth/enable', {});

  // m2 and m3 see auth on (linearizable: no waiting needed).
  await refused(m3, '/v3/kv/range', { key: b64('app/x') }, undefined, 'etcdserver: user name is empty');
  const alice = await login(m2, 'alice', 'alicepw');
  await ok(m3, '/v3/kv/put', { key: b64('app/x'), value: b64('1') }, alice);
  await refused(m3, '/v3/kv/put', { key: b64('other'), value: b64('1') }, alice, 'etcdserver: permission denied');
  const read = await ok(m1, '/v3/kv/range', { key: b64('app/x') }, alice);
  assert.equal(read.count, '1');
  await refused(m2, '/v3/auth/user/list', {}, alice, 'etcdserver: permission denied');

  // A revoke through m1, then a put through m3: the put comes later in the log, so it is refused.
  const root = await login(m1, 'root', 'rootpw');
  await ok(m1, '/v3/auth/role/revoke', { role: 'app', key: b64('app/'), range_end: b64('app0') }, root);
  await refused(m3, '/v3/kv/put', { key: b64('app/x'), value: b64('2') }, alice, 'etcdserver: permission denied');
  await refused(m2, '/v3/kv/range', { key: b64('app/x') }, alice, 'etcdserver: permission denied');
  const value = await ok(m2, '/v3/kv/range', { key: b64('app/x') }, root);
  assert.equal(Buffer.from(value.kvs[0].value, 'base64').toString(), '1', 'the refused put changed nothing');

  // The whole cluster restarts from its data dirs: auth is still on, with the same users and roles.
  members = await Promise.all(members.map((m) => m.restart()));
  await waitFor('the restarted cluster to serve', 30_000, async () => ((await Promise.all(members.map((m) => isHealthy(m.clientUrl)))).every(Boolean) ? true : undefined));
  const [r1, r2, r3] = members;
  await refused(r1, '/v3/kv/range', { key: b64('app/x') }, undefined, 'etcdserver: user name is empty');
  await refused(r2, '/v3/kv/range', { key: b64('app/x') }, alice, 'etcdserver: invalid auth token');
  const root2 = await login(r3, 'root', 'rootpw');
  assert.deepEqual((await ok(r1, '/v3/auth/user/list', {}, root2)).users, ['alice', 'root']);
  assert.deepEqual((await ok(r2, '/v3/auth/user/get', { name: 'alice' }, root2)).roles, ['app']);
  assert.equal((await ok(r3, '/v3/auth/role/get', { role: 'app' }, root2)).perm, undefined, 'the revoke is kept');
  const status = await ok(r2, '/v3/auth/status', {});
  assert.equal(status.enabled, true);
  assert.ok(Number(status.authRevision) >= 8, JSON.stringify(status));
});

test('--auth-token jwt: RS256 tokens signed with the configured key; --auth-token jwt ttl expires them', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-jwt-'));
  try {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(join(dir, 'priv.pem'), privateKey);
    writeFileSync(join(dir, 'pub.pem'), publicKey);
    const authToken = `jwt,pub-key=${join(dir, 'pub.pem')},priv-key=${join(dir, 'priv.pem')},sign-method=RS256,ttl=3s`;
    await withServers(async (scope) => {
      const m = await scope.startCairn({ extraArgs: ['--auth-token', authToken] });
      await ok(m, '/v3/auth/user/add', { name: 'root', password: 'pw' });
      await ok(m, '/v3/auth/user/grant', { user: 'root', role: 'root' });
      await ok(m, '/v3/auth/enable', {});
      const token = await login(m, 'root', 'pw');
      const [h, p] = token.split('.');
      assert.equal(JSON.parse(Buffer.from(h, 'base64url').toString()).alg, 'RS256');
      assert.equal(JSON.parse(Buffer.from(p, 'base64url').toString()).username, 'root');
      await ok(m, '/v3/kv/put', { key: b64('k'), value: b64('v') }, token);
      const forged = `${h}.${Buffer.from(JSON.stringify({ username: 'root', revision: 1, exp: 9e9 })).toString('base64url')}.${token.split('.')[2]}`;
      await refused(m, '/v3/kv/range', { key: b64('k') }, forged, 'etcdserver: invalid auth token');
      await waitFor('the token to expire (ttl=3s)', 10_000, async () => ((await call(m, '/v3/kv/range', { key: b64('k') }, token)).status === 401 ? true : undefined));
      await refused(m, '/v3/kv/range', { key: b64('k') }, token, 'etcdserver: invalid auth token');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--auth-token-ttl: a simple token lapses that many seconds after its last use', { skip, timeout: 60_000 }, async () => {
  await withServers(async (scope) => {
    const m = await scope.startCairn({ extraArgs: ['--auth-token-ttl', '2'] });
    await ok(m, '/v3/auth/user/add', { name: 'root', password: 'pw' });
    await ok(m, '/v3/auth/user/grant', { user: 'root', role: 'root' });
    await ok(m, '/v3/auth/enable', {});
    const token = await login(m, 'root', 'pw');
    await ok(m, '/v3/kv/range', { key: b64('k') }, token);
    let lastUse = Date.now();
    // Used again within the TTL, it stays valid (each use starts the TTL again).
    await waitFor('1.2 s since the last use', 5_000, async () => (Date.now() - lastUse >= 1_200 ? true : undefined));
    await ok(m, '/v3/kv/range', { key: b64('k') }, token);
    lastUse = Date.now();
    await waitFor('1.2 s since the last use', 5_000, async () => (Date.now() - lastUse >= 1_200 ? true : undefined));
    await ok(m, '/v3/kv/range', { key: b64('k') }, token);
    lastUse = Date.now();
    // Probing would renew it: wait on the clock alone, then try once.
    await waitFor('the TTL (2 s) and a margin to pass since the last use', 10_000, async () => (Date.now() - lastUse >= 3_000 ? true : undefined));
    await refused(m, '/v3/kv/range', { key: b64('k') }, token, 'etcdserver: invalid auth token');
  });
});

test('--auth-token jwt with an unreadable key file: the member says so and exits 1 before serving', { skip, timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-jwt-bad-'));
  try {
    const [client, peer] = await freePorts(2);
    const entry = cairnEntry();
    const r = spawnSync(entry.command, [...entry.args,
      '--data-dir', join(dir, 'data'), '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `default=http://127.0.0.1:${peer}`,
      '--auth-token', `jwt,pub-key=${join(dir, 'missing.pem')},priv-key=${join(dir, 'missing.pem')},sign-method=ES256`,
    ], { timeout: 20_000, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /--auth-token: ENOENT: no such file or directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
