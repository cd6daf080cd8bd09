/**
 * etcd's v3 Lease service on the JSON gateway: /v3/lease/grant, revoke, timetolive, leases, and
 * the keep-alive stream /v3/lease/keepalive, plus the legacy aliases real clients use
 * (/v3/kv/lease/revoke, /v3/kv/lease/timetolive, /v3/kv/lease/leases). Handlers decode, call
 * `server.leases`, encode: no logic here.
 *
 * The keep-alive stream answers each request object with one result, in order, and ends when
 * the request body ends (as etcd's gateway does). It never holds more than one renewal in flight.
 */
import { callerOf } from '../caller.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CairnServer } from '../../server/cairn-server.js';
import { headerOut } from '../gateway/kv-codec.js';
import {
  int64Checked, leaseGrantIn, leaseGrantOut, leaseIdIn, leaseKeepAliveOut, leasesOut, timeToLiveIn, timeToLiveOut,
} from '../gateway/lease-codec.js';
import { GatewayStream, JsonValueReader, type Json } from '../gateway/stream.js';

const ref = (id: string) => ({ $ref: `${id}#` });
const tags = ['lease (etcd gateway)'];

function routeSchema(summary: string, body: string, response: string, description?: string) {
  return { tags, summary, description, body: ref(body), response: { 200: ref(response), default: ref('GatewayError') } };
}

/** Request objects waiting for their keep-alive answer on one stream; past it, reading pauses. */
export const MAX_QUEUED_KEEPALIVES = 64;
/** Unread answer bytes on one keep-alive stream before it is ended. */
export const MAX_KEEPALIVE_BUFFERED_BYTES = 1 << 20;

export interface LeaseRouteOptions {
  server: CairnServer;
  /** Largest request object on a stream (etcd's --max-request-bytes, base64-inflated). */
  maxStreamValueBytes: number;
  /** Open streams, ended when the app closes. */
  streams: Set<{ end(): void }>;
}

export async function leaseGatewayRoutes(app: FastifyInstance, opts: LeaseRouteOptions): Promise<void> {
  const { server } = opts;
  const leases = () => server.leases;
  const header = (revision: bigint) => headerOut(server.header(revision));

  app.post('/lease/grant', {
    schema: routeSchema('Grant a lease', 'LeaseGrantRequest', 'LeaseGrantResponse',
      'TTL in seconds (raised to the minimum, 1.5 election timeouts); ID 0 lets the server pick a 63-bit ID.'),
  }, async (req) => {
    const { ttlSec, id } = leaseGrantIn(req.body);
    const { revision, result } = await leases().grant(ttlSec, id);
    return leaseGrantOut(header(revision), result);
  });

  for (const path of ['/lease/revoke', '/kv/lease/revoke']) {
    app.post(path, {
      schema: routeSchema('Revoke a lease', 'LeaseIdRequest', 'LeaseRevokeResponse',
        'Deletes every key attached to the lease, all at one revision.'),
    }, async (req) => {
      const { revision } = await leases().revoke(leaseIdIn(req.body), callerOf(server, req));
      return { header: header(revision) };
    });
  }

  for (const path of ['/lease/timetolive', '/kv/lease/timetolive']) {
    app.post(path, {
      schema: routeSchema('Time left on a lease', 'LeaseTimeToLiveRequest', 'LeaseTimeToLiveResponse',
        'TTL is in whole seconds, rounded down; an unknown lease answers TTL "-1".'),
    }, async (req) => {
      const { id, keys } = timeToLiveIn(req.body);
      const { revision, result } = await leases().timeToLive(id, keys);
      return timeToLiveOut(header(revision), result);
    });
  }

  for (const path of ['/lease/leases', '/kv/lease/leases']) {
    app.post(path, { schema: routeSchema('List leases', 'LeaseLeasesRequest', 'LeaseLeasesResponse') }, async () => {
      const { revision, result } = leases().leases();
      return leasesOut(header(revision), result);
    });
  }

  await app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    child.post('/lease/keepalive', {
      schema: {
        tags,
        summary: 'Keep leases alive (stream)',
        description: 'Body: LeaseKeepAliveRequest objects `{"ID": "..."}` back to back. Each gets one `{"result": {header, ID, TTL}}` line ' +
          '(no TTL when the lease is gone); the stream ends when the body ends.',
      },
    }, (req, reply) => keepAliveStream(req, reply, opts));
  });
}

function keepAliveStream(req: FastifyRequest, reply: FastifyReply, opts: LeaseRouteOptions): void {
  reply.hijack();
  const stream = new GatewayStream(req.raw, reply.raw, MAX_KEEPALIVE_BUFFERED_BYTES);
  opts.streams.add(stream);
  stream.onClose(() => opts.streams.delete(stream));
  const queue: Json[] = [];
  let bodyEnded = false;
  let working = false;
  const pump = async (): Promise<void> => {
    if (working) return;
    working = true;
    try {
      while (queue.length > 0 && !stream.isEnded) {
        const id = int64Checked(queue.shift()!.ID);
        if (queue.length < MAX_QUEUED_KEEPALIVES / 2) req.raw.resume();
        const { revision, result } = await opts.server.leases.keepAlive(id);
        stream.send(leaseKeepAliveOut(headerOut(opts.server.header(revision)), result));
        if (stream.overBudget) stream.end();
      }
      if (bodyEnded) stream.end();
    } catch (e) {
      stream.fail(e);
    } finally {
      working = false;
    }
  };
  const reader = new JsonValueReader(opts.maxStreamValueBytes, {
    value: (v) => {
      queue.push(v);
      if (queue.length >= MAX_QUEUED_KEEPALIVES) req.raw.pause();
      void pump();
    },
    // As etcd: a bad request object ends the stream (a 500 if nothing was answered yet).
    error: (e) => {
      queue.length = 0;
      bodyEnded = true;
      if (!working) stream.fail(e);
    },
    end: () => {
      bodyEnded = true;
      void pump();
    },
  });
  reader.attach(req.raw);
}
