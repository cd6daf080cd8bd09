/**
 * lease, lock and elect as real processes: lease lines with 16-digit hex IDs, keep-alive,
 * lock with a command (ETCD_LOCK_KEY/REV) and held until Ctrl-C, election campaign and
 * observation — compared with etcdctl on etcd, lease IDs normalised.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerHandle } from '../support/harness.js';
import { routeMissing, startCairnctl, startTarget } from './cli-harness.js';
import { cairnctlInProcess, fails, leaseIds, ok, revisions, same } from './compare.js';

let server: ServerHandle;
const ctl = (args: string[]) => cairnctlInProcess(server.clientUrl, args);

async function grant(ttl: number): Promise<string> {
  const r = await ctl(['lease', 'grant', String(ttl)]);
  const id = /^lease ([0-9a-f]{12,16}) granted with TTL\((\d+)s\)\n$/.exec(r.stdout);
  assert.ok(id, r.stdout + r.stderr);
  return id[1];
}

before(async () => { server = await startTarget(); });
after(async () => { await server?.dispose(); });

describe('lease', () => {
  test('grant prints the ID as 16 hex digits and the TTL', async () => {
    const r = await same(server, ['lease', 'grant', '60'], { process: true, normalise: [leaseIds] });
    assert.match(r.stdout, /^lease [0-9a-f]{12,16} granted with TTL\(60s\)\n$/);
    const j = await same(server, ['lease', 'grant', '60', '-w', 'json'], { normalise: [leaseIds, revisions] });
    assert.match(j.stdout, /^\{"cluster_id":\d+,"member_id":\d+,"revision":\d+,"raft_term":\d+,"ID":\d+,"TTL":60,"Error":""\}\n$/);
    await same(server, ['lease', 'grant', '60', '-w', 'fields'], { normalise: [leaseIds, revisions] });
  });

  test('timetolive with --keys lists attached keys; every format as etcdctl', async () => {
    const id = await grant(100);
    await ctl(['put', 'lk', 'v', `--lease=${id}`]);
    const r = await same(server, ['lease', 'timetolive', id, '--keys']);
    assert.match(r.stdout, new RegExp(`^lease ${id} granted with TTL\\(100s\\), remaining\\((99|100)s\\), attached keys\\(\\[lk\\]\\)\\n$`));
    await same(server, ['lease', 'timetolive', id, '--keys', '-w', 'json'], { normalise: [(t) => t.replace(/"ttl":\d+/, '"ttl":N')] });
    await same(server, ['lease', 'timetolive', id, '-w', 'fields'], { normalise: [(t) => t.replace(/"TTL" : \d+/, '"TTL" : N')] });
    ok(await same(server, ['lease', 'timetolive', '1234']), 'lease 0000000000001234 already expired\n');
  });

  test('list shows every lease; keep-alive --once renews; revoke deletes the attached keys', async () => {
    const id = await grant(100);
    await ctl(['put', 'lr', 'v', `--lease=${id}`]);
    const list = await same(server, ['lease', 'list']);
    assert.match(list.stdout, new RegExp(`^found \\d+ leases\\n(?:[0-9a-f]{12,16}\\n)*${id}\\n`, 'm'));
    ok(await same(server, ['lease', 'keep-alive', '--once', id], { process: true }), `lease ${id} keepalived with TTL(100)\n`);
    ok(await cairnctlInProcess(server.clientUrl, ['lease', 'revoke', id]), `lease ${id} revoked\n`);
    ok(await ctl(['get', 'lr']), '');
  });

  test('errors: unknown lease, bad ID, missing arguments', async () => {
    fails(await same(server, ['lease', 'revoke', '1234']), 1, 'failed to revoke lease (etcdserver: requested lease not found)');
    fails(await same(server, ['lease', 'keep-alive', '--once', '1234']), 2, 'etcdserver: requested lease not found');
    fails(await same(server, ['lease', 'revoke', 'zz']), 128, 'bad lease ID arg (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex');
    fails(await same(server, ['lease', 'grant']), 128, 'lease grant command needs TTL argument');
    fails(await same(server, ['lease', 'grant', 'x']), 128, 'bad TTL (strconv.ParseInt: parsing "x": invalid syntax)');
    fails(await same(server, ['lease', 'timetolive']), 128, 'lease timetolive command needs lease ID as argument');
  });

  test('keep-alive prints one line per renewal and "expired or revoked." when the lease goes', async () => {
    const id = await grant(3);
    const k = startCairnctl(server.clientUrl, ['lease', 'keep-alive', id]);
    await k.waitFor((o) => o.includes('keepalived'));
    await ctl(['lease', 'revoke', id]);
    const end = await k.exited;
    assert.equal(end.code, 0);
    assert.match(k.stdout(), new RegExp(`^(lease ${id} keepalived with TTL\\(3\\)\\n)+lease ${id} expired or revoked\\.\\n$`));
  });
});

describe('lock', () => {
  test('runs the command holding the lock, with ETCD_LOCK_KEY and ETCD_LOCK_REV; its failure is the error', async (t) => {
    const missing = await routeMissing(server, '/v3/lock/unlock');
    if (missing) { t.skip(missing); return; }
    const r = await same(server, ['lock', 'lk1', '--', 'sh', '-c', 'echo "$ETCD_LOCK_KEY $ETCD_LOCK_REV"; exit 3'],
      { process: true, normalise: [leaseIds, (t) => t.replace(/ \d+\n/, ' REV\n')] });
    assert.match(r.stdout, /^lk1\/[0-9a-f]{12,16} \d+\n$/);
    fails(r, 1, 'exit status 3');
    ok(await ctl(['get', 'lk1', '--prefix']), '');
  });

  test('without a command prints the lock key and holds it until Ctrl-C; a second locker waits', async (t) => {
    const missing = await routeMissing(server, '/v3/lock/unlock');
    if (missing) { t.skip(missing); return; }
    const first = startCairnctl(server.clientUrl, ['lock', 'lk2']);
    await first.waitFor((o) => o.endsWith('\n\n'));
    assert.match(first.stdout(), /^lk2\/[0-9a-f]{12,16}\n\n$/);
    const second = startCairnctl(server.clientUrl, ['lock', 'lk2', '--', 'echo', 'got it']);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(second.stdout(), '', 'the second locker waits');
    assert.equal((await first.stop('SIGINT')).code, 0, 'Ctrl-C releases the lock and exits 0, as etcdctl');
    const end = await second.exited;
    assert.equal(end.code, 0);
    assert.equal(second.stdout(), 'got it\n');
  });

  test('no lock name is a usage error', async () => {
    fails(await same(server, ['lock']), 128, 'lock takes a lock name argument and an optional command to execute');
  });
});

describe('elect', () => {
  test('campaign prints the leader key and proposal; -l observes the leader', async (t) => {
    const missing = await routeMissing(server, '/v3/election/leader');
    if (missing) { t.skip(missing); return; }
    const leader = startCairnctl(server.clientUrl, ['elect', 'el1', 'p1']);
    await leader.waitFor((o) => o.endsWith('p1\n'));
    assert.match(leader.stdout(), /^el1\/[0-9a-f]{12,16}\np1\n$/);
    const observer = startCairnctl(server.clientUrl, ['elect', '-l', 'el1']);
    await observer.waitFor((o) => o.endsWith('p1\n'));
    assert.equal(observer.stdout(), leader.stdout());
    assert.equal((await leader.stop('SIGINT')).code, 0, 'Ctrl-C resigns and exits 0, as etcdctl');
    await observer.stop('SIGINT');
    ok(await ctl(['get', 'el1', '--prefix']), '');
  });

  test('argument errors', async () => {
    fails(await same(server, ['elect', 'x']), 128, 'no proposal argument but -l not set');
    fails(await same(server, ['elect']), 128, 'elect takes one election name argument and an optional proposal argument');
  });
});
