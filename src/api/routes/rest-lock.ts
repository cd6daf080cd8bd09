/**
 * Locks and elections on the plain REST face, for people and shell scripts (names in the path,
 * keys and values as UTF-8 text, revisions as strings):
 *
 *   POST   /lock/{name}[?lease=ID]         waits until held; {key, revision}
 *   DELETE /lock?key=K                     releases; {revision}
 *   GET    /election/{name}                the leader's kv and revision; 404 when nobody leads
 *   GET    /election/{name}/observe        the leader as Server-Sent Events
 *
 * Observe sends one `event: leader` message per change (the leader's kv as JSON data, `id:` the
 * revision), nothing while nobody leads, and a `: heartbeat` comment when idle so proxies keep
 * the stream open. It is written on the raw response and bounded: a client more than
 * `maxBufferedBytes` behind is cut off (it reconnects and gets the current leader first).
 * Routes translate and delegate; the services hold the logic.
 */
import { callerOf } from '../caller.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CairnError } from '../../errors/errors.js';
import type { KeyValue } from '../../mvcc/types.js';
import type { CairnServer, ResponseHeader } from '../../server/cairn-server.js';
import { WaitAborted } from '../../server/concurrency/wait-deletes.js';
import { sendRestError } from '../errors.js';
import { clientGoneSignal } from './lock.js';
import { kvJson } from './rest-kv.js';
import type { SseLimits } from './rest-watch.js';

export interface RestLockOptions {
  server: CairnServer;
  streams: Set<{ end(): void }>;
  limits: SseLimits;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
  'access-control-allow-origin': '*',
} as const;

const utf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const nameOf = (req: FastifyRequest) => bytes((req.params as { name: string }).name);

function leaseParam(v: string | undefined): bigint {
  if (v === undefined || v === '') return 0n;
  if (!/^[0-9]{1,19}$/.test(v)) throw new CairnError('BadRequest', 'query parameter lease must be a decimal lease ID');
  return BigInt(v);
}

const leaderJson = (header: ResponseHeader, kv: KeyValue) => ({ ...kvJson(kv, 'utf8'), revision: header.revision.toString() });

export async function restLockRoutes(app: FastifyInstance, opts: RestLockOptions): Promise<void> {
  const { server } = opts;
  app.setErrorHandler((err, req, reply) => {
    // A lock wait aborted because the client left: answer into the closed socket, log nothing.
    if (err instanceof WaitAborted) return reply.code(499).send({ error: err.message, code: 1 });
    return sendRestError(req, reply, err);
  });
  const nameParam = { type: 'object', properties: { name: { type: 'string' } } };

  app.post('/lock/:name', {
    schema: {
      tags: ['lock (REST)'], summary: 'Acquire a lock (waits until held)', params: nameParam,
      querystring: { type: 'object', properties: { lease: { type: 'string', description: 'Lease ID; absent: a 60 s lease of the server\'s own.' } } },
    },
  }, async (req, reply) => {
    const lease = leaseParam((req.query as { lease?: string }).lease);
    const r = await server.locks.lock(nameOf(req), lease, clientGoneSignal(reply), callerOf(server, req));
    return { key: utf8(r.key), revision: r.header.revision.toString() };
  });

  app.delete('/lock', {
    schema: { tags: ['lock (REST)'], summary: 'Release a lock', querystring: { type: 'object', properties: { key: { type: 'string' } } } },
  }, async (req) => {
    const key = (req.query as { key?: string }).key ?? '';
    const r = await server.locks.unlock(bytes(key), callerOf(server, req));
    return { revision: r.header.revision.toString() };
  });

  app.get('/election/:name', { schema: { tags: ['election (REST)'], summary: 'The current leader', params: nameParam } }, async (req) => {
    const r = await server.elections.leader(nameOf(req), callerOf(server, req));
    return leaderJson(r.header, r.kv);
  });

  app.get('/election/:name/observe', {
    schema: { tags: ['election (REST)'], summary: 'Observe the leader as Server-Sent Events', params: nameParam },
  }, (req, reply) => observeSse(req, reply, opts));
}

function observeSse(req: FastifyRequest, reply: FastifyReply, opts: RestLockOptions): void {
  const name = nameOf(req);
  const caller = callerOf(opts.server, req);
  reply.hijack();
  const res = reply.raw;
  const ac = new AbortController();
  let lastWriteMs = Date.now();
  const write = (text: string) => {
    if (res.writableEnded) return;
    lastWriteMs = Date.now();
    res.write(text);
  };
  const stream = { end: () => { if (!res.writableEnded) res.end(); } };
  const heartbeat = setInterval(() => {
    if (Date.now() - lastWriteMs >= opts.limits.heartbeatMs) write(': heartbeat\n\n');
  }, Math.max(50, Math.floor(opts.limits.heartbeatMs / 2)));
  heartbeat.unref();
  opts.streams.add(stream);
  res.on('close', () => {
    clearInterval(heartbeat);
    opts.streams.delete(stream);
    ac.abort();
  });
  res.writeHead(200, SSE_HEADERS);
  write(`retry: ${opts.limits.retryMs}\n\n`);
  const listener = (header: ResponseHeader, kv: KeyValue) => {
    write(`id: ${header.revision}\nevent: leader\ndata: ${JSON.stringify(leaderJson(header, kv))}\n\n`);
    if (res.writableLength > opts.limits.maxBufferedBytes) stream.end();
  };
  opts.server.elections.observe(name, listener, ac.signal, caller).then(
    () => stream.end(),
    (e: unknown) => {
      write(`event: error\ndata: ${JSON.stringify({ error: (e as Error).message })}\n\n`);
      stream.end();
    },
  );
}
