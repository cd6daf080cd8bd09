/**
 * watch as a real, long-running process: events printed as they happen in every format, the
 * command run per event, the compaction cancel (exit 5), interactive mode, argument errors —
 * compared with etcdctl watching the same events when the server is etcd.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerHandle } from '../support/harness.js';
import { canCompareWithEtcdctl, startCairnctl, startEtcdctl, startTarget, type Running } from './cli-harness.js';
import { cairnctlInProcess, fails, same } from './compare.js';

let server: ServerHandle;
const ctl = (args: string[], input?: string) => cairnctlInProcess(server.clientUrl, args, { input });

async function currentRevision(): Promise<bigint> {
  const r = await ctl(['get', 'x', '-w', 'json']);
  return BigInt(/"revision":(\d+)/.exec(r.stdout)?.[1] ?? '0');
}

/**
 * Makes the changes first, then starts cairnctl (and etcdctl) watching from the revision
 * before them: both replay the same history, so start-up timing can neither lose events nor
 * split them into different responses.
 */
async function watchers(args: string[], changes: () => Promise<unknown>): Promise<Running[]> {
  const from = `--rev=${(await currentRevision()) + 1n}`;
  await changes();
  const list = [startCairnctl(server.clientUrl, ['watch', from, ...args])];
  if (canCompareWithEtcdctl(server)) list.push(startEtcdctl(server.clientUrl, ['watch', from, ...args]));
  return list;
}

async function collect(list: Running[], done: (stdout: string) => boolean): Promise<string[]> {
  await Promise.all(list.map((w) => w.waitFor(done)));
  await Promise.all(list.map((w) => w.stop()));
  return list.map((w) => w.stdout());
}

before(async () => { server = await startTarget(); });
after(async () => { await server?.dispose(); });

describe('watch', () => {
  test('simple: PUT/DELETE lines with key and value, --prev-kv adds the previous pair', async () => {
    const ws = await watchers(['w/', '--prefix', '--prev-kv'], async () => {
      await ctl(['put', 'w/a', '1']);
      await ctl(['put', 'w/a', 'two words']);
      await ctl(['del', 'w/a']);
    });
    const outs = await collect(ws, (o) => o.endsWith('DELETE\nw/a\ntwo words\nw/a\n\n'));
    assert.equal(outs[0], 'PUT\nw/a\n1\nPUT\nw/a\n1\nw/a\ntwo words\nDELETE\nw/a\ntwo words\nw/a\n\n');
    for (const o of outs.slice(1)) assert.equal(o, outs[0], 'etcdctl prints the same');
  });

  test('json and fields formats print each response as etcdctl does', async () => {
    for (const format of ['json', 'fields']) {
      const ws = await watchers(['wj', '-w', format], async () => {
        await ctl(['put', 'wj', 'v']);
        await ctl(['del', 'wj']);
      });
      const outs = await collect(ws, (o) => (format === 'json' ? o.includes('"type":1') && o.endsWith('\n') : /DELETE[\s\S]*"Lease" : 0\n$/.test(o)));
      if (format === 'json') assert.match(outs[0], /^\{"Header":\{"cluster_id":\d+,"member_id":\d+,"revision":\d+,"raft_term":\d+\},"Events":\[\{"kv":\{"key":"d2o=",.*\{"type":1,"kv":\{"key":"d2o=","mod_revision":\d+\}\}\],"CompactRevision":0,"Canceled":false,"Created":false\}\n$/s);
      else assert.match(outs[0], /"Type" : PUT\n"Key" : "wj"\n/);
      for (const o of outs.slice(1)) assert.equal(o, outs[0], `etcdctl prints the same (${format})`);
    }
  });

  test('watch key -- command runs the command per event with ETCD_WATCH_* (values quoted as Go %q)', async () => {
    const script = 'echo "rev=$ETCD_WATCH_REVISION type=$ETCD_WATCH_EVENT_TYPE key=$ETCD_WATCH_KEY value=$ETCD_WATCH_VALUE"';
    const ws = await watchers(['we', '--', 'sh', '-c', script], () => ctl(['put', 'we', 'a b']));
    const rev = await currentRevision();
    const outs = await collect(ws, (o) => o.includes('value='));
    assert.equal(outs[0], `PUT\nwe\na b\nrev=${rev} type="PUT" key="we" value="a b"\n`);
    for (const o of outs.slice(1)) assert.equal(o, outs[0]);
  });

  test('watching from a compacted revision: canceled message, "watch is canceled by the server", exit 5', async () => {
    await ctl(['put', 'wc', '1']);
    await ctl(['put', 'wc', '2']);
    const rev = await currentRevision();
    await ctl(['compaction', String(rev)]);
    const r = await same(server, ['watch', 'wc', '--rev=1'], { process: true });
    assert.equal(r.code, 5);
    assert.equal(r.stderr, 'watch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server\n');
  });

  test('interactive: watch lines start watchers, bad lines are reported, EOF ends with exit 3', async () => {
    const from = (await currentRevision()) + 1n;
    const w = startCairnctl(server.clientUrl, ['watch', '-i'], { input: `foo\nwatch\nwatch a b --prefix\nwatch wi --rev=${from}\n` });
    await ctl(['put', 'wi', 'x']);
    await w.waitFor((o) => o.includes('wi\nx\n'));
    assert.equal(w.stdout(), 'PUT\nwi\nx\n');
    assert.equal(w.stderr(), 'Invalid command foo (only support watch)\nInvalid command watch (command type or key is not provided)\n'
      + 'Invalid command watch a b --prefix (`range_end` and `--prefix` are mutually exclusive)\n');
    await w.stop();
  });

  test('argument errors exit 128 as etcdctl', async () => {
    fails(await same(server, ['watch']), 128, 'bad number of arguments');
    fails(await same(server, ['watch', 'a', '--']), 128, 'bad number of arguments (found separator --, but no commands)');
    fails(await same(server, ['watch', 'a', 'b', '--prefix']), 128, '`range_end` and `--prefix` are mutually exclusive');
  });

  test('Ctrl-C ends a watch by the signal, with nothing on stderr', async () => {
    const w = startCairnctl(server.clientUrl, ['watch', 'nothing']);
    await new Promise((r) => setTimeout(r, 1500));
    const end = await w.stop('SIGINT');
    assert.equal(end.signal, 'SIGINT');
    assert.equal(w.stderr(), '');
  });
});
