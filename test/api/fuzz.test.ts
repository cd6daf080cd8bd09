/**
 * Fuzzing a live member over real HTTP on loopback (an in-process CairnServer, its Fastify
 * app and the client listeners of src/api/listeners.ts on a free port): thousands of random,
 * mutated and out-of-bounds requests on every client route, plus random paths, methods and
 * headers. Seeded (FUZZ_SEED=<n> replays a run), bounded in count and time.
 *
 * Phase A sends only unary requests, one at a time, so every change of the store has one
 * author; phase B adds the streams and blocking calls (watch, keep-alive, lock, campaign,
 * SSE), each cut off after a moment. What must hold:
 *  - no answer is a 5xx (a 500 is a bug the fuzzer found) and the member keeps serving;
 *  - in phase A a refused request changed nothing (the revision is the same after it), and
 *    every revision in the history was made by a request that was answered 2xx;
 *  - every accepted unmutated put is in the history at its revision, as sent;
 *  - the final key space equals the replay of the whole history (a watch from revision 1
 *    kept open through the run), and every fuzz watcher is gone again;
 *  - the heap, after GC, is back near where it started.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { buildApp } from '../../src/api/app.js';
import { listenClients, type ClientListener } from '../../src/api/listeners.js';
import { CairnServer } from '../../src/server/cairn-server.js';
import { MAX_KEY_BYTES_LIMIT } from '../../src/mvcc/store.js';
import type { FastifyInstance } from 'fastify';
import { Rng } from '../diff/rng.js';
import { PassThrough } from 'node:stream';
import { EXCLUDED_PATHS, nextCase, type FuzzCase } from './fuzz-cases.js';

const SEED = Number(process.env.FUZZ_SEED ?? (Date.now() % 2 ** 31));
const PHASE_A_CASES = Number(process.env.FUZZ_CASES_A ?? 3_000);
const PHASE_B_CASES = Number(process.env.FUZZ_CASES_B ?? 300);
const PHASE_A_BUDGET_MS = 35_000;
const PHASE_B_BUDGET_MS = 12_000;
const REQUEST_TIMEOUT_MS = 10_000;
const STREAM_CUTOFF_MS = 150;
/** Heap growth allowed after GC (history watcher buffers, LMDB and V8 caches, JIT code). */
const HEAP_GROWTH_MAX_BYTES = 48 * 1024 * 1024;
const LIMITS = { maxRequestBytes: 1.5 * 1024 * 1024, maxTxnOps: 128, maxKeyBytes: MAX_KEY_BYTES_LIMIT };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Error-level log lines of the member: each is a failure it did not expect. */
const unexpectedErrors: string[] = [];
let dir = '';
let server: CairnServer;
let app: FastifyInstance;
let listener: ClientListener;
let url = '';
const agent = new Agent({ connections: 8, pipelining: 1, keepAliveTimeout: 2_000 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-fuzz-'));
  const logger = pino({ level: 'error' }, { write: (line: string) => { if (unexpectedErrors.length < 50) unexpectedErrors.push(line.slice(0, 1000)); } });
  server = await CairnServer.start({
    name: 'fuzz', dataDir: dir, initialClusterToken: 'fuzz', initialAdvertisePeerUrls: ['http://127.0.0.1:2380'],
    advertiseClientUrls: ['http://127.0.0.1:2379'], maxTxnOps: LIMITS.maxTxnOps, maxRequestBytes: LIMITS.maxRequestBytes,
    logger, processMetrics: false,
  });
  app = await buildApp(server, { maxRequestBytes: LIMITS.maxRequestBytes, logger });
  listener = await listenClients(app, [new URL('http://127.0.0.1:0')], null);
  url = listener.urls[0];
});

after(async () => {
  await agent.close();
  await app?.close();
  await listener?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  /** -1 when the answer carried no revision. */
  revision: number;
  json: any;
  error?: string;
}

async function send(c: FuzzCase): Promise<Answer> {
  const signal = AbortSignal.timeout(c.streaming ? STREAM_CUTOFF_MS : REQUEST_TIMEOUT_MS);
  try {
    const res = await request(url + c.path, {
      method: c.method as 'GET', headers: c.headers, body: c.body ?? undefined, dispatcher: agent, signal,
    });
    const text = await res.body.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = text; }
    const fromJson = Number(json?.header?.revision ?? NaN);
    const fromHeader = Number(res.headers['x-cairn-revision'] ?? NaN);
    const revision = Number.isFinite(fromJson) ? fromJson : Number.isFinite(fromHeader) ? fromHeader : -1;
    return { status: res.statusCode, revision, json };
  } catch (e) {
    return { status: 0, revision: -1, json: null, error: `${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}` };
  }
}

async function currentRevision(): Promise<number> {
  const res = await request(`${url}/v3/kv/range`, { method: 'POST', body: '{"key":"AA==","serializable":true,"count_only":true}', dispatcher: agent, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const json = await res.body.json() as { header: { revision: string } };
  return Number(json.header.revision);
}

interface Tally {
  sent: number;
  accepted: number;
  refused: number;
  closedOrCut: number;
  serverErrors: number;
  byFamily: Record<string, { sent: number; accepted: number; refused: number }>;
  statuses: Record<string, number>;
}

function tallyOf(): Tally {
  return { sent: 0, accepted: 0, refused: 0, closedOrCut: 0, serverErrors: 0, byFamily: {}, statuses: {} };
}

function count(t: Tally, c: FuzzCase, a: Answer): void {
  t.sent++;
  const f = (t.byFamily[c.family] ??= { sent: 0, accepted: 0, refused: 0 });
  f.sent++;
  const key = a.status === 0 ? 'none' : String(a.status);
  t.statuses[key] = (t.statuses[key] ?? 0) + 1;
  if (a.status === 0) t.closedOrCut++;
  else if (a.status < 400) { t.accepted++; f.accepted++; }
  else { t.refused++; f.refused++; }
  if (isServerFault(a)) t.serverErrors++;
}

function describeCase(c: FuzzCase): string {
  const body = c.body === null ? '' : typeof c.body === 'string' ? c.body : `<${c.body.length} bytes>`;
  return `${c.method} ${c.path.slice(0, 200)} ${JSON.stringify(c.headers).slice(0, 200)} ${body.slice(0, 300)}`;
}

test(`fuzzing every route leaves the member serving, consistent and bounded (seed ${SEED})`, { timeout: 120_000 }, async (t) => {
  const failures: string[] = [];
  const fail = (what: string): void => { if (failures.length < 20) failures.push(what); };
  const rng = new Rng(SEED);
  const history = await HistoryWatch.open(url);
  gc();
  const heapStart = process.memoryUsage().heapUsed;

  // Phase A: unary requests, one at a time.
  const tally = tallyOf();
  const acceptedRevisions = new Set<number>();
  const validPuts: Array<{ revision: number; key: string; value: string }> = [];
  let lastRevision = await currentRevision();
  const phaseAEnd = Date.now() + PHASE_A_BUDGET_MS;
  while (tally.sent < PHASE_A_CASES && Date.now() < phaseAEnd) {
    const c = nextCase(rng, LIMITS);
    if (c.streaming || EXCLUDED_PATHS.test(c.path)) continue;
    const a = await send(c);
    count(tally, c, a);
    if (isServerFault(a)) fail(`${a.status} ${JSON.stringify(a.json).slice(0, 200)} for ${describeCase(c)}`);
    const revision = a.status >= 200 && a.status < 300 && a.revision > 0 ? a.revision : await currentRevision();
    if (revision > lastRevision) {
      if (a.status < 200 || a.status >= 300) fail(`revision moved ${lastRevision} -> ${revision} on a refused request (${a.status}): ${describeCase(c)}`);
      acceptedRevisions.add(revision);
      if (revision !== lastRevision + 1) {
        // Two revisions for one request cannot happen: each write is one revision.
        fail(`revision jumped ${lastRevision} -> ${revision} on one request: ${describeCase(c)}`);
      }
      lastRevision = revision;
    }
    if (c.family === 'valid' && a.status === 200 && c.path.endsWith('/kv/put') && typeof c.body === 'string') {
      const body = JSON.parse(c.body) as { key: string; value: string };
      validPuts.push({ revision: a.revision, key: body.key, value: body.value });
    }
  }
  const phaseBStart = lastRevision;

  // Phase B: streams and blocking calls too, cut off after a moment.
  const tallyB = tallyOf();
  const phaseBEnd = Date.now() + PHASE_B_BUDGET_MS;
  while (tallyB.sent < PHASE_B_CASES && Date.now() < phaseBEnd) {
    const c = nextCase(rng, LIMITS);
    if (EXCLUDED_PATHS.test(c.path)) continue;
    const a = await send(c);
    count(tallyB, c, a);
    if (isServerFault(a)) fail(`phase B: ${a.status} ${JSON.stringify(a.json).slice(0, 200)} for ${describeCase(c)}`);
  }

  // The member still serves.
  const probe = await send({ family: 'probe', method: 'POST', path: '/v3/kv/put', headers: {}, body: '{"key":"cHJvYmU=","value":"b2s="}', streaming: false });
  assert.equal(probe.status, 200, `the member stopped serving (seed ${SEED}): ${JSON.stringify(probe)}`);

  // History against state and against the requests.
  const finalRevision = probe.revision;
  const events = await historyUntil(history, finalRevision);
  await history.close();
  const replay = new Map<string, { value: string; mod: number }>();
  const eventRevisions = new Set<number>();
  for (const e of events) {
    const rev = Number(e.kv.mod_revision);
    eventRevisions.add(rev);
    if (e.type === 'DELETE') replay.delete(e.kv.key);
    else replay.set(e.kv.key, { value: e.kv.value ?? '', mod: rev });
  }
  for (const rev of eventRevisions) {
    if (rev <= phaseBStart && !acceptedRevisions.has(rev)) fail(`revision ${rev} in the history was made by no accepted request`);
  }
  const byRevision = new Map(events.filter((e) => e.type !== 'DELETE').map((e) => [`${e.kv.mod_revision}/${e.kv.key}`, e.kv.value ?? '']));
  for (const p of validPuts) {
    if (byRevision.get(`${p.revision}/${p.key}`) !== p.value) fail(`accepted put of ${p.key} at ${p.revision} is not in the history as sent`);
  }
  const all = await send({ family: 'probe', method: 'POST', path: '/v3/kv/range', headers: {}, body: '{"key":"AA==","range_end":"AA=="}', streaming: false });
  const state = new Map<string, { value: string; mod: number }>();
  for (const kv of all.json.kvs ?? []) state.set(kv.key, { value: kv.value ?? '', mod: Number(kv.mod_revision) });
  assert.deepEqual(state, replay, `state differs from the replayed history (seed ${SEED})`);

  // Fuzz watchers and streams are gone; memory is back.
  const leftWatchers = await until(() => server.watchHub.watcherCount === 0, 5_000);
  if (!leftWatchers) fail(`${server.watchHub.watcherCount} watchers still open after the run`);
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapStart;
  const report = {
    seed: SEED, unexpectedErrors: unexpectedErrors.length, phaseA: summary(tally), phaseB: summary(tallyB), revisions: finalRevision, keys: state.size,
    heapGrowthMiB: +(heapGrowth / 2 ** 20).toFixed(1),
  };
  t.diagnostic(JSON.stringify(report));
  console.log(`fuzz report ${JSON.stringify(report)}`);
  if (heapGrowth > HEAP_GROWTH_MAX_BYTES) fail(`heap grew by ${(heapGrowth / 2 ** 20).toFixed(1)} MiB`);
  // Usually all 3,000 fit the time budget; a loaded machine gets fewer, but never this few.
  assert.ok(tally.sent >= 500, `only ${tally.sent} requests in phase A (seed ${SEED})`);
  assert.deepEqual(failures, [], `fuzz failures (replay with FUZZ_SEED=${SEED})`);
  assert.deepEqual(unexpectedErrors, [], `the member logged unexpected errors (replay with FUZZ_SEED=${SEED})`);
});

/**
 * A 5xx that is a fault. etcd 3.4 itself answers 500 with gRPC code 2 (Unknown) for plain
 * errors: those of its lock and election services ("election: no leader", `"leader" field
 * must be provided`, the KV errors they pass on) and request-decoding errors on its streaming
 * routes ("unexpected EOF", "json: cannot unmarshal ..."); Cairn answers the same (checked
 * against etcd). What is a fault: any other 5xx status, and any failure the member logged as
 * unexpected (an exception that reached the error handlers) — see `unexpectedErrors`.
 */
function isServerFault(a: Answer): boolean {
  if (a.status < 500) return false;
  return !(a.status === 500 && a.json?.code === 2);
}

function summary(t: Tally): Record<string, unknown> {
  return { sent: t.sent, accepted: t.accepted, refused: t.refused, closedOrCut: t.closedOrCut, serverErrors: t.serverErrors, statuses: t.statuses, byFamily: t.byFamily };
}

async function until(cond: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * A watch on every key from revision 1, on its own connection, kept open through the run. It
 * reads with undici: test/watch/stream-client.ts (node:http's client) stopped receiving mid-run
 * here, although the member had handed the bytes to the socket (its buffers were empty and
 * its watcher synced); not understood yet, and not seen with undici.
 */
class HistoryWatch {
  readonly messages: any[] = [];
  rawBody = '';
  private buf = '';
  private constructor(private readonly body: PassThrough, private readonly agentOwn: Agent) {}

  static async open(base: string): Promise<HistoryWatch> {
    const body = new PassThrough();
    const own = new Agent({ connections: 1 });
    const h = new HistoryWatch(body, own);
    body.write(JSON.stringify({ create_request: { key: 'AA==', range_end: 'AA==', start_revision: '1' } }));
    const res = await request(`${base}/v3/watch`, { method: 'POST', body, dispatcher: own });
    res.body.setEncoding('utf8');
    res.body.on('data', (c: string) => h.onData(c));
    res.body.on('error', () => {});
    return h;
  }

  private onData(c: string): void {
    this.rawBody += c;
    this.buf += c;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() !== '') this.messages.push(JSON.parse(line));
    }
  }

  async close(): Promise<void> {
    this.body.end();
    await this.agentOwn.destroy();
  }
}

/** The history watcher's events, once it has seen `revision`. */
async function historyUntil(history: HistoryWatch, revision: number, deadlineMs = 15_000): Promise<any[]> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const events = history.messages.flatMap((m) => m.result?.events ?? []);
    const seen = Math.max(0, ...events.map((e: any) => Number(e.kv.mod_revision)));
    if (seen >= revision) return events;
    if (history.messages.some((m) => m.result?.canceled || m.error)) throw new Error(`history watch ended: ${JSON.stringify(history.messages.at(-1))}`);
    if (Date.now() > end) throw new Error(`history watch reached ${seen}, wanted ${revision}; last ${JSON.stringify(history.messages.slice(-2)).slice(0, 1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
