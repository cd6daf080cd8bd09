/**
 * etcd's watch stream on the JSON gateway: `POST /v3/watch`. The body is a stream of
 * WatchRequest objects (create, cancel, progress), read as they arrive; the answer is etcd's
 * chunked stream of `{"result": WatchResponse}` lines. One stream holds many watchers, each with
 * an ID unique on the stream (picked, or given by the client). The stream stays open after the
 * request body ends, until the client goes away or the server stops.
 *
 * This session is the hub's sink for its watchers. It never buffers without bound: past
 * `maxBufferedBytes` unread by the client, every watcher on the stream is canceled with a reason
 * and the stream ends; while the client is behind, history catch-up waits for it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CairnError, grpcCodeName } from '../../errors/errors.js';
import type { RequestCaller } from '../../server/requests.js';
import { callerOf } from '../caller.js';
import type { Event } from '../../mvcc/types.js';
import type { CairnServer } from '../../server/cairn-server.js';
import type { WatchSink, Watcher } from '../../watch/hub.js';
import { GatewayStream, JsonValueReader } from '../gateway/stream.js';
import {
  canceledOut, compactedOut, createRefusedOut, createdOut, eventsOut, progressOut, watchRequestIn, type WatchCreate,
} from '../gateway/watch-codec.js';

export interface WatchStreamLimits {
  /** Watchers on one stream; a create past it is refused. */
  maxWatchersPerStream: number;
  /** Response bytes the client has not read; past it the stream's watchers are canceled. */
  maxBufferedBytes: number;
  /** etcd's --max-request-bytes: the fragment size, and (base64-inflated) the request bound. */
  maxRequestBytes: number;
}

export const DEFAULT_WATCH_STREAM_LIMITS: WatchStreamLimits = {
  maxWatchersPerStream: 10_000,
  maxBufferedBytes: 8 << 20,
  maxRequestBytes: 1.5 * 1024 * 1024,
};

const DUPLICATE_WATCH_ID = 'mvcc: duplicate watch ID provided on the WatchStream';

interface Entry {
  id: bigint;
  fragment: boolean;
}

class GatewayWatchSession implements WatchSink {
  private readonly byId = new Map<bigint, Watcher>();
  private readonly entries = new Map<Watcher, Entry>();
  private nextId = 0n;
  private drainWaiting = false;

  constructor(
    private readonly server: CairnServer,
    private readonly stream: GatewayStream,
    private readonly limits: WatchStreamLimits,
    private readonly caller: RequestCaller,
  ) {
    stream.onClose(() => this.cancelAll());
  }

  private header(revision = this.server.watchHub.revision) {
    return this.server.header(revision);
  }

  handle(body: Record<string, unknown>): void {
    const r = watchRequestIn(body);
    if ('create' in r) this.create(r.create);
    else if ('cancel' in r) this.cancel(r.cancel.watchId);
    else if ('progress' in r) this.stream.send(progressOut(this.header(), -1n));
  }

  private create(c: WatchCreate): void {
    if (c.watchId !== 0n && this.byId.has(c.watchId)) {
      this.stream.send(createRefusedOut(this.header(), DUPLICATE_WATCH_ID));
      return;
    }
    if (this.byId.size >= this.limits.maxWatchersPerStream) {
      this.stream.send(createRefusedOut(this.header(), `cairn: more than ${this.limits.maxWatchersPerStream} watchers on one stream`));
      return;
    }
    try {
      this.server.auth.checkRead(this.caller, c.key, c.rangeEnd);
    } catch (e) {
      // etcd's watch server words it as a Go status error inside the created-and-canceled answer.
      const reason = e instanceof CairnError ? `rpc error: code = ${grpcCodeName(e.grpcCode)} desc = ${e.message}` : (e as Error).message;
      this.stream.send(createRefusedOut(this.header(), reason));
      return;
    }
    const id = c.watchId !== 0n ? c.watchId : this.autoId();
    let w: Watcher;
    try {
      w = this.server.watchHub.watch({
        key: c.key, rangeEnd: c.rangeEnd, startRevision: c.startRevision, prevKv: c.prevKv,
        noPut: c.noPut, noDelete: c.noDelete, progressNotify: c.progressNotify,
      }, this);
    } catch (e) {
      this.stream.send(createRefusedOut(this.header(), (e as Error).message));
      return;
    }
    this.byId.set(id, w);
    this.entries.set(w, { id, fragment: c.fragment });
    // The hub never sends from inside watch(): "created" goes out first.
    this.stream.send(createdOut(this.header(), id));
  }

  private autoId(): bigint {
    while (this.byId.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  private cancel(id: bigint): void {
    const w = this.byId.get(id);
    if (!w) return;
    this.forget(w);
    w.cancel();
    this.stream.send(canceledOut(this.header(), id));
  }

  private forget(w: Watcher): Entry | undefined {
    const e = this.entries.get(w);
    if (!e) return undefined;
    this.entries.delete(w);
    this.byId.delete(e.id);
    return e;
  }

  cancelAll(): void {
    for (const w of [...this.entries.keys()]) {
      this.forget(w);
      w.cancel();
    }
  }

  // ---- WatchSink ----

  events(w: Watcher, events: Event[], revision: bigint): void {
    const e = this.entries.get(w);
    if (!e) return;
    const opts = { prevKv: w.prevKv, fragment: e.fragment, maxResponseBytes: this.limits.maxRequestBytes };
    for (const msg of eventsOut(this.header(revision), e.id, events, opts)) this.stream.send(msg);
    if (this.stream.overBudget) this.slowConsumer();
  }

  compacted(w: Watcher, compactRevision: bigint): void {
    const e = this.forget(w);
    if (e) this.stream.send(compactedOut(this.header(), e.id, compactRevision));
  }

  progress(w: Watcher, revision: bigint): void {
    const e = this.entries.get(w);
    if (e) this.stream.send(progressOut(this.header(revision), e.id));
  }

  canceled(w: Watcher, reason: string): void {
    const e = this.forget(w);
    if (e) this.stream.send(canceledOut(this.header(), e.id, reason));
    if (this.entries.size === 0) this.stream.end();
  }

  backedUp(): boolean {
    if (!this.stream.backedUp) return false;
    if (!this.drainWaiting) {
      this.drainWaiting = true;
      this.stream.onDrain(() => {
        this.drainWaiting = false;
        for (const w of this.entries.keys()) w.resume();
      });
    }
    return true;
  }

  /** The client reads slower than the watched keys change: cancel with a reason, then end. */
  private slowConsumer(): void {
    const reason = `cairn: slow consumer, more than ${this.limits.maxBufferedBytes} bytes unread`;
    for (const [w, e] of [...this.entries]) {
      this.forget(w);
      w.cancel();
      this.stream.send(canceledOut(this.header(), e.id, reason));
    }
    this.stream.end();
  }
}

export interface WatchRouteOptions {
  server: CairnServer;
  limits: WatchStreamLimits;
  streams: Set<{ end(): void }>;
}

export async function watchGatewayRoutes(app: FastifyInstance, opts: WatchRouteOptions): Promise<void> {
  await app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    child.post('/watch', {
      schema: {
        tags: ['watch (etcd gateway)'],
        summary: 'Watch keys (stream)',
        description: 'Body: WatchRequest objects back to back (create_request, cancel_request, progress_request). ' +
          'Answer: one `{"result": WatchResponse}` line per message, in one HTTP chunk each; the stream stays open after the body ends.',
      },
    }, (req, reply) => watchStream(req, reply, opts));
  });
}

function watchStream(req: FastifyRequest, reply: FastifyReply, opts: WatchRouteOptions): void {
  reply.hijack();
  const stream = new GatewayStream(req.raw, reply.raw, opts.limits.maxBufferedBytes);
  opts.streams.add(stream);
  stream.onClose(() => opts.streams.delete(stream));
  const session = new GatewayWatchSession(opts.server, stream, opts.limits, callerOf(opts.server, req));
  const maxValueBytes = Math.ceil((opts.limits.maxRequestBytes * 4) / 3) + 64 * 1024;
  const fail = (e: unknown) => {
    // Before any answer: a plain 500 as etcd's gateway. After: stop reading, keep watching.
    if (!stream.headersSent) stream.fail(e);
    req.raw.pause();
  };
  const reader = new JsonValueReader(maxValueBytes, {
    value: (v) => {
      try {
        session.handle(v);
      } catch (e) {
        reader.finish();
        fail(e instanceof CairnError ? e : new CairnError('Internal'));
      }
    },
    error: fail,
    end: () => undefined,
  });
  reader.attach(req.raw);
}
