/**
 * etcd's v3election service on the JSON gateway: /v3/election/campaign (waits until elected),
 * proclaim, leader, resign, and the stream /v3/election/observe (one `{"result":{header, kv}}`
 * line per leader change, in etcd's chunked form; headers go out with the first line, so an
 * observe with no leader yet sends nothing). Handlers decode, call the server's
 * ElectionService, encode: no logic here. Errors as the lock routes (see lock.ts).
 */
import { callerOf } from '../caller.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KeyValue } from '../../mvcc/types.js';
import type { CairnServer, ResponseHeader } from '../../server/cairn-server.js';
import type { LeaderKey } from '../../server/concurrency/election-service.js';
import { WaitAborted } from '../../server/concurrency/wait-deletes.js';
import { encodeBase64 } from '../gateway/base64.js';
import { bytesIn, headerOut, int64In, kvOut, type Json } from '../gateway/kv-codec.js';
import { GatewayStream } from '../gateway/stream.js';
import { clientGoneSignal, concurrencyErrorHandler, concurrencyRouteSchema, serviceCall } from './lock.js';

/** Unread bytes on one observe stream before it is ended (the client reads too slowly). */
export const MAX_OBSERVE_BUFFERED_BYTES = 1 << 20;

const TAG = 'election (etcd gateway)';
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

function leaderKeyIn(v: unknown): LeaderKey | undefined {
  if (v === undefined || v === null) return undefined;
  const b = obj(v);
  return { name: bytesIn(b.name), key: bytesIn(b.key), rev: int64In(b.rev), lease: int64In(b.lease) };
}

function leaderKeyOut(l: LeaderKey): Json {
  const o: Json = {};
  if (l.name.length > 0) o.name = encodeBase64(l.name);
  if (l.key.length > 0) o.key = encodeBase64(l.key);
  if (l.rev !== 0n) o.rev = l.rev.toString();
  if (l.lease !== 0n) o.lease = l.lease.toString();
  return o;
}

const leaderOut = (header: ResponseHeader, kv: KeyValue): Json => ({ header: headerOut(header), kv: kvOut(kv) });

export async function electionGatewayRoutes(
  app: FastifyInstance, opts: { server: CairnServer; streams: Set<{ end(): void }> },
): Promise<void> {
  const elections = () => opts.server.elections;
  app.setErrorHandler(concurrencyErrorHandler);
  const schema = (summary: string, body: string, response: string, description?: string) =>
    concurrencyRouteSchema(TAG, summary, body, response, description);

  app.post('/election/campaign', {
    schema: schema('Campaign for leadership (waits)', 'CampaignRequest', 'CampaignResponse',
      'Answers once the caller is the leader (its `name/<lease hex>` key is the oldest under `name/`). ' +
      'A candidate whose client disconnects withdraws.'),
  }, async (req, reply) => {
    const b = obj(req.body);
    const name = bytesIn(b.name);
    const lease = int64In(b.lease);
    const value = bytesIn(b.value);
    const signal = clientGoneSignal(reply);
    const caller = callerOf(opts.server, req);
    const r = await serviceCall(() => elections().campaign(name, lease, value, signal, caller));
    return { header: headerOut(r.header), leader: leaderKeyOut(r.leader) };
  });

  app.post('/election/proclaim', {
    schema: schema('Change the leader\'s value', 'ProclaimRequest', 'HeaderOnlyResponse',
      'Fails with `election: not leader` unless the leader key still exists with its create revision.'),
  }, async (req) => {
    const b = obj(req.body);
    const leader = leaderKeyIn(b.leader);
    const value = bytesIn(b.value);
    const caller = callerOf(opts.server, req);
    const r = await serviceCall(() => elections().proclaim(leader, value, caller));
    return { header: headerOut(r.header) };
  });

  app.post('/election/leader', {
    schema: schema('The current leader', 'LeaderRequest', 'LeaderResponse', 'Fails with `election: no leader` when nobody leads.'),
  }, async (req) => {
    const name = bytesIn(obj(req.body).name);
    const caller = callerOf(opts.server, req);
    const r = await serviceCall(() => elections().leader(name, caller));
    return leaderOut(r.header, r.kv);
  });

  app.post('/election/resign', {
    schema: schema('Give up leadership', 'ResignRequest', 'HeaderOnlyResponse',
      'Deletes the leader key if it still has its create revision; otherwise does nothing.'),
  }, async (req) => {
    const leader = leaderKeyIn(obj(req.body).leader);
    const caller = callerOf(opts.server, req);
    const r = await serviceCall(() => elections().resign(leader, caller));
    return { header: headerOut(r.header) };
  });

  app.post('/election/observe', {
    schema: {
      tags: [TAG],
      summary: 'Observe the leader (stream)',
      description: 'Body: a LeaderRequest. Answer: one `{"result": LeaderResponse}` line per change of the leader or its value, ' +
        'in one HTTP chunk each; nothing is sent while there is no leader. The stream stays open until the client goes away.',
      body: { $ref: 'LeaderRequest#' },
    },
  }, (req, reply) => observeStream(req, reply, opts));
}

function observeStream(req: FastifyRequest, reply: FastifyReply, opts: { server: CairnServer; streams: Set<{ end(): void }> }): void {
  const name = bytesIn(obj(req.body).name);
  const caller = callerOf(opts.server, req);
  reply.hijack();
  const stream = new GatewayStream(req.raw, reply.raw, MAX_OBSERVE_BUFFERED_BYTES);
  const ac = new AbortController();
  opts.streams.add(stream);
  stream.onClose(() => {
    opts.streams.delete(stream);
    ac.abort();
  });
  const listener = (header: ResponseHeader, kv: KeyValue) => {
    stream.send(leaderOut(header, kv));
    if (stream.overBudget) stream.end();
  };
  opts.server.elections.observe(name, listener, ac.signal, caller).then(
    () => stream.end(),
    (e: unknown) => (e instanceof WaitAborted ? stream.end() : stream.fail(e)),
  );
}
