/**
 * Differential tests of the gateway watch stream and the lease API: the same requests go to a
 * real etcd 3.4 and to cairn (in process, on a free port), each starting empty, and every
 * message of every stream must match once the parts that name the member are dropped
 * (cluster_id, member_id, raft_term). Writes are sequential, so both servers reach the same
 * revisions. Skipped when etcd is not installed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { etcdAvailable, gw, startEtcd, type ServerHandle } from '../support/harness.js';
import { startLocalCairn, type LocalCairn } from './local-cairn.js';
import { GatewayStreamClient, type StreamMessage } from './stream-client.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const PROGRESS_INTERVAL_MS = 1_000;

let etcd: ServerHandle;
let cairn: LocalCairn;
let urls: string[];

/** Drops what names the member, keeps everything else. */
function norm(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(norm);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'cluster_id' || k === 'member_id' || k === 'raft_term') continue;
    // etcd keeps a lease's keys in a Go map: their order in timetolive is random.
    out[k] = k === 'keys' && Array.isArray(x) ? [...x].sort() : norm(x);
  }
  return out;
}

/** Messages per watch ID (absent = watch 0), each list in arrival order. */
function byWatch(ms: StreamMessage[]): Record<string, StreamMessage[]> {
  const out: Record<string, StreamMessage[]> = {};
  for (const m of ms) {
    const id = String(m.result?.watch_id ?? (m.result ? '0' : 'error'));
    (out[id] ??= []).push(m);
  }
  return out;
}

async function both<T>(fn: (url: string) => Promise<T>): Promise<[T, T]> {
  const [e, c] = await Promise.all(urls.map(fn));
  return [e, c];
}

async function sameAnswers(path: string, body: unknown): Promise<unknown> {
  const [e, c] = await both((u) => gw(u, path, body));
  assert.equal(c.status, e.status, `${path} ${JSON.stringify(body)}: status`);
  assert.deepEqual(norm(c.json), norm(e.json), `${path} ${JSON.stringify(body)}`);
  return e.json;
}

async function writeBoth(ops: Array<[string, unknown]>): Promise<void> {
  for (const [path, body] of ops) await sameAnswers(path, body);
}

/** Opens a watch stream on each server with the same requests; `run` drives both. */
async function watchBoth(
  requests: unknown[], run: () => Promise<void>, opts: { settleMs?: number } = {},
): Promise<StreamMessage[]> {
  // etcd's gateway reads the whole request body before it answers: send it all, then end it
  // (the watch stays open). Requests sent later on an open body are covered by cairn's tests.
  const clients = urls.map((u) => new GatewayStreamClient(u, '/v3/watch', requests));
  try {
    for (const c of clients) c.endRequest();
    await Promise.all(clients.map((c) => c.waitFor(1)));
    await new Promise((r) => setTimeout(r, 100));
    await run();
    await Promise.all(clients.map((c) => c.settle(opts.settleMs ?? 300)));
    const [e, c] = clients.map((cl) => norm(cl.messages) as StreamMessage[]);
    // Between watchers etcd's order is its map order; within one watcher it must be the same.
    assert.deepEqual(byWatch(c), byWatch(e));
    assert.equal(c.length, e.length);
    return e;
  } finally {
    for (const c of clients) c.close();
  }
}

const put = (key: string, value: string, extra: Record<string, unknown> = {}): [string, unknown] =>
  ['/v3/kv/put', { key: b64(key), value: b64(value), ...extra }];
const del = (key: string, extra: Record<string, unknown> = {}): [string, unknown] => ['/v3/kv/deleterange', { key: b64(key), ...extra }];

describe('differential: gateway watch and leases vs etcd 3.4', { skip: etcdAvailable() ? false : 'etcd not installed', timeout: 120_000 }, () => {
  before(async () => {
    [etcd, cairn] = await Promise.all([
      startEtcd({ extraArgs: ['--experimental-watch-progress-notify-interval', `${PROGRESS_INTERVAL_MS}ms`] }),
      startLocalCairn({ leaseWatch: { watchLimits: { progressIntervalMs: PROGRESS_INTERVAL_MS } } }),
    ]);
    urls = [etcd.clientUrl, cairn.url];
  });
  after(async () => {
    await Promise.allSettled([etcd?.dispose(), cairn?.close()]);
  });

  it('live events: key, prefix, range, from-key and all-keys watchers, prev_kv, filters, txn and range delete', async () => {
    const msgs = await watchBoth([
      { create_request: { key: b64('a/1') } },
      { create_request: { key: b64('a/'), range_end: b64('a0'), prev_kv: true } },
      { create_request: { key: b64('a/2'), range_end: b64('a/4'), filters: ['NOPUT'] } },
      { create_request: { key: b64('a/3'), range_end: 'AA==', filters: [1], prev_kv: true } },
      { create_request: { key: 'AA==', range_end: 'AA==' } },
      { create_request: { key: b64('a/1'), filters: ['NOPUT', 'NODELETE'] } },
    ], async () => {
      await writeBoth([
        put('a/1', 'one'), put('a/2', 'two'), put('a/3', ''), put('a/1', 'uno', { lease: 0 }), del('a/1'),
        ['/v3/kv/txn', { success: [
          { request_put: { key: b64('a/5'), value: b64('five') } },
          { request_put: { key: b64('a/2'), value: b64('deux') } },
          { request_delete_range: { key: b64('a/3') } },
        ] }],
        del('a/', { range_end: b64('a0'), prev_kv: true }),
      ]);
    });
    assert.ok(msgs.filter((m) => m.result?.events).length >= 10, 'the scenario produced events');
  });

  it('history catch-up from past revisions, then live, with no gap and no repeat', async () => {
    await writeBoth([put('h/1', 'a'), put('h/2', 'b'), put('h/1', 'c'), del('h/2'), put('h/3', 'd')]);
    const rev = BigInt((await sameAnswers('/v3/kv/range', { key: b64('h/1') }) as any).header.revision);
    await watchBoth([
      { create_request: { key: b64('h/'), range_end: b64('h0'), start_revision: String(rev - 4n), prev_kv: true } },
      { create_request: { key: b64('h/1'), start_revision: Number(rev - 2n) } },
      { create_request: { key: b64('h/'), range_end: b64('h0'), start_revision: String(rev) } },
      { create_request: { key: b64('h/'), range_end: b64('h0'), start_revision: String(rev + 2n) } },
      { create_request: { key: b64('h/'), range_end: b64('h0'), start_revision: 1, filters: ['NOPUT'] } },
    ], async () => {
      await writeBoth([put('h/4', 'e'), put('h/1', 'f'), del('h/1')]);
    });
  });

  it('several watchers on one stream: given and picked IDs, duplicate ID, cancel, unknown cancel, progress request', async () => {
    await watchBoth([
      { create_request: { key: b64('m/a'), watch_id: 7 } },
      { create_request: { key: b64('m/a'), watch_id: '7' } },
      { create_request: { key: b64('m/b') } },
      { create_request: { key: b64('m/b') } },
      { create_request: { key: b64('m/c'), watch_id: 3 } },
      { progress_request: {} },
      { cancel_request: { watch_id: 3 } },
      { cancel_request: { watch_id: 42 } },
      { cancelRequest: { watchId: '1' } },
      { create_request: { key: b64('m/a') } },
    ], async () => {
      await writeBoth([put('m/a', '1'), put('m/b', '2'), put('m/c', '3')]);
    });
  });

  it('bad input on the stream: first request malformed (500), later request malformed (stream stays)', async () => {
    for (const body of ['{"create_request":', '{"create_request":{"key":"!!"}}', '[1]', '{"create_request":{"key":5}}',
      '{"create_request":{"key":"YQ==","filters":["X"]}}', '{"create_request":{"key":"YQ==","start_revision":"x1"}}']) {
      const [e, c] = await both(async (u) => {
        const s = new GatewayStreamClient(u, '/v3/watch', [body]);
        s.endRequest();
        await s.waitEnd();
        return { status: s.status, body: JSON.parse(s.rawBody) };
      });
      assert.deepEqual(c, e, body);
    }
    await watchBoth(['{"create_request":{"key":"YQ=="}}{"create_request":{"key":"!!"}}{"create_request":{"key":"Yg=="}}'], async () => {
      await writeBoth([put('a', 'x'), put('b', 'y')]);
    });
  });

  it('leases: grant (minimum TTL, given ID, too large, duplicate), put with unknown lease, timetolive, leases, revoke deleting keys at one revision', async () => {
    await sameAnswers('/v3/lease/grant', { TTL: 1, ID: 1001 });
    await sameAnswers('/v3/lease/grant', { TTL: '600', ID: '1002' });
    await sameAnswers('/v3/lease/grant', { TTL: 600, ID: 1002 });
    await sameAnswers('/v3/lease/grant', { TTL: 9_000_000_001, ID: 1003 });
    await sameAnswers('/v3/lease/grant', { TTL: 600, ID: '-5' });
    await sameAnswers('/v3/lease/grant', { TTL: 600, ID: '9223372036854775807' });
    await sameAnswers('/v3/kv/put', { key: b64('l/x'), value: b64('1'), lease: 4242 });
    await watchBoth([{ create_request: { key: b64('l/'), range_end: b64('l0'), prev_kv: true } }], async () => {
      await writeBoth([
        put('l/a', '1', { lease: 1002 }), put('l/b', '2', { lease: '1002' }), put('l/c', '3', { lease: '9223372036854775807' }),
        put('l/d', '4'),
      ]);
      await sameAnswers('/v3/lease/timetolive', { ID: 1002, keys: true });
      await sameAnswers('/v3/kv/lease/timetolive', { ID: '9223372036854775807' });
      await sameAnswers('/v3/lease/timetolive', { ID: 999 });
      await sameAnswers('/v3/lease/revoke', { ID: 1002 });
      await sameAnswers('/v3/kv/lease/revoke', { ID: 1002 });
      await sameAnswers('/v3/lease/revoke', { ID: -5 });
      await sameAnswers('/v3/lease/revoke', {});
    });
    await sameAnswers('/v3/lease/timetolive', { ID: 1002 });
    const [e, c] = await both((u) => gw(u, '/v3/lease/leases', {}));
    const ids = (r: any) => r.json.leases.map((l: any) => l.ID).sort();
    assert.deepEqual(ids(c), ids(e));
    assert.ok(ids(e).includes('9223372036854775807'));
  });

  it('keep-alive stream: one answer per request in order, TTL absent for an unknown lease, end with the body', async () => {
    await sameAnswers('/v3/lease/grant', { TTL: 60, ID: 2001 });
    for (const body of ['{"ID":2001}{"ID":"2001"}{"ID":31337}', '', '{"ID":2001}xx', '{"ID":"abc"}', '{"ID":2001}{"ID":"abc"}']) {
      const [e, c] = await both(async (u) => {
        const s = new GatewayStreamClient(u, '/v3/lease/keepalive', [body]);
        s.endRequest();
        await s.waitEnd();
        return { status: s.status, messages: norm(s.rawBody.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))) };
      });
      assert.deepEqual(c, e, body);
    }
  });

  it('lease expiry deletes the attached keys at one revision and watchers see the DELETE events', async () => {
    await sameAnswers('/v3/lease/grant', { TTL: 2, ID: 3001 });
    await watchBoth([{ create_request: { key: b64('x/'), range_end: b64('x0'), prev_kv: true } }], async () => {
      await writeBoth([put('x/a', '1', { lease: 3001 }), put('x/b', '2', { lease: 3001 })]);
      await sameAnswers('/v3/lease/timetolive', { ID: 3001, keys: true });
      await new Promise((r) => setTimeout(r, 3_500));
    });
    await sameAnswers('/v3/lease/timetolive', { ID: 3001, keys: true });
    await sameAnswers('/v3/kv/range', { key: b64('x/'), range_end: b64('x0') });
  });

  it('progress notifications to idle watchers that asked, with the current revision', async () => {
    const clients = urls.map((u) => new GatewayStreamClient(u, '/v3/watch', [
      { create_request: { key: b64('p/idle'), progress_notify: true } },
      { create_request: { key: b64('p/quiet') } },
    ]));
    for (const c of clients) c.endRequest();
    try {
      await new Promise((r) => setTimeout(r, 2_600));
      const [e, c] = clients.map((cl) => norm(cl.messages) as StreamMessage[]);
      const distinct = (ms: StreamMessage[]) => [...new Set(ms.map((m) => JSON.stringify(m)))];
      assert.ok(e.length >= 3, `etcd sent ${e.length} messages`);
      assert.deepEqual(distinct(c), distinct(e));
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('fragment: a catch-up larger than the request limit is split for watchers that asked, whole otherwise', async () => {
    const big = 'v'.repeat(700 * 1024);
    await writeBoth([put('f/1', big), put('f/2', big), put('f/3', big)]);
    const rev = BigInt((await sameAnswers('/v3/kv/range', { key: b64('f/1'), keys_only: true }) as any).header.revision);
    const msgs = await watchBoth([
      { create_request: { key: b64('f/'), range_end: b64('f0'), start_revision: String(rev - 2n), fragment: true } },
      { create_request: { key: b64('f/'), range_end: b64('f0'), start_revision: String(rev - 2n) } },
    ], async () => undefined, { settleMs: 800 });
    assert.ok(msgs.some((m) => m.result?.fragment === true), 'some response was fragmented');
  });

  it('a start revision below the compaction point: created, then canceled with compact_revision', async () => {
    await writeBoth([put('c/1', 'a'), put('c/1', 'b'), put('c/1', 'c')]);
    const rev = BigInt((await sameAnswers('/v3/kv/range', { key: b64('c/1') }) as any).header.revision);
    await sameAnswers('/v3/kv/compaction', { revision: String(rev - 1n) });
    await watchBoth([
      { create_request: { key: b64('c/1'), start_revision: String(rev - 2n) } },
      { create_request: { key: b64('c/1'), start_revision: String(rev - 1n), prev_kv: true } },
      { create_request: { key: b64('c/1'), start_revision: 1 } },
    ], async () => {
      await writeBoth([put('c/1', 'd')]);
    });
  });
});
