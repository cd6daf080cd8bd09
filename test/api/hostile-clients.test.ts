/**
 * Clients that try to tie up a member, against a live member over loopback (an in-process
 * CairnServer, its app and src/api/listeners.ts with short deadlines): a slowloris that
 * trickles request heads and bodies on many connections, a watcher that never reads its
 * stream, and one connection that pipelines more streams than --max-concurrent-streams allows.
 * Each must be cut or bounded while a well-behaved client keeps being served promptly.
 * Bounded in connections, bytes and time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { listenClients, type ClientListener } from '../../src/api/listeners.js';
import { CairnServer } from '../../src/server/cairn-server.js';
import { GatewayStreamClient } from '../watch/stream-client.js';

const LIMITS = { headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000, keepAliveTimeoutMs: 5_000, maxConcurrentStreams: 8 };
const WATCH_BUFFER_BYTES = 1 << 20;
const SLOW_CONNECTIONS = 150;
/** While the hostile clients run, well-behaved requests are answered this fast at the median
 * and at worst (generous: the machine is shared; a stalled member would take seconds). */
const PROMPT_MEDIAN_MS = 250;
const PROMPT_MAX_MS = 3_000;

function checkPrompt(latencies: number[], what: string): void {
  const sorted = [...latencies].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const max = sorted[sorted.length - 1];
  assert.ok(median < PROMPT_MEDIAN_MS && max < PROMPT_MAX_MS, `${what}: median ${median.toFixed(0)} ms, max ${max.toFixed(0)} ms`);
}
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

let dir = '';
let server: CairnServer;
let app: FastifyInstance;
let listener: ClientListener;
let url = '';
let port = 0;
const agent = new Agent({ connections: 4 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-hostile-'));
  const logger = pino({ level: 'silent' });
  server = await CairnServer.start({
    name: 'h', dataDir: dir, initialClusterToken: 'h', initialAdvertisePeerUrls: ['http://127.0.0.1:2380'],
    advertiseClientUrls: ['http://127.0.0.1:2379'], maxTxnOps: 128, maxRequestBytes: 1.5 * 1024 * 1024, logger, processMetrics: false,
  });
  app = await buildApp(server, { maxRequestBytes: 1.5 * 1024 * 1024, logger, watchStreams: { maxBufferedBytes: WATCH_BUFFER_BYTES } });
  listener = await listenClients(app, [new URL('http://127.0.0.1:0')], null, LIMITS);
  url = listener.urls[0];
  port = Number(new URL(url).port);
});

after(async () => {
  await agent.close();
  await app?.close();
  await listener?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function put(key: string, value: string | Buffer): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const res = await request(`${url}/v3/kv/put`, {
    method: 'POST', body: JSON.stringify({ key: b64(key), value: b64(value) }), dispatcher: agent, signal: AbortSignal.timeout(10_000),
  });
  await res.body.text();
  return { status: res.statusCode, ms: performance.now() - t0 };
}

function openSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    else s.once('close', () => resolve());
  });
}

async function waitUntil(what: string, deadlineMs: number, cond: () => boolean): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('slowloris: trickled heads and bodies are cut at their deadlines while others are served promptly', async () => {
  const sockets: Socket[] = [];
  for (let i = 0; i < SLOW_CONNECTIONS; i++) {
    const s = await openSocket();
    s.on('error', () => {});
    s.on('data', () => {});
    sockets.push(s);
    // Half trickle a request head, half send a head and trickle a declared body.
    s.write(i % 2 === 0 ? 'POST /v3/kv/put HTTP/1.1\r\nHost: x\r\n' : 'POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"ke');
  }
  const trickle = setInterval(() => { for (const s of sockets) if (!s.destroyed) s.write(s.bytesWritten % 2 === 0 ? 'X' : 'y'); }, 100);
  try {
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await put(`calm/${i}`, 'v');
      assert.equal(r.status, 200);
      latencies.push(r.ms);
    }
    checkPrompt(latencies, 'well-behaved puts during the slowloris');
    // Node checks the head deadline once a second: allow two rounds past each deadline.
    await Promise.race([
      Promise.all(sockets.map(closed)),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${sockets.filter((s) => !s.destroyed).length} slow sockets still open`)), LIMITS.headersTimeoutMs + 3_000)),
    ]);
  } finally {
    clearInterval(trickle);
    for (const s of sockets) s.destroy();
  }
  const got = await request(`${url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64('calm/'), range_end: b64('calm0'), count_only: true }), dispatcher: agent });
  assert.equal((await got.body.json() as { count: string }).count, '40');
});

test('a watcher that never reads is cancelled at its buffer bound; a reading watcher and writers are not held up', async () => {
  const baseline = server.watchHub.watcherCount;
  const stalled = await openSocket();
  stalled.on('error', () => {});
  stalled.pause(); // never reads
  const body = JSON.stringify({ create_request: { key: b64('flood'), range_end: b64('flood0') } });
  stalled.write(`POST /v3/watch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n`);
  const reader = new GatewayStreamClient(url, '/v3/watch', [{ create_request: { key: b64('flood'), range_end: b64('flood0') } }]);
  try {
    await reader.waitFor(1);
    await waitUntil('both watchers', 5_000, () => server.watchHub.watcherCount === baseline + 2);
    const value = Buffer.alloc(64 * 1024, 0x61);
    const writes = 120; // 7.5 MiB of values, 10 times the stream's buffer bound (plus kernel buffers)
    const latencies: number[] = [];
    for (let i = 0; i < writes; i++) {
      const r = await put(`flood/${i % 10}`, value);
      assert.equal(r.status, 200);
      latencies.push(r.ms);
    }
    checkPrompt(latencies, 'puts during the flood');
    await waitUntil('the stalled watcher cancelled', 10_000, () => server.watchHub.watcherCount === baseline + 1);
    const events = async (): Promise<number> => reader.messages.flatMap((m) => m.result?.events ?? []).length;
    const end = Date.now() + 15_000;
    while ((await events()) < writes && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await events(), writes, 'the reading watcher got every event');
  } finally {
    reader.close();
    stalled.destroy();
  }
  await waitUntil('watchers gone', 5_000, () => server.watchHub.watcherCount === baseline);
});

test('one connection pipelining more watch streams than --max-concurrent-streams gets exactly the bound, and all go when it closes', async () => {
  const baseline = server.watchHub.watcherCount;
  const s = await openSocket();
  s.on('error', () => {});
  let answer = '';
  s.on('data', (c: Buffer) => { answer += c.toString('latin1'); });
  const body = JSON.stringify({ create_request: { key: b64('pipe') } });
  const one = `POST /v3/watch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  s.write(one.repeat(LIMITS.maxConcurrentStreams * 3));
  try {
    await waitUntil('the first stream to answer', 5_000, () => answer.includes('"created":true'));
    // Let the rest be parsed and refused.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(server.watchHub.watcherCount - baseline, LIMITS.maxConcurrentStreams,
      `${server.watchHub.watcherCount - baseline} watchers from one connection`);
    // Another connection is not affected by this one's bound.
    const r = await put('pipe', 'x');
    assert.equal(r.status, 200);
  } finally {
    s.destroy();
  }
  await waitUntil('watchers gone', 5_000, () => server.watchHub.watcherCount === baseline);
});
