/**
 * Watch and lease scale on one member, in three processes (server, watchers, writer):
 *
 * 1. SSE fan-out: `--watchers` (10,000) concurrent SSE watchers over `--keys` (1,000) keys,
 *    `--rate` (1,000) writes/s to those keys for `--duration` seconds. Reports delivery latency
 *    (write sent → event parsed by the watcher; both clocks are the machine's) p50/p99, events
 *    delivered vs expected, and the server's memory per watcher (heap and RSS, after GC, idle
 *    watchers connected vs none).
 * 2. Leases: grant `--leases` (100,000) leases, revoke half explicitly, let the other half
 *    expire; reports each phase's time, the slowest probe write and the largest event-loop delay
 *    on the server while they run (must stay small: expiry runs in bounded batches).
 *
 *   node --import tsx bench/watch-sse.ts [--watchers 10000] [--keys 1000] [--rate 1000]
 *        [--duration 10] [--leases 100000]
 *   node dist/bench/watch-sse.js
 * The last line is `BENCH_RESULT {json}` for bench/run.ts.
 *
 * Owns the child processes and temp dir it creates. Must never use a fixed port, and never run
 * unbounded: every phase has a deadline.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Pool } from 'undici';
import type { CairnServer } from '../src/server/cairn-server.js';
import { LatencyHistogram, type LatencySummary } from './lib/histogram.js';

const thisFile = fileURLToPath(import.meta.url);
const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Watchers opened per batch while connecting (each batch then waits a moment). */
const CONNECT_BATCH = 250;
/** Writer connections to the server. */
const WRITER_CONNECTIONS = 128;
/** Deadlines. */
const CONNECT_DEADLINE_MS = 120_000;
const DRAIN_DEADLINE_MS = 30_000;
const EXPIRY_DEADLINE_MS = 180_000;

type Msg = Record<string, any>;

function send(m: Msg): void {
  process.send!(m);
}

function nextMessage(child: ChildProcess | NodeJS.Process, type: string, timeoutMs: number): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${type} message within ${timeoutMs} ms`)), timeoutMs);
    const on = (m: Msg) => {
      if (m.type !== type) return;
      clearTimeout(t);
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
  });
}

// ---------------------------------------------------------------- server role

async function serverRole(): Promise<void> {
  const { CairnServer } = await import('../src/server/cairn-server.js');
  const { buildApp } = await import('../src/api/app.js');
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-watch-'));
  const logger = pino({ level: 'warn' });
  const maxRequestBytes = 1.5 * 1024 * 1024;
  const server = await CairnServer.start({
    name: 'bench', dataDir: dir, initialClusterToken: 'bench', initialAdvertisePeerUrls: ['http://127.0.0.1:2380'],
    advertiseClientUrls: ['http://127.0.0.1:2379'], maxTxnOps: 128, maxRequestBytes, logger, processMetrics: false,
  });
  const app = await buildApp(server, { maxRequestBytes, logger, sse: { heartbeatMs: 60_000 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', async (m: Msg) => {
    if (m.cmd === 'mem') {
      gc?.(); gc?.();
      const u = process.memoryUsage();
      send({ type: 'mem', heapUsed: u.heapUsed, rss: u.rss, external: u.external, watchers: server.watchHub.watcherCount });
    } else if (m.cmd === 'leases') {
      send({ type: 'leases', ...(await leasePhases(server, m.n)) });
    } else if (m.cmd === 'stop') {
      await app.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  send({ type: 'ready', port: (app.server.address() as { port: number }).port });
}

type Server = CairnServer;

/** Runs `work` while probing: one put at a time (its latency) and the event-loop delay. */
async function probed<T>(server: Server, work: () => Promise<T>): Promise<{ value: T; ms: number; slowestPutMs: number; maxLoopDelayMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let done = false;
  let slowestPutMs = 0;
  const probe = (async () => {
    while (!done) {
      const t = performance.now();
      await server.put({ key: Buffer.from('bench/probe'), value: Buffer.from('x') });
      slowestPutMs = Math.max(slowestPutMs, performance.now() - t);
      await sleep(20);
    }
  })();
  const t0 = performance.now();
  const value = await work();
  const ms = performance.now() - t0;
  done = true;
  await probe;
  delay.disable();
  return { value, ms: Math.round(ms), slowestPutMs: Math.round(slowestPutMs), maxLoopDelayMs: Math.round(delay.max / 1e6) };
}

async function leasePhases(server: Server, n: number): Promise<Msg> {
  const ttlSec = 5n;
  const inFlight = 1_000;
  const grant = await probed(server, async () => {
    const ids: bigint[] = [];
    for (let i = 0; i < n; i += inFlight) {
      const batch = await Promise.all(Array.from({ length: Math.min(inFlight, n - i) }, () => server.leases.grant(ttlSec, 0n)));
      for (const b of batch) ids.push(b.result.id);
    }
    return ids;
  });
  const ids = grant.value;
  const half = Math.floor(n / 2);
  const revoke = await probed(server, async () => {
    for (let i = 0; i < half; i += inFlight) await Promise.all(ids.slice(i, Math.min(half, i + inFlight)).map((id) => server.leases.revoke(id)));
  });
  const expire = await probed(server, async () => {
    const deadline = Date.now() + EXPIRY_DEADLINE_MS;
    while (server.leases.lessor.size > 0 && Date.now() < deadline) await sleep(50);
    return server.leases.lessor.size;
  });
  const strip = (p: { ms: number; slowestPutMs: number; maxLoopDelayMs: number }) => ({ ms: p.ms, slowestPutMs: p.slowestPutMs, maxLoopDelayMs: p.maxLoopDelayMs });
  return { leases: n, ttlSec: Number(ttlSec), grant: strip(grant), revoke: { count: half, ...strip(revoke) }, expire: { count: n - half, left: expire.value, ...strip(expire) } };
}

// ---------------------------------------------------------------- watchers role

function watchersRole(): void {
  const hist = new LatencyHistogram();
  let delivered = 0;
  let created = 0;
  let failed = 0;
  const sockets: Socket[] = [];
  const marker = '"value":"';
  const onData = (chunk: string, carry: { rest: string }) => {
    const text = carry.rest + chunk;
    const lastNl = text.lastIndexOf('\n');
    carry.rest = lastNl < 0 ? text : text.slice(lastNl + 1);
    const whole = lastNl < 0 ? '' : text.slice(0, lastNl + 1);
    const now = nowMs();
    let i = whole.indexOf(marker);
    while (i >= 0) {
      const end = whole.indexOf('"', i + marker.length);
      const sent = Number(whole.slice(i + marker.length, end));
      if (Number.isFinite(sent)) {
        hist.recordUs((now - sent) * 1000);
        delivered++;
      }
      i = whole.indexOf(marker, end);
    }
    if (whole.includes('event: created')) created++;
  };
  process.on('message', async (m: Msg) => {
    if (m.cmd === 'connect') {
      const t0 = performance.now();
      for (let i = 0; i < m.n; i++) {
        const s = connect(m.port, '127.0.0.1');
        const carry = { rest: '' };
        s.setEncoding('utf8');
        s.on('data', (c: string) => onData(c, carry));
        s.on('error', () => { failed++; });
        s.write(`GET /watch/bench/k${i % m.keys} HTTP/1.1\r\nHost: bench\r\n\r\n`);
        sockets.push(s);
        if (i % CONNECT_BATCH === CONNECT_BATCH - 1) await sleep(20);
      }
      const deadline = Date.now() + CONNECT_DEADLINE_MS;
      while (created + failed < m.n && Date.now() < deadline) await sleep(50);
      send({ type: 'connected', created, failed, ms: Math.round(performance.now() - t0) });
    } else if (m.cmd === 'report') {
      send({ type: 'report', delivered, latency: hist.summary() });
    } else if (m.cmd === 'stop') {
      for (const s of sockets) s.destroy();
      process.exit(0);
    }
  });
  send({ type: 'ready' });
}

// ---------------------------------------------------------------- parent: writer and report

interface Options {
  watchers: number;
  keys: number;
  rate: number;
  durationSec: number;
  leases: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      watchers: { type: 'string', default: '10000' },
      keys: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '10' },
      leases: { type: 'string', default: '100000' },
      role: { type: 'string', default: '' },
    },
    allowPositionals: true,
  });
  return {
    watchers: Number(values.watchers), keys: Number(values.keys), rate: Number(values.rate),
    durationSec: Number(values.duration), leases: Number(values.leases),
  };
}

/** Paced writes: `rate` per second for `durationSec`, each value the send time in ms. */
async function writeLoad(port: number, o: Options): Promise<{ sent: number; failed: number; put: LatencySummary }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: WRITER_CONNECTIONS });
  const hist = new LatencyHistogram();
  let sent = 0;
  let failed = 0;
  const total = o.rate * o.durationSec;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const started = performance.now();
    const p = pool.request({ method: 'PUT', path: `/kv/bench/k${i % o.keys}`, body: String(nowMs()) })
      .then(async (r) => { await r.body.dump(); if (r.statusCode !== 200) failed++; hist.recordUs((performance.now() - started) * 1000); })
      .catch(() => { failed++; })
      .finally(() => inflight.delete(p));
    inflight.add(p);
    sent++;
  }
  await Promise.all(inflight);
  await pool.close();
  return { sent, failed, put: hist.summary() };
}

function forkRole(role: string): ChildProcess {
  return fork(thisFile, ['--role', role], { execArgv: [...process.execArgv, '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function main(): Promise<void> {
  const o = options();
  const server = forkRole('server');
  const watchers = forkRole('watchers');
  try {
    const [{ port }] = await Promise.all([nextMessage(server, 'ready', 30_000), nextMessage(watchers, 'ready', 30_000)]);
    server.send({ cmd: 'mem' });
    const memBefore = await nextMessage(server, 'mem', 30_000);
    watchers.send({ cmd: 'connect', port, n: o.watchers, keys: o.keys });
    const connected = await nextMessage(watchers, 'connected', CONNECT_DEADLINE_MS + 10_000);
    server.send({ cmd: 'mem' });
    const memAfter = await nextMessage(server, 'mem', 30_000);
    console.log(`watchers: ${connected.created} connected in ${connected.ms} ms (${connected.failed} failed), server holds ${memAfter.watchers}`);
    const writes = await writeLoad(port, o);
    const expected = writes.sent * (o.watchers / o.keys);
    const deadline = Date.now() + DRAIN_DEADLINE_MS;
    let report: Msg;
    do {
      watchers.send({ cmd: 'report' });
      report = await nextMessage(watchers, 'report', 30_000);
      if (report.delivered >= expected) break;
      await sleep(200);
    } while (Date.now() < deadline);
    const perWatcher = (k: 'heapUsed' | 'rss') => Math.round((memAfter[k] - memBefore[k]) / Math.max(1, memAfter.watchers));
    console.log(`writes: ${writes.sent} at ${o.rate}/s (${writes.failed} failed); delivered ${report.delivered} of ${expected}; ` +
      `latency p50 ${report.latency.p50Ms} ms, p99 ${report.latency.p99Ms} ms; per watcher: heap ${perWatcher('heapUsed')} B, RSS ${perWatcher('rss')} B`);
    server.send({ cmd: 'leases', n: o.leases });
    const leases = await nextMessage(server, 'leases', 3 * EXPIRY_DEADLINE_MS);
    console.log(`leases: ${JSON.stringify(leases)}`);
    const result = {
      bench: 'watch-sse',
      watchers: memAfter.watchers, keys: o.keys, rate: o.rate, durationSec: o.durationSec,
      connectMs: connected.ms, writes: writes.sent, writeFailures: writes.failed, put: writes.put,
      delivered: report.delivered, expected, delivery: report.latency,
      memoryPerWatcher: { heapBytes: perWatcher('heapUsed'), rssBytes: perWatcher('rss') },
      leases: { ...leases, type: undefined },
    };
    console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
  } finally {
    watchers.send({ cmd: 'stop' });
    server.send({ cmd: 'stop' });
    await Promise.all([server, watchers].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  }
}

const role = process.argv[process.argv.indexOf('--role') + 1];
if (process.argv.includes('--role') && role === 'server') await serverRole();
else if (process.argv.includes('--role') && role === 'watchers') watchersRole();
else await main();
