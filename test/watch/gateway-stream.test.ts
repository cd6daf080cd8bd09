/**
 * Cairn's side of etcd's gateway streams beyond what the differential test can compare: the
 * request-body reader, one message per HTTP chunk, requests arriving later on an open body,
 * limits (watchers per stream, unread bytes), fragment splitting, and streams ended cleanly
 * when the app closes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { CairnError } from '../../src/errors/errors.js';
import type { Event } from '../../src/mvcc/types.js';
import { JsonValueReader } from '../../src/api/gateway/stream.js';
import { eventsOut } from '../../src/api/gateway/watch-codec.js';
import { startLocalCairn } from './local-cairn.js';
import { GatewayStreamClient, rawChunks } from './stream-client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const enc = (s: string) => Buffer.from(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readAll(chunks: string[], maxValueBytes = 1_000): { values: unknown[]; error?: string; ended: boolean } {
  const out: { values: unknown[]; error?: string; ended: boolean } = { values: [], ended: false };
  const r = new JsonValueReader(maxValueBytes, {
    value: (v) => out.values.push(v),
    error: (e: CairnError) => { out.error = e.message; },
    end: () => { out.ended = true; },
  });
  for (const c of chunks) r.push(c);
  r.finish();
  return out;
}

describe('request body reader', () => {
  it('splits values back to back, across chunks, with braces and escaped quotes inside strings', () => {
    const text = '{"a":"}{\\"x"} \n{"b":[1,{"c":2}]}\r\n\t{"createRequest":{"key":"YQ=="}}';
    for (const size of [1, 2, 3, 7, text.length]) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      const r = readAll(chunks);
      assert.deepEqual(r.values, [{ a: '}{"x' }, { b: [1, { c: 2 }] }, { create_request: { key: 'YQ==' } }], `chunks of ${size}`);
      assert.equal(r.ended, true);
    }
  });

  it('gives Go\'s messages for garbage, truncation and non-objects, and bounds a value', () => {
    assert.equal(readAll(['{"a":1}xx']).error, "invalid character 'x' looking for beginning of value");
    assert.equal(readAll(['{"a":']).error, 'unexpected EOF');
    assert.equal(readAll(['[1,2]']).error, 'json: cannot unmarshal array into Go value of type map[string]json.RawMessage');
    assert.equal(readAll(['{"a":"' + 'x'.repeat(2_000) + '"}'], 1_000).error, 'etcdserver: request is too large');
    assert.deepEqual(readAll(['', '  ']), { values: [], ended: true });
  });
});

describe('fragmenting watch responses', () => {
  const ev = (k: string, bytes: number): Event => ({
    type: 'PUT', kv: { key: enc(k), value: new Uint8Array(bytes), createRevision: 2n, modRevision: 2n, version: 1n, lease: 0n },
  });
  const h = { clusterId: 1n, memberId: 2n, revision: 9n, raftTerm: 1n };

  it('splits only when asked and over the limit, marks all but the last, keeps a lone big event whole', () => {
    const evs = [ev('a', 400), ev('b', 400), ev('c', 400), ev('d', 2_000), ev('e', 10)];
    assert.equal(eventsOut(h, 1n, evs, { prevKv: false, fragment: false, maxResponseBytes: 1_000 }).length, 1);
    const parts = eventsOut(h, 1n, evs, { prevKv: false, fragment: true, maxResponseBytes: 1_000 });
    assert.deepEqual(parts.map((p) => (p.events as unknown[]).length), [2, 1, 1, 1]);
    assert.deepEqual(parts.map((p) => p.fragment === true), [true, true, true, false]);
    assert.equal(eventsOut(h, 1n, evs.slice(0, 2), { prevKv: false, fragment: true, maxResponseBytes: 10_000 }).length, 1);
  });
});

describe('gateway watch stream (cairn only)', { timeout: 60_000 }, () => {
  it('sends each message in exactly one HTTP chunk', async () => {
    const c = await startLocalCairn();
    try {
      await c.server.put({ key: enc('ch/a'), value: enc('1') });
      await c.server.put({ key: enc('ch/b'), value: enc('2') });
      const body = JSON.stringify({ create_request: { key: b64('ch/'), range_end: b64('ch0'), start_revision: 1 } }) +
        JSON.stringify({ create_request: { key: b64('ch/a'), start_revision: 1 } }) + JSON.stringify({ progress_request: {} });
      const { head, chunks } = await rawChunks(c.url, '/v3/watch', body, 5);
      assert.match(head, /^HTTP\/1\.1 200/);
      assert.match(head, /transfer-encoding: chunked/i);
      for (const chunk of chunks) {
        assert.ok(chunk.endsWith('\n') && chunk.indexOf('\n') === chunk.length - 1, `one line per chunk: ${JSON.stringify(chunk)}`);
        assert.ok(JSON.parse(chunk).result);
      }
      const events = chunks.map((ch) => JSON.parse(ch).result).filter((r) => r.events);
      assert.deepEqual(events.map((r) => r.events.length).sort(), [1, 2]);
    } finally {
      await c.close();
    }
  });

  it('acts on requests sent later on an open body: cancel after events, then a new watch', async () => {
    const c = await startLocalCairn();
    const s = new GatewayStreamClient(c.url, '/v3/watch', [{ create_request: { key: b64('o/a') } }]);
    try {
      await s.waitFor(1);
      await c.server.put({ key: enc('o/a'), value: enc('1') });
      await s.waitFor(2);
      s.send({ cancel_request: { watch_id: 0 } });
      await s.waitFor(3);
      await c.server.put({ key: enc('o/a'), value: enc('2') });
      s.send({ create_request: { key: b64('o/a'), prev_kv: true } });
      await s.waitFor(4);
      await c.server.put({ key: enc('o/a'), value: enc('3') });
      const ms = (await s.waitFor(5)).map((m) => m.result);
      assert.equal(ms[0].created, true);
      assert.equal(ms[1].events[0].kv.value, b64('1'));
      assert.deepEqual([ms[2].canceled, ms[2].watch_id], [true, undefined]);
      assert.deepEqual([ms[3].created, ms[3].watch_id], [true, '1']);
      assert.deepEqual([ms[4].watch_id, ms[4].events[0].kv.value, ms[4].events[0].prev_kv.value], ['1', b64('3'), b64('2')]);
      await s.settle(200);
      assert.equal(s.messages.length, 5, 'nothing for the canceled watch, nothing repeated');
    } finally {
      s.close();
      await c.close();
    }
  });

  it('refuses watchers past the per-stream limit with etcd\'s refusal shape', async () => {
    const c = await startLocalCairn({ watchStreams: { maxWatchersPerStream: 2 } });
    const s = new GatewayStreamClient(c.url, '/v3/watch', [1, 2, 3].map((i) => ({ create_request: { key: b64(`l/${i}`) } })));
    try {
      const ms = (await s.waitFor(3)).map((m) => m.result);
      assert.deepEqual(ms.map((m) => [m.watch_id, m.created, m.canceled]), [[undefined, true, undefined], ['1', true, undefined], ['-1', true, true]]);
      assert.match(ms[2].cancel_reason, /more than 2 watchers/);
    } finally {
      s.close();
      await c.close();
    }
  });

  it('cancels every watcher of a stream whose client stops reading, with a reason, and ends it', async () => {
    const c = await startLocalCairn({ watchStreams: { maxBufferedBytes: 1 << 20 } });
    try {
      const sock = connect(Number(new URL(c.url).port), '127.0.0.1');
      const body = JSON.stringify({ create_request: { key: b64('s/'), range_end: b64('s0') } }) + JSON.stringify({ create_request: { key: b64('s/1') } });
      sock.write(`POST /v3/watch HTTP/1.0\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      let text = '';
      sock.on('data', (d) => { text += d.toString(); });
      await sleep(200);
      sock.pause();
      const other = new GatewayStreamClient(c.url, '/v3/watch', [{ create_request: { key: b64('s/'), range_end: b64('s0') } }]);
      await other.waitFor(1);
      const value = enc('v'.repeat(16 * 1024));
      for (let i = 0; i < 1_200; i++) await c.server.put({ key: enc(`s/${i % 4}`), value });
      sock.resume();
      await new Promise<void>((resolve) => sock.on('end', () => resolve()));
      const lines = text.slice(text.indexOf('\r\n\r\n') + 4).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).result);
      const canceled = lines.filter((m) => m.canceled);
      assert.deepEqual(canceled.map((m) => m.watch_id ?? '0').sort(), ['0', '1']);
      assert.match(canceled[0].cancel_reason, /slow consumer/);
      await other.waitFor(1 + 1_200, 20_000);
      assert.equal(c.server.watchHub.watcherCount, 1);
      other.close();
    } finally {
      await c.close();
    }
  });

  it('closing the app ends open watch and keep-alive streams instead of hanging', async () => {
    const c = await startLocalCairn();
    const w = new GatewayStreamClient(c.url, '/v3/watch', [{ create_request: { key: b64('z') } }]);
    const lease = await c.server.leases.grant(60n, 0n);
    const k = new GatewayStreamClient(c.url, '/v3/lease/keepalive', [{ ID: lease.result.id.toString() }]);
    await Promise.all([w.waitFor(1), k.waitFor(1)]);
    const t = Date.now();
    await c.close();
    await Promise.all([w.waitEnd(2_000), k.waitEnd(2_000)]);
    assert.ok(Date.now() - t < 3_000);
    assert.equal(c.server.watchHub.watcherCount, 0);
  });
});
