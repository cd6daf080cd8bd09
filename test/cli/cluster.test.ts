/**
 * member, endpoint, compaction, defrag, alarm, move-leader, snapshot and version as real
 * processes, every format, compared with etcdctl on etcd (timings, IDs and revisions
 * normalised where they legitimately differ between two runs).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, type ServerHandle } from '../support/harness.js';
import { canCompareWithEtcdctl, etcdctl, routeMissing, startTarget } from './cli-harness.js';
import { cairnctl } from './cli-harness.js';
import { cairnctlInProcess, fails, ok, same, timings } from './compare.js';

let server: ServerHandle;
let dir: string;
const ctl = (args: string[]) => cairnctlInProcess(server.clientUrl, args);
/** Raft indexes and DB sizes move with every request. */
const statusNumbers = (t: string): string => t
  .replace(/("(?:raftIndex|raftAppliedIndex|dbSize|dbSizeInUse|RaftIndex|RaftAppliedIndex|DBSize)"\s*:\s*)\d+/g, '$1N')
  .replace(/, \d+ [kMG]?B, /g, ', SIZE, ').replace(/\| +\d+(\.\d)? [kMG]?B \|/g, '| SIZE |')
  .replace(/, (\d+), (\d+), (\d+), $/gm, ', $1, N, N, ').replace(/\| +\d+ \| +\d+ \|( +\| *)$/gm, '| N | N |$1');

before(async () => {
  server = await startTarget();
  dir = await mkdtemp(join(tmpdir(), 'cairnctl-test-'));
});
after(async () => {
  await server?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('member', () => {
  test('list in simple, json, fields and table formats', async () => {
    const r = await same(server, ['member', 'list'], { process: true });
    assert.match(r.stdout, new RegExp(`^[0-9a-f]+, started, [^,]+, http://127\\.0\\.0\\.1:\\d+, ${server.clientUrl}, false\\n$`));
    const j = await same(server, ['member', 'list', '-w', 'json']);
    assert.match(j.stdout, /^\{"header":\{"cluster_id":\d+,"member_id":\d+,"raft_term":\d+\},"members":\[\{"ID":\d+,"name":"[^"]+","peerURLs":\["http:[^"]+"\],"clientURLs":\["http:[^"]+"\]\}\]\}\n$/);
    await same(server, ['member', 'list', '-w', 'fields']);
    const t = await same(server, ['member', 'list', '-w', 'table']);
    assert.match(t.stdout, /^\+-+\+-+\+/);
    assert.match(t.stdout, /\|\s+ID\s+\|\s+STATUS\s+\|\s+NAME\s+\|\s+PEER ADDRS\s+\|\s+CLIENT ADDRS\s+\|\s+IS LEARNER\s+\|/);
  });

  test('add --learner prints the new member and ETCD_* lines; update and remove', async (t) => {
    const missing = await routeMissing(server, '/v3/cluster/member/add');
    if (missing) { t.skip(missing); return; }
    const peer = `http://127.0.0.1:${await freePort()}`;
    const add = await ctl(['member', 'add', 'newbie', `--peer-urls=${peer}`, '--learner']);
    if (server.kind === 'cairn' && add.stderr === 'Error: etcdserver: given member URLs are invalid\n') {
      t.todo(`cairn refuses a valid learner peer URL (${peer}) with "given member URLs are invalid"; etcd adds it`);
      return;
    }
    assert.equal(add.code, 0, add.stderr);
    const m = /^Member ([0-9a-f ]{16}) added to cluster ([0-9a-f ]{16})\n\nETCD_NAME="newbie"\nETCD_INITIAL_CLUSTER="(.*)"\nETCD_INITIAL_ADVERTISE_PEER_URLS="(.*)"\nETCD_INITIAL_CLUSTER_STATE="existing"\n$/.exec(add.stdout);
    assert.ok(m, add.stdout);
    assert.ok(m[3].includes(`newbie=${peer}`));
    const id = m[1].trim();
    const list = await ctl(['member', 'list']);
    assert.ok(list.stdout.includes(`${id}, unstarted, , ${peer}, , true\n`), list.stdout);
    const peer2 = `http://127.0.0.1:${await freePort()}`;
    const update = await ctl(['member', 'update', id, `--peer-urls=${peer2}`]);
    if (server.kind === 'cairn' && update.code !== 0) t.todo(`cairn: member update answers ${update.stderr.trim()}; etcd updates the peer URLs`);
    else ok(update, `Member ${m[1]} updated in cluster ${m[2]}\n`);
    ok(await ctl(['member', 'remove', id]), `Member ${m[1]} removed from cluster ${m[2]}\n`);
  });

  test('errors as etcdctl', async () => {
    fails(await same(server, ['member', 'remove', '1234']), 1, 'etcdserver: member not found');
    fails(await same(server, ['member', 'remove', 'zz']), 128, 'bad member ID arg (strconv.ParseUint: parsing "zz": invalid syntax), expecting ID in Hex');
    fails(await same(server, ['member', 'add']), 128, 'member name not provided');
    fails(await same(server, ['member', 'add', 'x']), 128, 'member peer urls not provided');
    fails(await same(server, ['member', 'add', 'x', 'http://a:1']), 128, 'too many arguments, did you mean --peer-urls=http://a:1');
  });
});

describe('endpoint', () => {
  test('health goes to stderr in simple format; json, fields and table on stdout', async () => {
    const r = await same(server, ['endpoint', 'health'], { process: true, normalise: [timings] });
    assert.equal(r.code, 0);
    assert.match(r.stderr, new RegExp(`^${server.clientUrl} is healthy: successfully committed proposal: took = \\d+(\\.\\d+)?(µs|ms|s)\\n$`));
    for (const w of ['json', 'fields', 'table']) await same(server, ['endpoint', 'health', '-w', w], { normalise: [timings, (x) => x.replace(/-+(?=\+)/g, '-').replace(/ +\|/g, ' |').replace(/\| +/g, '| ')] });
  });

  test('an unreachable endpoint is unhealthy: exit 1 "unhealthy cluster"', async () => {
    const r = await cairnctlInProcess(null, ['--endpoints=127.0.0.1:1', '--command-timeout=300ms', 'endpoint', 'health']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, '127.0.0.1:1 is unhealthy: failed to commit proposal: context deadline exceeded\nError: unhealthy cluster\n');
  });

  test('status: one row per endpoint, in every format', async (t) => {
    const missing = await routeMissing(server, '/v3/maintenance/status');
    if (missing) { t.skip(missing); return; }
    const r = await same(server, ['endpoint', 'status'], { normalise: [statusNumbers] });
    assert.match(r.stdout, new RegExp(`^${server.clientUrl}, [0-9a-f]+, [^,]+, \\d+(\\.\\d)? [kMG]?B, true, false, \\d+, \\d+, \\d+, \\n$`));
    for (const w of ['json', 'fields', 'table']) await same(server, ['endpoint', 'status', '-w', w], { normalise: [statusNumbers] });
  });

  test('--cluster asks every member\'s client URLs', async () => {
    const r = await cairnctlInProcess(server.clientUrl, ['endpoint', 'health', '--cluster', '-w', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^\\[\\{"endpoint":"${server.clientUrl}","health":true,"took":"[^"]+"\\}\\]\\n$`));
  });

  test('hashkv: etcd 3.4\'s gateway has no route for it, which cairnctl reports', async () => {
    const r = await ctl(['endpoint', 'hashkv']);
    if (await routeMissing(server, '/v3/maintenance/hashkv')) {
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `Failed to get the hash of endpoint ${server.clientUrl} (the server does not serve POST /v3/maintenance/hashkv (HTTP 404 Not Found))\n`);
    } else {
      assert.match(r.stdout, new RegExp(`^${server.clientUrl}, \\d+\\n$`));
    }
  });
});

describe('maintenance', () => {
  test('compaction prints "compacted revision N" in every format; a compacted or future revision is the error', async () => {
    await ctl(['put', 'c', '1']);
    await ctl(['put', 'c', '2']);
    const rev = /"revision":(\d+)/.exec((await ctl(['get', 'c', '-w', 'json'])).stdout)?.[1] ?? '0';
    // Not compared with etcdctl: compacting the same revision twice fails the second time.
    ok(await cairnctlInProcess(server.clientUrl, ['compaction', String(Number(rev) - 1), '-w', 'json']), `compacted revision ${Number(rev) - 1}\n`);
    fails(await same(server, ['compaction', '1']), 1, 'etcdserver: mvcc: required revision has been compacted');
    ok(await cairnctl(server.clientUrl, ['compaction', rev]), `compacted revision ${rev}\n`);
    fails(await same(server, ['compaction', '99999999']), 1, 'etcdserver: mvcc: required revision is a future revision');
    fails(await same(server, ['compaction']), 128, 'compaction command needs 1 argument');
    fails(await same(server, ['compaction', 'x']), 1, 'strconv.ParseInt: parsing "x": invalid syntax');
  });

  test('defrag names each member; alarm list and disarm with no alarm print nothing', async (t) => {
    const missing = await routeMissing(server, '/v3/maintenance/defragment');
    if (missing) { t.skip(missing); return; }
    ok(await same(server, ['defrag'], { process: true }), `Finished defragmenting etcd member[${server.clientUrl}]\n`);
    ok(await same(server, ['alarm', 'list']), '');
    ok(await same(server, ['alarm', 'list', '-w', 'json']), '{}\n');
    ok(await same(server, ['alarm', 'disarm']), '');
  });

  test('move-leader to the leader itself; a bad transferee is the server error', async (t) => {
    const missing = await routeMissing(server, '/v3/maintenance/transfer-leadership');
    if (missing) { t.skip(missing); return; }
    const id = /^([0-9a-f]+),/.exec((await ctl(['member', 'list'])).stdout)?.[1] ?? '';
    const self = await same(server, ['move-leader', id]);
    if (server.kind === 'cairn' && self.stderr === 'Error: etcdserver: bad leader transferee\n') {
      t.todo('cairn refuses a leader transfer to the leader itself; etcd accepts it as a no-op');
    } else {
      ok(self, `Leadership transferred from ${id} to ${id}\n`);
    }
    fails(await same(server, ['move-leader', '1234']), 1, 'etcdserver: bad leader transferee');
    fails(await same(server, ['move-leader', 'zz']), 128, 'strconv.ParseUint: parsing "zz": invalid syntax');
  });

  test('version prints the tool and API versions', async () => {
    const r = await cairnctlInProcess(null, ['version']);
    assert.match(r.stdout, /^cairnctl version: \d+\.\d+\.\d+\nAPI version: 3\.4\n$/);
  });
});

describe('snapshot', () => {
  test('save streams the server snapshot to a file; status reads it as etcdctl does', async (t) => {
    const missing = await routeMissing(server, '/v3/maintenance/snapshot');
    if (missing) { t.skip(missing); return; }
    const file = join(dir, 'snap.db');
    ok(await same(server, ['snapshot', 'save', file], { process: true }), `Snapshot saved at ${file}\n`);
    const size = (await stat(file)).size;
    assert.ok(size > 0);
    await assert.rejects(stat(`${file}.part`), 'no .part file is left behind');
    if (canCompareWithEtcdctl(server)) {
      const theirs = join(dir, 'theirs.db');
      await etcdctl(server.clientUrl, ['snapshot', 'save', theirs]);
      assert.deepEqual(await readFile(file), await readFile(theirs), 'the same bytes as etcdctl saves (data and sha256)');
      for (const w of ['simple', 'json', 'fields', 'table']) {
        const r = await same(server, ['snapshot', 'status', file, '-w', w]);
        assert.equal(r.code, 0, r.stderr);
      }
    }
  });

  test('status of a missing or foreign file; restore is not for etcd files', async () => {
    fails(await ctl(['snapshot', 'status', join(dir, 'none')]), 1, `stat ${join(dir, 'none')}: no such file or directory`);
    fails(await same(server, ['snapshot', 'status']), 128, 'snapshot status requires exactly one argument');
    fails(await same(server, ['snapshot', 'save']), 128, 'snapshot save expects one argument');
    fails(await cairnctlInProcess(null, ['--endpoints=a:1,b:2', 'snapshot', 'save', join(dir, 'x.db')]), 5, 'snapshot must be requested to one selected node, not multiple [a:1 b:2]');
  });
});

