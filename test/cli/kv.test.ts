/**
 * put, get, del as real processes against a real server, with every output format, compared
 * byte for byte with etcdctl 3.4 when the server is etcd.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerHandle } from '../support/harness.js';
import { cairnctl } from './cli-harness.js';
import { cairnctlInProcess, fails, ok, revisions, same } from './compare.js';

let server: ServerHandle;
const put = (k: string, v: string): Promise<unknown> => cairnctlInProcess(server.clientUrl, ['put', k, v]);

before(async () => {
  const { startTarget } = await import('./cli-harness.js');
  server = await startTarget();
  for (const [k, v] of [['kv/a', '1'], ['kv/b', '22'], ['kv/c', 'three'], ['kw', 'outside']]) await put(k, v);
});
after(async () => { await server?.dispose(); });

describe('get', () => {
  test('simple prints key then value lines, in key order, for a prefix', async () => {
    ok(await same(server, ['get', 'kv/', '--prefix'], { process: true }), 'kv/a\n1\nkv/b\n22\nkv/c\nthree\n');
  });

  test('a range [key, range_end) excludes range_end', async () => {
    ok(await same(server, ['get', 'kv/a', 'kv/c']), 'kv/a\n1\nkv/b\n22\n');
  });

  test('a missing key prints nothing and exits 0', async () => {
    ok(await same(server, ['get', 'kv/none']), '');
  });

  test('--limit, --keys-only, --print-value-only, --sort-by/--order, --from-key', async () => {
    ok(await same(server, ['get', 'kv/', '--prefix', '--limit=2']), 'kv/a\n1\nkv/b\n22\n');
    ok(await same(server, ['get', 'kv/', '--prefix', '--keys-only']), 'kv/a\n\nkv/b\n\nkv/c\n\n');
    ok(await same(server, ['get', 'kv/', '--prefix', '--print-value-only']), '1\n22\nthree\n');
    ok(await same(server, ['get', 'kv/', '--prefix', '--sort-by=VALUE', '--order=DESCEND']), 'kv/c\nthree\nkv/b\n22\nkv/a\n1\n');
    ok(await same(server, ['get', 'kv/c', '--from-key']), 'kv/c\nthree\nkw\noutside\n');
  });

  test('json is etcd JSON with int64 as exact numbers and bytes as base64', async () => {
    const r = await same(server, ['get', 'kv/a', '-w', 'json']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\{"header":\{"cluster_id":\d+,"member_id":\d+,"revision":\d+,"raft_term":\d+\},"kvs":\[\{"key":"a3YvYQ==","create_revision":\d+,"mod_revision":\d+,"version":1,"value":"MQ=="\}\],"count":1\}\n$/);
    const clusterId = /"cluster_id":(\d+)/.exec(r.stdout)?.[1] ?? '';
    const viaGateway = await fetch(`${server.clientUrl}/v3/kv/range`, { method: 'POST', body: '{"key":"a3YvYQ=="}' }).then((x) => x.json()) as { header: { cluster_id: string } };
    assert.equal(clusterId, viaGateway.header.cluster_id, 'cluster_id keeps every digit (it exceeds 2^53)');
  });

  test('fields quotes bytes Go-style and ends with More and Count', async () => {
    await put('kv/q', 'v\x01"é');
    const r = await same(server, ['get', 'kv/q', '-w', 'fields']);
    assert.match(r.stdout, /"Key" : "kv\/q"\n"CreateRevision" : \d+\n"ModRevision" : \d+\n"Version" : 1\n"Value" : "v\\x01\\"é"\n"Lease" : 0\n"More" : false\n"Count" : 1\n$/);
    ok(await same(server, ['get', 'kv/none', '-w', 'fields'], { normalise: [revisions] }), r.stdout.replace(/"Key"[\s\S]*/, '"More" : false\n"Count" : 0\n')
      .replace(/"Revision" : \d+/, (m) => m));
  });

  test('--hex prints every byte as \\xNN', async () => {
    ok(await same(server, ['get', 'kv/a', '--hex']), '\\x6b\\x76\\x2f\\x61\\x31\n'.replace('\\x31', '\n\\x31'));
  });

  test('-w table is not supported for get: exit 4', async () => {
    const r = await same(server, ['get', 'kv/a', '-w', 'table']);
    fails(r, 4, 'table not supported as output format');
  });

  test('a future revision is the server error, exit 1', async () => {
    fails(await same(server, ['get', 'kv/a', '--rev=99999999']), 1, 'etcdserver: mvcc: required revision is a future revision');
  });

  test('argument errors exit 128 before any request', async () => {
    fails(await same(server, ['get']), 128, 'get command needs one argument as key and an optional argument as range_end');
    fails(await same(server, ['get', 'a', '--prefix', '--from-key']), 128, '`--prefix` and `--from-key` cannot be set at the same time, choose one');
    fails(await same(server, ['get', 'a', 'b', '--prefix']), 128, 'too many arguments, only accept one argument when `--prefix` or `--from-key` is set');
  });

  test('an unknown flag prints usage on stdout and exits 1', async () => {
    const r = await cairnctlInProcess(server.clientUrl, ['get', 'a', '--bogus']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: unknown flag: --bogus\n');
    assert.match(r.stdout, /get \[options\] <key> \[range_end\]/);
  });
});

describe('put', () => {
  test('prints OK; --prev-kv adds the previous pair', async () => {
    ok(await same(server, ['put', 'kv/p', 'one'], { process: true }), 'OK\n');
    ok(await same(server, ['put', 'kv/p', 'two', '--prev-kv'], { setup: () => put('kv/p', 'one') }), 'OK\nkv/p\none\n');
  });

  test('the value can come from stdin, bytes as given', async () => {
    ok(await same(server, ['put', 'kv/stdin'], { input: 'line one\nline two\n', process: true }), 'OK\n');
    ok(await cairnctlInProcess(server.clientUrl, ['get', 'kv/stdin', '--print-value-only']), 'line one\nline two\n\n');
  });

  test('json of put --prev-kv carries prev_kv', async () => {
    const r = await same(server, ['put', 'kv/p', 'three', '--prev-kv', '-w', 'json'], { setup: () => put('kv/p', 'two'), normalise: [revisions] });
    assert.match(r.stdout, /"prev_kv":\{"key":"a3YvcA==","create_revision":\d+,"mod_revision":\d+,"version":\d+,"value":"dHdv"\}\}\n$/);
  });

  test('an unknown lease is the server error; a malformed lease ID is a usage error', async () => {
    fails(await same(server, ['put', 'kv/l', 'v', '--lease=1234abcd']), 1, 'etcdserver: requested lease not found');
    fails(await same(server, ['put', 'kv/l', 'v', '--lease=zz']), 128, 'bad lease ID (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex');
  });

  test('no arguments and no stdin is a usage error', async () => {
    fails(await same(server, ['put']), 128, 'put command needs 1 argument and input from stdin or 2 arguments');
  });
});

describe('del', () => {
  const setup = async (): Promise<void> => { await put('del/a', '1'); await put('del/b', '2'); };

  test('prints the number deleted, then the previous pairs with --prev-kv', async () => {
    ok(await same(server, ['del', 'del/', '--prefix'], { setup, process: true }), '2\n');
    ok(await same(server, ['del', 'del/a', '--prev-kv'], { setup }), '1\ndel/a\n1\n');
    ok(await same(server, ['del', 'del/nothing']), '0\n');
  });

  test('fields and json', async () => {
    const f = await same(server, ['del', 'del/', '--prefix', '--prev-kv', '-w', 'fields'], { setup, normalise: [revisions] });
    assert.match(f.stdout, /"Deleted" : 2\n"PrevKey" : "del\/a"\n/);
    const j = await same(server, ['del', 'del/a', '-w', 'json'], { setup, normalise: [revisions] });
    assert.match(j.stdout, /,"deleted":1\}\n$/);
  });
});

describe('global flags and environment', () => {
  test('ETCDCTL_ENDPOINTS and ETCDCTL_WRITE_OUT are read; CAIRNCTL_* wins', async () => {
    const env = { ETCDCTL_ENDPOINTS: '127.0.0.1:1', CAIRNCTL_ENDPOINTS: server.clientUrl, ETCDCTL_WRITE_OUT: 'fields' };
    const r = await cairnctlInProcess(null, ['get', 'kv/a'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^"ClusterID" : \d+\n/);
  });

  test('flags may come after the command, in --flag=value and --flag value forms', async () => {
    ok(await cairnctl(null, ['get', 'kv/a', '--endpoints', server.clientUrl, '-w=simple']), 'kv/a\n1\n');
  });

  test('endpoints are tried in turn: a dead first endpoint is skipped', async () => {
    ok(await cairnctlInProcess(null, [`--endpoints=http://127.0.0.1:1,${server.clientUrl}`, 'get', 'kv/a']), 'kv/a\n1\n');
  });

  test('no reachable endpoint: "context deadline exceeded" after the command timeout, exit 1', async () => {
    const started = Date.now();
    fails(await cairnctlInProcess(null, ['--endpoints=127.0.0.1:1', '--command-timeout=500ms', 'get', 'a']), 1, 'context deadline exceeded');
    assert.ok(Date.now() - started < 5_000);
  });
});
