/**
 * The auth state's rules (etcd 3.4's auth store, as observed on 3.4.23), its table records
 * surviving a reload, passwords (scrypt, salted, never stored in clear), tokens (simple with a
 * sliding TTL; JWT signed, expiring, refused when forged or of another algorithm), the client
 * certificate hook, and auth changes applied with key-space writes in log order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { AuthStore, type AuthTable, type AuthTableChange } from '../../src/auth/auth-store.js';
import type { AuthOp } from '../../src/auth/auth-requests.js';
import { hashPassword, verifyPassword } from '../../src/auth/password.js';
import { JwtTokens, SimpleTokens, type JwtAlgorithm } from '../../src/auth/tokens.js';
import { AuthService } from '../../src/server/auth-service.js';
import { Lessor } from '../../src/lease/lessor.js';
import { MemoryLeaseTable } from '../../src/lease/lease-record.js';
import { applyServerBatch } from '../../src/server/lease-apply.js';
import type { ServerRequest } from '../../src/server/requests.js';
import { FakeStore } from '../lease/fake-store.js';

class MemoryAuthTable implements AuthTable {
  readonly rows = new Map<string, string>();
  write(changes: readonly AuthTableChange[]): void {
    for (const c of changes) {
      if (c.value === null) this.rows.delete(c.key);
      else this.rows.set(c.key, c.value);
    }
  }
  loadAll() {
    return [...this.rows].map(([key, value]) => ({ key, value }));
  }
}

const kind = (k: string) => (e: { kind?: string }) => e.kind === k;
const b = (s: string) => new Uint8Array(Buffer.from(s));

function applyAll(s: AuthStore, table: MemoryAuthTable, ops: AuthOp[], caller?: string | null): void {
  for (const op of ops) table.write(s.apply(op, caller));
}

const rootSetup: AuthOp[] = [
  { op: 'userAdd', name: 'root', passwordHash: null, noPassword: true },
  { op: 'userGrantRole', user: 'root', role: 'root' },
];

describe('auth store rules', () => {
  it('enable needs a root user that has the root role; granting the role "root" needs no role object', () => {
    const s = new AuthStore(null);
    assert.throws(() => s.apply({ op: 'enable' }, undefined), kind('RootUserNotExist'));
    s.apply(rootSetup[0], undefined);
    assert.throws(() => s.apply({ op: 'enable' }, undefined), kind('RootRoleNotExist'));
    s.apply(rootSetup[1], undefined);
    s.apply({ op: 'enable' }, undefined);
    assert.equal(s.enabled, true);
  });

  it('while enabled: root cannot be deleted nor lose root, the root role cannot be deleted; only root administers', () => {
    const s = new AuthStore(null);
    const t = new MemoryAuthTable();
    applyAll(s, t, [...rootSetup, { op: 'userAdd', name: 'alice', passwordHash: null, noPassword: true }, { op: 'roleAdd', name: 'root' }, { op: 'enable' }]);
    assert.throws(() => s.apply({ op: 'userDelete', name: 'root' }, 'root'), kind('InvalidAuthMgmt'));
    assert.throws(() => s.apply({ op: 'userRevokeRole', name: 'root', role: 'root' }, 'root'), kind('InvalidAuthMgmt'));
    assert.throws(() => s.apply({ op: 'roleDelete', role: 'root' }, 'root'), kind('InvalidAuthMgmt'));
    assert.throws(() => s.apply({ op: 'roleAdd', name: 'x' }, 'alice'), kind('PermissionDenied'));
    assert.throws(() => s.apply({ op: 'roleAdd', name: 'x' }, null), kind('UserEmpty'));
    assert.throws(() => s.apply({ op: 'roleAdd', name: 'x' }, 'ghost'), kind('UserNotFound'));
    s.apply({ op: 'roleAdd', name: 'x' }, 'root');
    // Disabled again: the same changes are allowed to anyone.
    s.apply({ op: 'disable' }, 'root');
    s.apply({ op: 'roleDelete', role: 'root' }, null);
    s.apply({ op: 'userDelete', name: 'root' }, null);
  });

  it('errors as etcd words them; repeating a grant changes nothing; the same grant key replaces the type', () => {
    const s = new AuthStore(null);
    assert.throws(() => s.apply({ op: 'userAdd', name: '', passwordHash: null, noPassword: true }, undefined), kind('UserEmpty'));
    assert.throws(() => s.apply({ op: 'roleAdd', name: '' }, undefined), kind('RoleEmpty'));
    s.apply({ op: 'userAdd', name: 'u', passwordHash: null, noPassword: true }, undefined);
    assert.throws(() => s.apply({ op: 'userAdd', name: 'u', passwordHash: null, noPassword: true }, undefined), kind('UserAlreadyExist'));
    s.apply({ op: 'roleAdd', name: 'r' }, undefined);
    assert.throws(() => s.apply({ op: 'roleAdd', name: 'r' }, undefined), kind('RoleAlreadyExist'));
    assert.throws(() => s.apply({ op: 'userGrantRole', user: 'u', role: 'nope' }, undefined), kind('RoleNotFound'));
    assert.throws(() => s.apply({ op: 'userGrantRole', user: 'nope', role: 'r' }, undefined), kind('UserNotFound'));
    s.apply({ op: 'userGrantRole', user: 'u', role: 'r' }, undefined);
    const rev = s.revision;
    assert.deepEqual(s.apply({ op: 'userGrantRole', user: 'u', role: 'r' }, undefined), []);
    assert.equal(s.revision, rev, 'an existing grant bumps no auth revision');
    assert.throws(() => s.apply({ op: 'userRevokeRole', name: 'u', role: 'x' }, undefined), kind('RoleNotGranted'));
    s.apply({ op: 'roleGrantPermission', name: 'r', perm: { permType: 'READ', key: b('k'), rangeEnd: b('') } }, undefined);
    s.apply({ op: 'roleGrantPermission', name: 'r', perm: { permType: 'WRITE', key: b('k'), rangeEnd: b('') } }, undefined);
    s.apply({ op: 'roleGrantPermission', name: 'r', perm: { permType: 'READ', key: b('a'), rangeEnd: b('b') } }, undefined);
    assert.deepEqual(s.getRole(null, 'r').perms.map((p) => [p.permType, Buffer.from(p.key).toString()]), [['READ', 'a'], ['WRITE', 'k']]);
    assert.throws(() => s.apply({ op: 'roleRevokePermission', role: 'r', key: b('k'), rangeEnd: b('z') }, undefined), kind('PermissionNotGranted'));
    s.apply({ op: 'roleRevokePermission', role: 'r', key: b('k'), rangeEnd: b('') }, undefined);
    // Deleting a role takes it from its users.
    s.apply({ op: 'roleDelete', role: 'r' }, undefined);
    assert.deepEqual(s.getUser(null, 'u').roles, []);
  });

  it('reads: a user sees itself and its roles; the rest needs root', () => {
    const s = new AuthStore(null);
    applyAll(s, new MemoryAuthTable(), [...rootSetup, { op: 'userAdd', name: 'a', passwordHash: null, noPassword: true },
      { op: 'roleAdd', name: 'ra' }, { op: 'roleAdd', name: 'rb' }, { op: 'userGrantRole', user: 'a', role: 'ra' }, { op: 'enable' }]);
    assert.deepEqual(s.getUser('a', 'a').roles, ['ra']);
    assert.throws(() => s.getUser('a', 'root'), kind('PermissionDenied'));
    assert.equal(s.getRole('a', 'ra').name, 'ra');
    assert.throws(() => s.getRole('a', 'rb'), kind('PermissionDenied'));
    assert.throws(() => s.listUsers('a'), kind('PermissionDenied'));
    assert.deepEqual(s.listUsers('root'), ['a', 'root']);
    assert.deepEqual(s.listRoles('root'), ['ra', 'rb']);
  });

  it('the table holds everything: a reload gives the same users, roles, flag and revision', () => {
    const s = new AuthStore(null);
    const t = new MemoryAuthTable();
    applyAll(s, t, [...rootSetup, { op: 'roleAdd', name: 'r' },
      { op: 'roleGrantPermission', name: 'r', perm: { permType: 'READWRITE', key: b('p/'), rangeEnd: b('p0') } },
      { op: 'userGrantRole', user: 'root', role: 'r' }, { op: 'enable' }]);
    const again = new AuthStore(null);
    again.load(t);
    assert.equal(again.enabled, true);
    assert.equal(again.revision, s.revision);
    assert.deepEqual(again.getUser('root', 'root'), s.getUser('root', 'root'));
    assert.deepEqual(again.getRole('root', 'r'), s.getRole('root', 'r'));
  });
});

describe('passwords', () => {
  const cost = { log2N: 10, r: 8, p: 1 };
  it('hashes are salted scrypt (the password appears nowhere) and verify in constant time', async () => {
    const h1 = await hashPassword('s3cret', cost);
    const h2 = await hashPassword('s3cret', cost);
    assert.match(h1, /^scrypt\$10\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.notEqual(h1, h2, 'a fresh salt each time');
    assert.ok(!h1.includes('s3cret'));
    assert.equal(await verifyPassword('s3cret', h1), true);
    assert.equal(await verifyPassword('s3cre', h1), false);
    assert.equal(await verifyPassword('s3cret', 'plain'), false);
  });

  it('the store checks them: wrong password and unknown user look the same; no-password users cannot log in', async () => {
    const s = new AuthStore(null);
    s.apply({ op: 'userAdd', name: 'root', passwordHash: await hashPassword('pw', cost), noPassword: false }, undefined);
    s.apply({ op: 'userAdd', name: 'np', passwordHash: null, noPassword: true }, undefined);
    await assert.rejects(s.checkPassword('root', 'pw'), kind('AuthNotEnabled'));
    s.apply({ op: 'userGrantRole', user: 'root', role: 'root' }, undefined);
    s.apply({ op: 'enable' }, undefined);
    await s.checkPassword('root', 'pw');
    await assert.rejects(s.checkPassword('root', 'bad'), kind('AuthFailed'));
    await assert.rejects(s.checkPassword('ghost', 'pw'), kind('AuthFailed'));
    await assert.rejects(s.checkPassword('np', ''), kind('NoPasswordUser'));
  });
});

describe('tokens', () => {
  it('simple tokens lapse TTL after their last use; each use starts the TTL again; bounded in number', () => {
    let now = 0;
    const t = new SimpleTokens({ ttlMs: 1000, maxSimpleTokens: 3, now: () => now });
    const a = t.newToken();
    assert.match(a, /^[A-Za-z]{16}\.\d+$/);
    t.register(a, 'alice');
    now = 900;
    assert.equal(t.lookup(a), 'alice');
    now = 1800;
    assert.equal(t.lookup(a), 'alice', 'the use at 900 ms moved the end to 1900 ms');
    now = 2800;
    assert.equal(t.lookup(a), null);
    for (let i = 0; i < 5; i++) t.register(`t${i}`, 'u');
    assert.equal(t.size, 3);
    assert.equal(t.lookup('t0'), null, 'the oldest go first');
    t.invalidateUser('u');
    assert.equal(t.size, 0);
    t.register('old', 'u', now - 1000);
    assert.equal(t.lookup('old'), null, 'a replayed token issued a TTL ago is not revived');
    t.register('recent', 'u', now - 400);
    now += 700;
    assert.equal(t.lookup('recent'), null, 'its TTL counts from when it was issued');
  });

  const pairs: Array<[JwtAlgorithm, () => { privateKey: string; publicKey: string }]> = [
    ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })],
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })],
    ['PS256', () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })],
    ['EdDSA', () => generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })],
  ];
  for (const [algorithm, keys] of pairs) {
    it(`JWT ${algorithm}: verifies with the public key; expired, forged and re-signed tokens are refused`, () => {
      let now = 1_000_000;
      const { privateKey, publicKey } = keys();
      const signer = new JwtTokens({ algorithm, privateKey, publicKey, ttlMs: 60_000, now: () => now });
      const verifier = new JwtTokens({ algorithm, privateKey: null, publicKey, ttlMs: 60_000, now: () => now });
      const token = signer.sign({ username: 'alice', revision: 7n });
      assert.deepEqual(verifier.verify(token), { username: 'alice', revision: 7n });
      const [h, p, sig] = token.split('.');
      const forged = Buffer.from(JSON.stringify({ username: 'root', revision: 7, exp: 9e9 })).toString('base64url');
      assert.equal(verifier.verify(`${h}.${forged}.${sig}`), null, 'changed claims');
      assert.equal(verifier.verify(`${h}.${p}.${sig.slice(0, -4)}AAAA`), null, 'changed signature');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      assert.equal(verifier.verify(`${none}.${p}.`), null, 'alg none');
      assert.equal(verifier.verify('garbage'), null);
      const other = keys();
      const stranger = new JwtTokens({ algorithm, privateKey: other.privateKey, publicKey: other.publicKey, ttlMs: 60_000, now: () => now });
      assert.equal(verifier.verify(stranger.sign({ username: 'alice', revision: 7n })), null, 'signed with another key');
      now += 61_000;
      assert.equal(verifier.verify(token), null, 'expired');
    });
  }

  it('JWT HS256 uses the shared secret; a token of another algorithm is refused', () => {
    const hs = new JwtTokens({ algorithm: 'HS256', privateKey: 'shared-secret', publicKey: null, ttlMs: 60_000 });
    const t = hs.sign({ username: 'bob', revision: 1n });
    assert.equal(hs.verify(t)?.username, 'bob');
    const hs512 = new JwtTokens({ algorithm: 'HS512', privateKey: 'shared-secret', publicKey: null, ttlMs: 60_000 });
    assert.equal(hs512.verify(t), null);
  });
});

describe('callers', () => {
  const deps = { propose: async () => { throw new Error('unused'); }, readBarrier: async () => {}, header: () => ({ clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n }) };

  it('a token names its user; an unknown token is refused even while auth is off; a verified certificate\'s CN is the user', () => {
    const tokens = new SimpleTokens({ ttlMs: 60_000 });
    const store = new AuthStore(tokens);
    const svc = new AuthService(store, { kind: 'simple', tokens }, deps);
    tokens.register('tok.1', 'alice');
    assert.deepEqual(svc.callerOf('tok.1'), { user: 'alice' });
    assert.throws(() => svc.callerOf('nope'), kind('InvalidAuthToken'));
    assert.deepEqual(svc.callerOf(undefined), { user: null });
    assert.deepEqual(svc.callerOf(undefined, 'client-cn'), { user: 'client-cn' }, 'the CN hook (etcd --client-cert-auth)');
    assert.deepEqual(svc.callerOf('tok.1', 'client-cn'), { user: 'alice' }, 'a token wins over the certificate, as etcd');
  });
});

describe('auth changes in the apply step (log order)', () => {
  const k = (s: string) => new Uint8Array(Buffer.from(s));
  function setup() {
    const store = new FakeStore();
    const lessor = new Lessor({ minTtlSec: 2n, nowMs: () => 0 });
    lessor.promote(0);
    const auth = { store: new AuthStore(null), table: new MemoryAuthTable() };
    const apply = (reqs: ServerRequest[]) => applyServerBatch(store, lessor, new MemoryLeaseTable(), reqs, 1n, undefined, { auth });
    return { store, auth, apply };
  }
  const op = (o: AuthOp, user?: string | null): ServerRequest => (user === undefined ? { auth: o } : { auth: o, caller: { user } });
  const putAs = (key: string, user: string | null): ServerRequest => ({ put: { key: k(key), value: k('v') }, caller: { user } });
  const errKind = (o: { ok: boolean; error?: Error }) => (o.ok ? 'ok' : (o.error as { kind?: string }).kind);

  it('a revoke ordered before a put decides it, within one batch; the refused put changes nothing', async () => {
    const { store, auth, apply } = setup();
    await apply([
      op(rootSetup[0]), op(rootSetup[1]), op({ op: 'userAdd', name: 'w', passwordHash: null, noPassword: true }),
      op({ op: 'roleAdd', name: 'r' }), op({ op: 'roleGrantPermission', name: 'r', perm: { permType: 'WRITE', key: k('x'), rangeEnd: new Uint8Array() } }),
      op({ op: 'userGrantRole', user: 'w', role: 'r' }), op({ op: 'enable' }),
    ]);
    const rev = store.currentRevision;
    const { outcomes } = await apply([
      putAs('x', 'w'),
      op({ op: 'userRevokeRole', name: 'w', role: 'r' }, 'root'),
      putAs('x', 'w'),
      putAs('x', null),
    ]);
    assert.deepEqual(outcomes.map(errKind), ['ok', 'ok', 'PermissionDenied', 'UserEmpty']);
    assert.equal(store.currentRevision, rev + 1n, 'only the first put wrote');
    assert.ok(auth.table.rows.has('meta'));
    const reloaded = new AuthStore(null);
    reloaded.load(auth.table);
    assert.deepEqual(reloaded.getUser('root', 'w').roles, []);
  });

  it('an admin change by a non-root caller is refused at apply; the member\'s own requests are not checked', async () => {
    const { apply } = setup();
    await apply([op(rootSetup[0]), op(rootSetup[1]), op({ op: 'userAdd', name: 'a', passwordHash: null, noPassword: true }), op({ op: 'enable' })]);
    const { outcomes } = await apply([op({ op: 'roleAdd', name: 'r' }, 'a'), op({ op: 'roleAdd', name: 'r2' }, 'root'), { put: { key: k('sys'), value: k('v') } }]);
    assert.deepEqual(outcomes.map(errKind), ['PermissionDenied', 'ok', 'ok']);
  });
});
