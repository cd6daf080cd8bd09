/**
 * The closed-loop load generator: `connections` keep-alive HTTP connections, each with one
 * request outstanding at a time, for a warmup then a measured duration; latencies go into a
 * bounded histogram. Runs in its own process (see loadgen-main.ts) so that it never shares an
 * event loop with the server it measures.
 *
 * Owns its sockets. Must never pipeline or retry (a retry would hide an error and skew
 * latency), and never run past its deadline by more than one request per connection.
 */
import { Client } from 'undici';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { requestMaker, type PreparedRequest, type WorkloadName } from './workloads.js';

export interface LoadSpec {
  url: string;
  workload: WorkloadName;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** For 'fill': stop after this many requests (each key once) instead of at a deadline. */
  requests?: number;
}

export interface LoadResult extends LatencySummary {
  workload: WorkloadName;
  connections: number;
  durationMs: number;
  requests: number;
  reqPerSec: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** HTTP answers other than 200. */
  non200: number;
  /** CAS only: share of txns whose compare held. */
  casSuccessRatio?: number;
  /** CPU the generator itself used, in % of one core: near 100 means it may be the bottleneck. */
  generatorCpuPct: number;
  firstError?: string;
}

const requestTimeoutMs = 10_000;
const maxConnections = 1_024;
/** A connection that fails this many times in a row gives up: the server is gone. */
const maxConsecutiveErrors = 20;

interface Phase {
  histogram: LatencyHistogram;
  requests: number;
  errors: number;
  non200: number;
  casTries: number;
  casWins: number;
  cpuAtStart: NodeJS.CpuUsage;
  firstError?: string;
}

function newPhase(): Phase {
  return { histogram: new LatencyHistogram(), requests: 0, errors: 0, non200: 0, casTries: 0, casWins: 0, cpuAtStart: process.cpuUsage() };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.connections < 1 || spec.connections > maxConnections) throw new Error(`connections must be 1..${maxConnections}`);
  const make = requestMaker(spec.workload);
  const clients = Array.from({ length: spec.connections }, () => new Client(spec.url, {
    pipelining: 1, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs, keepAliveTimeout: 60_000,
  }));
  let phase = newPhase();
  let issued = 0;
  const limit = spec.requests ?? Infinity;
  const start = performance.now();
  const warmupEnd = start + spec.warmupMs;
  const end = warmupEnd + spec.durationMs;
  let measuredStart = spec.warmupMs === 0 ? start : 0;
  const loop = async (client: Client): Promise<void> => {
    let consecutiveErrors = 0;
    while (issued < limit && consecutiveErrors < maxConsecutiveErrors) {
      const now = performance.now();
      if (spec.requests === undefined && now >= end) return;
      if (measuredStart === 0 && now >= warmupEnd) { phase = newPhase(); measuredStart = now; }
      const req = make(Math.random, issued++);
      consecutiveErrors = (await sendOne(client, req, phase)) ? 0 : consecutiveErrors + 1;
    }
  };
  try {
    await Promise.all(clients.map(loop));
  } finally {
    await Promise.all(clients.map((c) => c.destroy()));
  }
  const elapsedMs = performance.now() - (measuredStart === 0 ? start : measuredStart);
  return toResult(spec, phase, elapsedMs);
}

/** Send one request and record it; false on a socket error or timeout. */
async function sendOne(client: Client, req: PreparedRequest, phase: Phase): Promise<boolean> {
  const t0 = process.hrtime.bigint();
  try {
    const res = await client.request({ path: req.path, method: 'POST', body: req.body, headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    phase.histogram.recordUs(Number(process.hrtime.bigint() - t0) / 1000);
    phase.requests++;
    if (res.statusCode !== 200) {
      phase.non200++;
      phase.firstError ??= `HTTP ${res.statusCode} ${text.slice(0, 200)}`;
    } else if (req.onAnswer !== undefined) {
      phase.casTries++;
      if (req.onAnswer(JSON.parse(text))) phase.casWins++;
    }
    return true;
  } catch (e) {
    phase.errors++;
    phase.firstError ??= (e as Error).message;
    return false;
  }
}

function toResult(spec: LoadSpec, phase: Phase, elapsedMs: number): LoadResult {
  const cpu = process.cpuUsage(phase.cpuAtStart);
  return {
    workload: spec.workload,
    connections: spec.connections,
    durationMs: Math.round(elapsedMs),
    requests: phase.requests,
    reqPerSec: Math.round((phase.requests / elapsedMs) * 1000),
    errors: phase.errors,
    non200: phase.non200,
    generatorCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100),
    ...(spec.workload === 'txn-cas' ? { casSuccessRatio: phase.casTries === 0 ? 0 : Math.round((phase.casWins / phase.casTries) * 1000) / 1000 } : {}),
    ...(phase.firstError !== undefined ? { firstError: phase.firstError } : {}),
    ...phase.histogram.summary(),
  };
}
