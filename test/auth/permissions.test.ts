/**
 * Key permissions: etcd 3.4's interval semantics (one key, [key, range_end), key.. with "\0"),
 * the union of grants covering a request, and which permissions each key-space request needs
 * (observed on etcd 3.4.23: see test/auth/diff-etcd.test.ts for the same cases end to end).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { covers, intervalOf, isPermitted, type Permission, type PermType } from '../../src/auth/permissions.js';
import { AuthStore } from '../../src/auth/auth-store.js';
import { checkWrite } from '../../src/auth/request-permissions.js';
import type { WriteRequest } from '../../src/mvcc/types.js';

const k = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const ALL = new Uint8Array([0]);
const perm = (permType: PermType, key: string, rangeEnd = ''): Permission => ({ permType, key: k(key), rangeEnd: rangeEnd === '\0' ? ALL : k(rangeEnd) });

describe('permission intervals', () => {
  it('an empty range_end is exactly one key; "\\0" is everything from the key on', () => {
    const one = [perm('READ', 'foo')];
    assert.ok(isPermitted(one, 'READ', k('foo')));
    assert.ok(!isPermitted(one, 'READ', k('foo0')));
    assert.ok(!isPermitted(one, 'READ', k('fo')));
    assert.ok(isPermitted(one, 'READ', k('foo'), k('foo\0')), 'the range holding only foo');
    assert.ok(!isPermitted(one, 'READ', k('foo'), k('foo\x01')));
    const from = [perm('WRITE', 'a', '\0')];
    assert.ok(isPermitted(from, 'WRITE', k('zzzz')));
    assert.ok(isPermitted(from, 'WRITE', k('a'), ALL));
    assert.ok(!isPermitted(from, 'WRITE', k('\0'), ALL), 'all keys reach below a');
    assert.ok(!isPermitted(from, 'WRITE', k('A')));
  });

  it('a range [key, end) is half open; a prefix grant covers the prefix and nothing past it', () => {
    const p = [perm('READ', 'p/', 'p0')];
    assert.ok(isPermitted(p, 'READ', k('p/'), k('p0')));
    assert.ok(isPermitted(p, 'READ', k('p/1'), k('p/2')));
    assert.ok(isPermitted(p, 'READ', k('p/x')));
    assert.ok(!isPermitted(p, 'READ', k('p0')));
    assert.ok(!isPermitted(p, 'READ', k('p/'), k('p1')));
    assert.ok(!isPermitted(p, 'READ', k('p/'), ALL));
  });

  it('adjacent and overlapping grants join (etcd: READ [a,c) + READ [c,e) covers [a,e) and [b,d))', () => {
    const g = [perm('READ', 'a', 'c'), perm('READ', 'c', 'e')];
    assert.ok(isPermitted(g, 'READ', k('a'), k('e')));
    assert.ok(isPermitted(g, 'READ', k('b'), k('d')));
    assert.ok(!isPermitted(g, 'READ', k('b'), k('f')));
    const gap = [perm('READ', 'a', 'c'), perm('READ', 'd', 'e')];
    assert.ok(!isPermitted(gap, 'READ', k('b'), k('d')));
    const nested = [perm('READ', 'a', 'z'), perm('READ', 'b', 'c'), perm('READ', 'y', '\0')];
    assert.ok(isPermitted(nested, 'READ', k('a'), ALL));
  });

  it('an inverted request range is allowed when its start is (as etcd answers [d, b))', () => {
    const g = [perm('READ', 'a', 'c'), perm('READ', 'c', 'e')];
    assert.ok(isPermitted(g, 'READ', k('d'), k('b')));
    assert.ok(!isPermitted(g, 'READ', k('z'), k('b')));
  });

  it('types: READWRITE serves both, READ and WRITE only their own', () => {
    assert.ok(isPermitted([perm('READWRITE', 'x')], 'READ', k('x')));
    assert.ok(isPermitted([perm('READWRITE', 'x')], 'WRITE', k('x')));
    assert.ok(!isPermitted([perm('READ', 'x')], 'WRITE', k('x')));
    assert.ok(!isPermitted([perm('WRITE', 'x')], 'READ', k('x')));
  });

  it('empty grants cover nothing; an empty (inverted) grant is ignored', () => {
    assert.ok(!covers([], intervalOf(k('a'), undefined)));
    assert.ok(!isPermitted([perm('READ', 'c', 'a')], 'READ', k('b')));
  });
});

/** A store with auth on: root, and alice with role r (the permissions given). */
function storeWith(perms: Permission[]): AuthStore {
  const s = new AuthStore(null);
  s.apply({ op: 'userAdd', name: 'root', passwordHash: 'x', noPassword: false }, undefined);
  s.apply({ op: 'userGrantRole', user: 'root', role: 'root' }, undefined);
  s.apply({ op: 'userAdd', name: 'alice', passwordHash: 'x', noPassword: false }, undefined);
  s.apply({ op: 'roleAdd', name: 'r' }, undefined);
  for (const p of perms) s.apply({ op: 'roleGrantPermission', name: 'r', perm: p }, undefined);
  s.apply({ op: 'userGrantRole', user: 'alice', role: 'r' }, undefined);
  s.apply({ op: 'enable' }, undefined);
  return s;
}

const denied = (f: () => void, kind = 'PermissionDenied') => assert.throws(f, (e: { kind?: string }) => e.kind === kind);
const noLease = () => [] as Uint8Array[];

describe('what each key-space request needs', () => {
  const s = storeWith([perm('READWRITE', 'rw'), perm('READ', 'r'), perm('WRITE', 'w')]);

  it('put needs WRITE, and READ as well with prev_kv; delete the same on its range', () => {
    checkWrite(s, 'alice', { put: { key: k('w'), value: k('v') } }, noLease);
    denied(() => checkWrite(s, 'alice', { put: { key: k('w'), value: k('v'), prevKv: true } }, noLease));
    denied(() => checkWrite(s, 'alice', { put: { key: k('r'), value: k('v') } }, noLease));
    checkWrite(s, 'alice', { deleteRange: { key: k('rw'), prevKv: true } }, noLease);
    denied(() => checkWrite(s, 'alice', { deleteRange: { key: k('w'), prevKv: true } }, noLease));
    denied(() => checkWrite(s, 'alice', { deleteRange: { key: k('r') } }, noLease));
  });

  it('txn: every compare needs READ, and every op of BOTH branches is checked, nested txns too', () => {
    const txn = (compareKey: string, success: string, failure: string): WriteRequest => ({
      txn: {
        compare: [{ key: k(compareKey), target: 'VERSION', result: 'EQUAL', number: 0n }],
        success: [{ put: { key: k(success), value: k('v') } }],
        failure: [{ txn: { compare: [], success: [{ range: { key: k(failure) } }], failure: [] } }],
      },
    });
    checkWrite(s, 'alice', txn('r', 'w', 'r'), noLease);
    denied(() => checkWrite(s, 'alice', txn('w', 'w', 'r'), noLease));
    denied(() => checkWrite(s, 'alice', txn('r', 'r', 'r'), noLease));
    denied(() => checkWrite(s, 'alice', txn('r', 'w', 'w'), noLease));
  });

  it('a put with a lease needs WRITE on every key already attached to the lease', () => {
    const attached = () => [k('w'), k('elsewhere')];
    denied(() => checkWrite(s, 'alice', { put: { key: k('w'), value: k('v'), lease: 7n } }, attached));
    checkWrite(s, 'alice', { put: { key: k('w'), value: k('v'), lease: 7n } }, () => [k('rw')]);
  });

  it('root may do anything; no user is "user name is empty"; an unknown user is denied', () => {
    checkWrite(s, 'root', { put: { key: k('anything'), value: k('v') } }, noLease);
    denied(() => checkWrite(s, null, { put: { key: k('w'), value: k('v') } }, noLease), 'UserEmpty');
    denied(() => checkWrite(s, 'mallory', { put: { key: k('w'), value: k('v') } }, noLease));
  });

  it('compaction needs no permission (as etcd)', () => {
    checkWrite(s, 'alice', { compaction: { revision: 1n } }, noLease);
  });
});
