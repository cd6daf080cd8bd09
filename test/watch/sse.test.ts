/**
 * The SSE face of watches, read by a real EventSource client (the `eventsource` package) and by
 * plain fetch: exactly-once delivery across forced reconnects in the middle of a burst (cut
 * mid-message, and inside a txn's events), Last-Event-ID resume, options, compaction, progress,
 * heartbeats, and the slow-consumer cancel that never blocks writes or other watchers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EventSource } from 'eventsource';
import { startLocalCairn, type LocalCairn } from './local-cairn.js';

const enc = (s: string) => Buffer.from(s);

interface SseMessage {
  id?: string;
  event: string;
  data: any;
}

/** Parses complete SSE messages (blank-line terminated) out of text. */
function parseSse(text: string): SseMessage[] {
  const out: SseMessage[] = [];
  for (const block of text.split('\n\n').slice(0, -1)) {
    const m: SseMessage = { event: 'message', data: undefined };
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line === '') continue;
      const i = line.indexOf(':');
      const field = line.slice(0, i);
      const value = line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') m.id = value;
      else if (field === 'event') m.event = value;
      else if (field === 'data') data += value;
    }
    if (data === '' && m.event === 'message') continue;
    m.data = data === '' ? undefined : JSON.parse(data);
    out.push(m);
  }
  return out;
}

/** GETs an SSE URL and returns the messages read until `until` says stop or the stream ends. */
async function readSse(url: string, opts: { headers?: Record<string, string>; until?: (ms: SseMessage[]) => boolean; timeoutMs?: number } = {}): Promise<{ text: string; messages: SseMessage[]; ended: boolean }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 5_000);
  const res = await fetch(url, { headers: opts.headers, signal: ac.signal });
  let text = '';
  let pending = '';
  const messages: SseMessage[] = [];
  let ended = false;
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) { ended = true; break; }
      const chunk = Buffer.from(value).toString();
      if (text.length < 1 << 20) text += chunk;
      pending += chunk;
      const cut = pending.lastIndexOf('\n\n');
      if (cut >= 0) {
        messages.push(...parseSse(pending.slice(0, cut + 2)));
        pending = pending.slice(cut + 2);
      }
      if (opts.until?.(messages)) break;
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { text, messages, ended };
}

let c: LocalCairn;
const put = (k: string, v: string) => c.server.put({ key: enc(k), value: enc(v) });

describe('SSE watch', { timeout: 60_000 }, () => {
  before(async () => {
    c = await startLocalCairn({
      sse: { heartbeatMs: 200, retryMs: 50 },
      leaseWatch: { watchLimits: { progressIntervalMs: 300 } },
    });
  });
  after(async () => { await c?.close(); });

  it('an EventSource that loses its connection twice mid-burst gets every event exactly once, in order', async () => {
    let connections = 0;
    const lastIds: Array<string | null> = [];
    // Cut the first two connections after some bytes: in the middle of a message, wherever it falls.
    const cutAfterBytes = [3_000, 7_000];
    const cuttingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const n = connections++;
      lastIds.push(new Headers(init?.headers).get('last-event-id'));
      const res = await fetch(input, init);
      const cut = cutAfterBytes[n];
      if (cut === undefined || !res.body) return res;
      const reader = res.body.getReader();
      let seen = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(ctl) {
          const { value, done } = await reader.read();
          if (done) return ctl.close();
          if (seen + value.length > cut) {
            ctl.enqueue(value.subarray(0, cut - seen));
            void reader.cancel();
            ctl.error(new Error('connection cut by the test'));
            return;
          }
          seen += value.length;
          ctl.enqueue(value);
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const got: string[] = [];
    const es = new EventSource(`${c.url}/watch/burst/?prefix&prev_kv`, { fetch: cuttingFetch });
    for (const type of ['put', 'delete']) {
      es.addEventListener(type, (ev) => {
        const d = JSON.parse((ev as MessageEvent).data);
        got.push(`${d.mod_revision} ${d.type} ${d.key} ${d.value ?? ''}`);
      });
    }
    await new Promise<void>((resolve) => es.addEventListener('created', () => resolve(), { once: true }));
    const expected: string[] = [];
    for (let i = 0; i < 120; i++) {
      const v = `value-${i}-${'x'.repeat(i % 7 * 20)}`;
      if (i % 10 === 9) {
        // A txn: three events at one revision, so a cut can fall inside one revision's events.
        const keys = [`burst/t${i}a`, `burst/t${i}b`, `burst/${i - 1}`];
        const r = await c.server.txn({ compare: [], success: [
          { put: { key: enc(keys[0]), value: enc(v) } }, { put: { key: enc(keys[1]), value: enc(v) } },
          { deleteRange: { key: enc(keys[2]) } },
        ], failure: [] });
        const rev = r.header.revision;
        expected.push(`${rev} put ${keys[0]} ${v}`, `${rev} put ${keys[1]} ${v}`, `${rev} delete ${keys[2]} `);
      } else {
        const r = await put(`burst/${i}`, v);
        expected.push(`${r.header.revision} put burst/${i} ${v}`);
      }
    }
    const deadline = Date.now() + 10_000;
    while (got.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200)); // anything repeated late would show up now
    es.close();
    assert.ok(connections >= 3, `the client reconnected (${connections} connections)`);
    assert.equal(lastIds[0], null);
    assert.ok(lastIds.slice(1).every((id) => id !== null && /^\d+(\.\d+)?$/.test(id)), `resumed with Last-Event-ID: ${lastIds.join(', ')}`);
    assert.deepEqual(got, expected);
  });

  it('Last-Event-ID "R.k" resumes inside a txn; "R" resumes after it', async () => {
    const r = await c.server.txn({ compare: [], success: ['r/a', 'r/b', 'r/c'].map((k) => ({ put: { key: enc(k), value: enc('v') } })), failure: [] });
    const R = r.header.revision;
    await put('r/d', 'after');
    const all = await readSse(`${c.url}/watch/r/?prefix&start_revision=${R}`, { until: (ms) => ms.length >= 5 });
    assert.deepEqual(all.messages.slice(1).map((m) => [m.id, m.data.key]), [[`${R}.0`, 'r/a'], [`${R}.1`, 'r/b'], [`${R}`, 'r/c'], [`${R + 1n}`, 'r/d']]);
    const mid = await readSse(`${c.url}/watch/r/?prefix&start_revision=1`, { headers: { 'last-event-id': `${R}.0` }, until: (ms) => ms.length >= 4 });
    assert.deepEqual(mid.messages.slice(1).map((m) => m.data.key), ['r/b', 'r/c', 'r/d']);
    const whole = await readSse(`${c.url}/watch/r/?prefix&last_event_id=${R}`, { until: (ms) => ms.length >= 2 });
    assert.deepEqual(whole.messages.slice(1).map((m) => m.data.key), ['r/d']);
    const bad = await fetch(`${c.url}/watch/r/?prefix`, { headers: { 'last-event-id': 'yesterday' } });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  });

  it('options: start revision, prev_kv, no_put, no_delete, range_end, from_key, base64, created first', async () => {
    const first = (await put('o/a', '1')).header.revision;
    await put('o/a', '2');
    await c.server.deleteRange({ key: enc('o/a') });
    await put('o/b', '3');
    const url = (q: string) => `${c.url}/watch/o/${q}`;
    const deletes = await readSse(url(`?prefix&no_put&prev_kv&start_revision=${first}`), { until: (ms) => ms.length >= 2 });
    assert.equal(deletes.messages[0].event, 'created');
    assert.deepEqual(deletes.messages[1], {
      id: String(first + 2n), event: 'delete',
      data: { type: 'delete', key: 'o/a', mod_revision: String(first + 2n), prev_kv: { key: 'o/a', create_revision: String(first), mod_revision: String(first + 1n), version: '2', lease: '0', value: '2' } },
    });
    const puts = await readSse(url(`a?range_end=o%2Fc&no_delete&start_revision=${first}`), { until: (ms) => ms.length >= 4 });
    assert.deepEqual(puts.messages.slice(1).map((m) => `${m.event} ${m.data.key} ${m.data.value}`), ['put o/a 1', 'put o/a 2', 'put o/b 3']);
    const b64 = await readSse(`${c.url}/watch/o/b?from_key&encoding=base64&start_revision=${first}`, { until: (ms) => ms.length >= 2 });
    assert.deepEqual([b64.messages[1].data.key, b64.messages[1].data.value], [enc('o/b').toString('base64'), enc('3').toString('base64')]);
  });

  it('idle streams get heartbeat comments and, when asked, progress events whose id is a safe resume point', async () => {
    const r = await readSse(`${c.url}/watch/idle/key?progress_notify`, { until: (ms) => ms.filter((m) => m.event === 'progress').length >= 2, timeoutMs: 3_000 });
    assert.match(r.text, /^: heartbeat$/m);
    const progress = r.messages.filter((m) => m.event === 'progress');
    assert.ok(progress.length >= 2);
    assert.equal(progress[0].id, progress[0].data.revision);
    assert.equal(BigInt(progress[0].data.revision), c.server.watchHub.revision);
  });

  it('a start revision below the compaction point ends the stream with a compacted event', async () => {
    await put('cmp/a', '1');
    const rev = (await put('cmp/a', '2')).header.revision;
    await c.server.compact(rev, false);
    const r = await readSse(`${c.url}/watch/cmp/a?start_revision=${rev - 1n}`);
    assert.equal(r.ended, true);
    assert.deepEqual(r.messages.map((m) => m.event), ['created', 'compacted']);
    assert.equal(r.messages[1].data.compact_revision, String(rev));
    assert.equal(r.messages[1].id, undefined, 'a compacted event must not move Last-Event-ID');
  });

  it('bad requests are plain 400s before any stream starts', async () => {
    for (const q of ['/watch/', '/watch/k?start_revision=abc', '/watch/k?encoding=hex', '/watch/k?prev_kv=maybe']) {
      const res = await fetch(`${c.url}${q}`);
      assert.equal(res.status, 400, q);
      assert.ok(((await res.json()) as { error?: string }).error);
    }
  });
});

describe('SSE slow consumer', { timeout: 60_000 }, () => {
  it('a client that stops reading is canceled with a reason; writes and other watchers never wait', async () => {
    // Enough bytes to fill the loopback socket buffers (several MB) and then the 2 MiB budget.
    const PUTS = 1_500;
    const lc = await startLocalCairn({ sse: { maxBufferedBytes: 2 << 20, heartbeatMs: 60_000 } });
    try {
      const port = new URL(lc.url).port;
      const sock = connect(Number(port), '127.0.0.1');
      // HTTP/1.0: no chunk framing in the text, and the server closes the socket at the end.
      sock.write(`GET /watch/slow/?prefix HTTP/1.0\r\nHost: x\r\n\r\n`);
      let text = '';
      sock.on('data', (d) => { text += d.toString(); });
      await new Promise((r) => setTimeout(r, 200));
      sock.pause(); // stops reading: the kernel buffers fill, then the server's
      const healthy = readSse(`${lc.url}/watch/slow/?prefix`, { until: (ms) => ms.length >= 1 + PUTS, timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, 100));
      const value = 'v'.repeat(16 * 1024);
      await lc.server.put({ key: enc('warm-up'), value: enc(value) }); // the first write sets up the file
      const loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      const started = performance.now();
      let slowestPutMs = 0;
      for (let i = 0; i < PUTS; i++) {
        const t = performance.now();
        await lc.server.put({ key: enc(`slow/${i % 10}`), value: enc(value) });
        slowestPutMs = Math.max(slowestPutMs, performance.now() - t);
      }
      const totalMs = performance.now() - started;
      loopDelay.disable();
      const h = await healthy;
      assert.equal(h.messages.length, 1 + PUTS, 'the reading watcher got every event');
      sock.resume();
      await new Promise<void>((resolve) => sock.on('end', () => resolve()));
      const last = parseSse(text).at(-1)!;
      assert.equal(last.event, 'canceled');
      assert.match(last.data.reason, /slow consumer/);
      // Never waiting shows as an event loop that is never held up (a put's own time also
      // includes fsync on a disk shared with other jobs, so it is only reported).
      const maxDelayMs = loopDelay.max / 1e6;
      console.log(`slow consumer: ${PUTS} puts in ${totalMs.toFixed(0)} ms, slowest ${slowestPutMs.toFixed(0)} ms, event loop delay max ${maxDelayMs.toFixed(0)} ms`);
      assert.ok(maxDelayMs < 250, `event loop held up for ${maxDelayMs.toFixed(0)} ms`);
      assert.equal(lc.server.watchHub.watcherCount, 0);
    } finally {
      await lc.close();
    }
  });
});
