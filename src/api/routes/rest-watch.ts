/**
 * Watches on the REST face as Server-Sent Events, for browsers (`EventSource`) and curl:
 *
 *   GET /watch/{key}[?prefix|from_key|range_end=E][&start_revision=N][&prev_kv][&no_put][&no_delete]
 *                   [&progress_notify][&encoding=utf8|base64]
 *
 * One SSE message per event: `event: put|delete`, `data:` the key-value as JSON, `id:` its
 * revision. A reconnecting EventSource sends `Last-Event-ID` and resumes right after it: nothing
 * missed, nothing repeated. When one revision holds several events (a txn), all but its last
 * event carry `id: R.k` (k = 0, 1, ... among this watch's events of revision R), so a resume in
 * the middle of a txn is exact too. Other messages: `created` (first, no id), `progress` (id =
 * the revision everything up to which was sent), `compacted` (start revision below the
 * compaction point; the stream ends), `canceled` (slow consumer or server stopping; the stream
 * ends). Idle streams get a `: heartbeat` comment so proxies keep them open.
 *
 * SSE frames are written directly on the raw response (no plugin), each delivery in one write,
 * so a slow client's unread bytes are counted and bounded: past `maxBufferedBytes` the watch
 * is canceled and the client resumes from history by reconnecting.
 */
import { callerOf } from '../caller.js';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CairnError } from '../../errors/errors.js';
import type { Event, KeyValue } from '../../mvcc/types.js';
import type { CairnServer } from '../../server/cairn-server.js';
import type { WatchSink, Watcher } from '../../watch/hub.js';
import { sendRestError } from '../errors.js';
import { kvJson, percentDecodeBytes, prefixEnd } from './rest-kv.js';

export interface SseLimits {
  /** Unread bytes on one SSE stream before its watch is canceled. */
  maxBufferedBytes: number;
  /** A comment is sent when nothing else was for this long. */
  heartbeatMs: number;
  /** Reconnect delay suggested to EventSource clients (`retry:`). */
  retryMs: number;
}

export const DEFAULT_SSE_LIMITS: SseLimits = { maxBufferedBytes: 1 << 20, heartbeatMs: 15_000, retryMs: 1_000 };

type Query = Record<string, string | undefined>;
type Encoding = 'utf8' | 'base64';

const FROM_KEY = new Uint8Array([0]);
const EMPTY = new Uint8Array(0);

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
  'access-control-allow-origin': '*',
} as const;

function flag(q: Query, name: string): boolean {
  const v = q[name];
  if (v === undefined) return false;
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new CairnError('BadRequest', `query parameter ${name} must be true or false, got "${v}"`);
}

function revisionParam(q: Query): bigint {
  const v = q.start_revision ?? q.revision;
  if (v === undefined || v === '') return 0n;
  if (!/^[0-9]{1,19}$/.test(v)) throw new CairnError('BadRequest', `query parameter start_revision must be a revision, got "${v}"`);
  return BigInt(v);
}

/** Where to resume: `R` (all of R seen) or `R.k` (events 0..k of R seen). */
export function parseLastEventId(v: string): { revision: bigint; skip: number } {
  const m = /^([0-9]{1,19})(?:\.([0-9]{1,9}))?$/.exec(v.trim());
  if (!m) throw new CairnError('BadRequest', `Last-Event-ID must be a revision as sent in id:, got "${v}"`);
  const revision = BigInt(m[1]);
  return m[2] === undefined ? { revision: revision + 1n, skip: 0 } : { revision, skip: Number(m[2]) + 1 };
}

function spanOfRequest(req: FastifyRequest, q: Query): { key: Uint8Array; rangeEnd: Uint8Array } {
  // app.ts keeps the original URL when the path holds escapes the router would refuse (%ff).
  const url = (req.raw as { cairnRawUrl?: string }).cairnRawUrl ?? req.url;
  const path = url.split('?', 1)[0];
  const key = percentDecodeBytes(path.startsWith('/watch/') ? path.slice(7) : '');
  if (flag(q, 'prefix')) return key.length === 0 ? { key: FROM_KEY, rangeEnd: FROM_KEY } : { key, rangeEnd: prefixEnd(key) };
  if (flag(q, 'from_key')) return { key: key.length === 0 ? FROM_KEY : key, rangeEnd: FROM_KEY };
  if (q.range_end !== undefined) return { key, rangeEnd: percentDecodeBytes(q.range_end) };
  if (key.length === 0) throw new CairnError('EmptyKey');
  return { key, rangeEnd: EMPTY };
}

/** An event's `data:` text per (encoding, prev_kv): encoded once, shared by every watcher of
 * its key (events are shared objects for one publication, so the cache dies with them). */
const dataCache = new WeakMap<Event, Map<string, string>>();

function eventData(e: Event, prevKv: boolean, enc: Encoding): string {
  const variant = prevKv ? `${enc}+prev` : enc;
  let byVariant = dataCache.get(e);
  if (!byVariant) dataCache.set(e, (byVariant = new Map()));
  let text = byVariant.get(variant);
  if (text === undefined) byVariant.set(variant, (text = JSON.stringify(eventJson(e, prevKv, enc))));
  return text;
}

function eventJson(e: Event, prevKv: boolean, enc: Encoding): Record<string, unknown> {
  const kv: Record<string, unknown> = e.type === 'PUT'
    ? { type: 'put', ...kvJson(e.kv, enc) }
    : { type: 'delete', key: Buffer.from(e.kv.key).toString(enc), mod_revision: e.kv.modRevision.toString() };
  if (prevKv && e.prevKv) kv.prev_kv = kvJson(e.prevKv as KeyValue, enc);
  return kv;
}

/** One timer for every SSE stream of an app (not one per stream: 10,000 idle watchers would
 * mean 10,000 timers): each sweep writes a comment to the streams idle for a heartbeat. */
export class HeartbeatSweeper {
  private readonly sessions = new Set<SseSession>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly heartbeatMs: number) {}

  add(s: SseSession): void {
    this.sessions.add(s);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), Math.max(25, Math.floor(this.heartbeatMs / 2)));
      this.timer.unref();
    }
  }

  delete(s: SseSession): void {
    this.sessions.delete(s);
    if (this.sessions.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sweep(): void {
    const idleSince = Date.now() - this.heartbeatMs;
    for (const s of this.sessions) s.beatIfIdleSince(idleSince);
  }
}

class SseSession implements WatchSink {
  private lastWriteMs = Date.now();
  private ended = false;
  private drainWaiting = false;
  watcher: Watcher | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly limits: SseLimits,
    private readonly enc: Encoding,
    /** Events of `skipRevision` already seen by the client before it reconnected. */
    private skipRevision: bigint,
    private skipCount: number,
    private readonly heartbeats: HeartbeatSweeper,
  ) {
    heartbeats.add(this);
    res.on('close', () => this.close());
  }

  start(revision: bigint, startRevision: bigint): void {
    this.res.writeHead(200, SSE_HEADERS);
    this.write(`retry: ${this.limits.retryMs}\nevent: created\ndata: ${JSON.stringify({ revision: revision.toString(), start_revision: startRevision.toString() })}\n\n`);
  }

  events(w: Watcher, events: Event[], _revision: bigint): void {
    let out = '';
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const rev = e.kv.modRevision;
      let k = 0;
      while (i - k - 1 >= 0 && events[i - k - 1].kv.modRevision === rev) k++;
      if (rev === this.skipRevision && k < this.skipCount) continue;
      const last = i + 1 === events.length || events[i + 1].kv.modRevision !== rev;
      const id = last ? rev.toString() : `${rev}.${k}`;
      out += `id: ${id}\nevent: ${e.type === 'PUT' ? 'put' : 'delete'}\ndata: ${eventData(e, w.prevKv, this.enc)}\n\n`;
    }
    if (out === '') return;
    this.write(out);
    if (this.res.writableLength > this.limits.maxBufferedBytes) {
      this.finish('canceled', { reason: `cairn: slow consumer, more than ${this.limits.maxBufferedBytes} bytes unread; reconnect to resume` });
    }
  }

  compacted(_w: Watcher, compactRevision: bigint): void {
    this.finish('compacted', { compact_revision: compactRevision.toString() });
  }

  progress(_w: Watcher, revision: bigint): void {
    this.write(`id: ${revision}\nevent: progress\ndata: ${JSON.stringify({ revision: revision.toString() })}\n\n`);
  }

  canceled(_w: Watcher, reason: string): void {
    this.finish('canceled', { reason });
  }

  backedUp(): boolean {
    if (this.res.writableLength <= this.limits.maxBufferedBytes / 2) return false;
    if (!this.drainWaiting) {
      this.drainWaiting = true;
      this.res.once('drain', () => {
        this.drainWaiting = false;
        this.watcher?.resume();
      });
    }
    return true;
  }

  /** Ends the stream (server stopping). */
  end(): void {
    this.finish('canceled', { reason: 'server stopping' });
  }

  private finish(event: string, data: Record<string, string>): void {
    if (this.ended) return;
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    this.res.end();
    this.close();
  }

  private write(text: string): void {
    if (this.ended) return;
    this.lastWriteMs = Date.now();
    this.res.write(text);
  }

  beatIfIdleSince(ms: number): void {
    if (this.lastWriteMs <= ms) this.write(': heartbeat\n\n');
  }

  /** Never started (the watch was refused): release the timer only. */
  dispose(): void {
    this.ended = true;
    this.heartbeats.delete(this);
  }

  private close(): void {
    if (this.ended) return;
    this.ended = true;
    this.heartbeats.delete(this);
    this.watcher?.cancel();
  }
}

export interface RestWatchOptions {
  server: CairnServer;
  limits: SseLimits;
  /** Open streams, ended when the app closes. */
  streams: Set<{ end(): void }>;
}

const QUERY_DOC = {
  type: 'object',
  properties: {
    prefix: { type: 'string', description: 'Every key that starts with {key} (flag).' },
    from_key: { type: 'string', description: 'Every key >= {key} (flag).' },
    range_end: { type: 'string', description: 'End of the range (exclusive), percent-encoded.' },
    start_revision: { type: 'string', description: 'First revision to send (history first); absent: from now. Last-Event-ID wins over it.' },
    prev_kv: { type: 'string', description: 'Include the previous key-value in each event (flag).' },
    no_put: { type: 'string', description: 'Leave out PUT events (flag).' },
    no_delete: { type: 'string', description: 'Leave out DELETE events (flag).' },
    progress_notify: { type: 'string', description: 'Send `progress` events with the revision when idle (flag).' },
    encoding: { type: 'string', enum: ['utf8', 'base64'], description: 'How keys and values appear in data.' },
    last_event_id: { type: 'string', description: 'As the Last-Event-ID header, for clients that cannot set it.' },
  },
} as const;

export async function restWatchRoutes(app: FastifyInstance, opts: RestWatchOptions): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendRestError(req, reply, err));
  const schema = {
    tags: ['watch (REST, Server-Sent Events)'],
    summary: 'Watch a key, prefix or range as Server-Sent Events',
    description: 'Events: created, put, delete (id = revision), progress, compacted, canceled. Resumes after Last-Event-ID.',
    querystring: QUERY_DOC,
  };
  const heartbeats = new HeartbeatSweeper(opts.limits.heartbeatMs);
  const handler = (req: FastifyRequest, reply: FastifyReply) => sseWatch(req, reply, opts, heartbeats);
  app.get('/watch/*', { schema }, handler);
  app.get('/watch', { schema }, handler);
}

function sseWatch(req: FastifyRequest, reply: FastifyReply, opts: RestWatchOptions, heartbeats: HeartbeatSweeper): void {
  const q = req.query as Query;
  const span = spanOfRequest(req, q);
  const enc = (q.encoding ?? 'utf8') as Encoding;
  if (enc !== 'utf8' && enc !== 'base64') throw new CairnError('BadRequest', 'query parameter encoding must be utf8 or base64');
  const lastId = (req.headers['last-event-id'] as string | undefined) ?? q.last_event_id;
  const resume = lastId !== undefined && lastId !== '' ? parseLastEventId(lastId) : undefined;
  const startRevision = resume ? resume.revision : revisionParam(q);
  const spec = {
    ...span, startRevision, prevKv: flag(q, 'prev_kv'), noPut: flag(q, 'no_put'), noDelete: flag(q, 'no_delete'),
    progressNotify: flag(q, 'progress_notify'),
  };
  opts.server.auth.checkRead(callerOf(opts.server, req), span.key, span.rangeEnd);
  const hub = opts.server.watchHub;
  const session = new SseSession(reply.raw, opts.limits, enc, resume?.revision ?? -1n, resume?.skip ?? 0, heartbeats);
  try {
    session.watcher = hub.watch(spec, session);
  } catch (e) {
    session.dispose();
    throw e;
  }
  reply.hijack();
  opts.streams.add(session);
  reply.raw.on('close', () => opts.streams.delete(session));
  session.start(hub.revision, startRevision === 0n ? hub.revision + 1n : startRevision);
}
