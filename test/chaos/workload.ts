/**
 * The chaos campaign's clients and watchers over etcd's v3 JSON gateway. Clients: each a loop,
 * one operation at a time against a random member — read, put, CAS (a txn comparing the value),
 * delete, and lease-attached puts (grant, then two puts on lease keys with the same lease) —
 * recorded in the history with invoke and completion. Watchers: one stream per member on the
 * whole campaign prefix from revision 1, resumed after the last delivered revision whenever the
 * stream breaks (a killed member, a reset).
 *
 * Owns: its undici agents and the streams it opens. Must never: retry an operation (a retry
 * would hide what the first attempt did), or wait on a request longer than `opTimeoutMs`.
 */
import { Agent, request } from 'undici';
import { Rng } from '../diff/rng.js';
import { nowNs, type OpRecord, type Recorder, type WatchEventRecord } from './history.js';

export const chaosPrefix = 'chaos/';
const chaosPrefixEnd = 'chaos0';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

export interface WorkloadOptions {
  clients: number;
  registerKeys: number;
  leaseKeys: number;
  leaseTtlSec: number;
  opTimeoutMs: number;
  /**
   * Reads with `serializable: true` (local, possibly stale). Off in every real campaign: it
   * exists to show that the checker catches stale reads end to end (`--serializable-reads`).
   */
  serializableReads: boolean;
}

/**
 * Lease keys are many and lease puts rare, so most leases expire with their keys still attached
 * (a lease put on a key replaces the earlier lease's value, and that lease then deletes nothing).
 */
export const defaultWorkload: WorkloadOptions = { clients: 6, registerKeys: 8, leaseKeys: 48, leaseTtlSec: 3, opTimeoutMs: 2_000, serializableReads: false };

export function registerKeyNames(o: WorkloadOptions): string[] {
  return Array.from({ length: o.registerKeys }, (_, i) => `${chaosPrefix}k/${i}`);
}

export const leaseKeyPrefix = `${chaosPrefix}l/`;
export const leaseKeyPrefixEnd = `${chaosPrefix}l0`;

export function leaseKeyNames(o: WorkloadOptions): string[] {
  return Array.from({ length: o.leaseKeys }, (_, i) => `${leaseKeyPrefix}${i}`);
}

/** Per-origin connection bound for the clients (each has at most one request in flight). */
const clientConnectionsPerOrigin = 16;
const watchReconnectDelayMs = 100;
/** A watch stream's connection: a member that does not answer its headers is retried. */
const watchHeadersTimeoutMs = 5_000;
const watchConnectTimeoutMs = 2_000;
/** A watch line longer than this is a broken stream, not an event batch. */
const maxWatchLineBytes = 4 << 20;

type Outcome = { status: 'ok'; json: any } | { status: 'fail' | 'info'; error: string };

export class GatewayClient {
  private readonly agent: Agent;

  constructor(private readonly opTimeoutMs: number) {
    this.agent = new Agent({
      connections: clientConnectionsPerOrigin, headersTimeout: opTimeoutMs, bodyTimeout: opTimeoutMs, connectTimeout: opTimeoutMs,
    });
  }

  /**
   * One call. An error answer is `fail` only when it says the request was refused before it
   * could take effect (a lease that does not exist) or the connection was refused; every other
   * error, a timeout or a reset
   * is `info`: the write may yet be applied.
   */
  async call(url: string, path: string, body: unknown): Promise<Outcome> {
    try {
      const res = await request(`${url}${path}`, {
        method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' },
        dispatcher: this.agent, signal: AbortSignal.timeout(this.opTimeoutMs),
      });
      const text = await res.body.text();
      if (res.statusCode === 200) return { status: 'ok', json: JSON.parse(text) };
      const definite = /requested lease not found/.test(text);
      return { status: definite ? 'fail' : 'info', error: `${res.statusCode} ${text.slice(0, 200)}` };
    } catch (e) {
      // A refused connection never reached the member: the request cannot have taken effect.
      const code = (e as { code?: string }).code;
      return { status: code === 'ECONNREFUSED' ? 'fail' : 'info', error: `${(e as Error).name}${code ? ` ${code}` : ''}: ${(e as Error).message}` };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

export interface ClusterView {
  /** Client URLs by member name (current: a restarted member keeps its ports). */
  members(): Array<{ name: string; url: string }>;
}

/** One client's loop until `stopped()`. */
export async function runClient(
  index: number, seed: number, view: ClusterView, rec: Recorder, gwc: GatewayClient, o: WorkloadOptions, stopped: () => boolean,
): Promise<void> {
  const rng = new Rng(seed * 7919 + index);
  const keys = registerKeyNames(o);
  const leaseKeys = leaseKeyNames(o);
  const lastSeen = new Map<string, string>();
  let n = 0;
  const value = (): string => `c${index}-${n++}`;
  while (!stopped() && !rec.full()) {
    const m = rng.pick(view.members());
    const kind = rng.weighted([[37, 'read'], [27, 'write'], [22, 'cas'], [5, 'delete'], [4, 'lease'], [5, 'lease-read']] as const);
    if (kind === 'lease') {
      await leasePuts(m, rng, rec, gwc, o, index, leaseKeys, value);
      continue;
    }
    const key = kind === 'lease-read' ? rng.pick(leaseKeys) : rng.pick(keys);
    if (kind === 'read' || kind === 'lease-read') {
      const op = rec.invoke({ client: index, member: m.name, key, kind: 'read' });
      const r = await gwc.call(m.url, '/v3/kv/range', { key: b64(key), ...(o.serializableReads ? { serializable: true } : {}) });
      if (r.status !== 'ok') { rec.complete(op, 'fail', { error: r.error }); continue; }
      const kv = (r.json.kvs ?? [])[0];
      const seen = kv === undefined ? null : unb64(kv.value);
      if (seen !== null) lastSeen.set(key, seen);
      rec.complete(op, 'ok', { read: seen });
    } else if (kind === 'write') {
      const v = value();
      const op = rec.invoke({ client: index, member: m.name, key, kind: 'write', value: v });
      const r = await gwc.call(m.url, '/v3/kv/put', { key: b64(key), value: b64(v) });
      finish(rec, op, r, () => ({}));
      if (r.status === 'ok') lastSeen.set(key, v);
    } else if (kind === 'cas') {
      const v = value();
      const expect = lastSeen.get(key) ?? 'none';
      const op = rec.invoke({ client: index, member: m.name, key, kind: 'cas', value: v, expect });
      const r = await gwc.call(m.url, '/v3/kv/txn', {
        compare: [{ key: b64(key), result: 'EQUAL', target: 'VALUE', value: b64(expect) }],
        success: [{ request_put: { key: b64(key), value: b64(v) } }],
      });
      finish(rec, op, r, (j) => ({ succeeded: j.succeeded === true }));
      if (r.status === 'ok' && r.json.succeeded === true) lastSeen.set(key, v);
    } else {
      const op = rec.invoke({ client: index, member: m.name, key, kind: 'delete' });
      const r = await gwc.call(m.url, '/v3/kv/deleterange', { key: b64(key) });
      finish(rec, op, r, (j) => ({ deleted: Number(j.deleted ?? 0) }));
    }
  }
}

function finish(rec: Recorder, op: OpRecord, r: Outcome, result: (json: any) => Partial<OpRecord>): void {
  if (r.status === 'ok') rec.complete(op, 'ok', result(r.json));
  else rec.complete(op, r.status, { error: r.error });
}

/** Grant a lease (never kept alive) and attach two lease keys to it. */
async function leasePuts(
  m: { name: string; url: string }, rng: Rng, rec: Recorder, gwc: GatewayClient, o: WorkloadOptions,
  index: number, leaseKeys: readonly string[], value: () => string,
): Promise<void> {
  const g = await gwc.call(m.url, '/v3/lease/grant', { TTL: String(o.leaseTtlSec) });
  if (g.status !== 'ok' || typeof g.json.ID !== 'string') return; // no lease, no key touched
  const lease = g.json.ID as string;
  const first = rng.int(0, leaseKeys.length - 1);
  const second = (first + rng.int(1, leaseKeys.length - 1)) % leaseKeys.length;
  for (const key of [leaseKeys[first], leaseKeys[second]]) {
    const v = value();
    const op = rec.invoke({ client: index, member: m.name, key, kind: 'write', value: v, lease });
    const r = await gwc.call(m.url, '/v3/kv/put', { key: b64(key), value: b64(v), lease });
    finish(rec, op, r, () => ({}));
  }
}

/** One member's watch, resumed across breaks; every delivered event lands in `events`. */
export class MemberWatcher {
  readonly events: WatchEventRecord[] = [];
  private lastRev = 1;
  private stopped = false;
  private abort = new AbortController();
  private readonly agent = new Agent({
    connections: 2, headersTimeout: watchHeadersTimeoutMs, bodyTimeout: 0, connectTimeout: watchConnectTimeoutMs,
  });
  private loop: Promise<void> | null = null;
  reconnects = 0;

  constructor(readonly name: string, private readonly url: () => string, private readonly maxEvents: number) {}

  start(): void {
    this.loop = this.run();
  }

  revision(): number {
    return this.lastRev;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.stream();
      } catch {
        /* a broken stream: resume below */
      }
      if (this.stopped) break;
      this.reconnects++;
      await new Promise((r) => setTimeout(r, watchReconnectDelayMs));
    }
  }

  private async stream(): Promise<void> {
    this.abort = new AbortController();
    const res = await request(`${this.url()}/v3/watch`, {
      method: 'POST', dispatcher: this.agent, signal: this.abort.signal,
      body: JSON.stringify({ create_request: { key: b64(chaosPrefix), range_end: b64(chaosPrefixEnd), start_revision: String(this.lastRev + 1) } }),
    });
    if (res.statusCode !== 200) {
      await res.body.text();
      return;
    }
    let pending = '';
    for await (const chunk of res.body) {
      pending += (chunk as Buffer).toString('utf8');
      if (pending.length > maxWatchLineBytes) throw new Error('watch line too long');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line !== '' && this.onLine(line) === 'end') {
          res.body.destroy();
          return;
        }
      }
    }
  }

  private onLine(line: string): 'more' | 'end' {
    const msg = JSON.parse(line) as { result?: any; error?: unknown };
    const r = msg.result;
    if (r === undefined) return 'end';
    if (r.canceled === true || r.compact_revision !== undefined && r.compact_revision !== '0') return 'end';
    const at = nowNs().toString();
    for (const ev of (r.events ?? []) as any[]) {
      const rev = Number(ev.kv.mod_revision);
      if (this.events.length >= this.maxEvents) throw new Error('watch event bound reached');
      const rec: WatchEventRecord = { rev, key: unb64(ev.kv.key), type: ev.type === 'DELETE' ? 'DELETE' : 'PUT', atNs: at };
      if (rec.type === 'PUT') {
        rec.value = unb64(ev.kv.value);
        if (ev.kv.lease !== undefined && ev.kv.lease !== '0') rec.lease = String(ev.kv.lease);
      }
      this.events.push(rec);
      if (rev > this.lastRev) this.lastRev = rev;
    }
    return 'more';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    await this.agent.close();
  }
}
