/**
 * etcd's v3lock service on the JSON gateway: `POST /v3/lock/lock` (waits until the caller holds
 * the lock, answers `{header, key}`) and `/v3/lock/unlock` (deletes the key). Handlers decode,
 * call the server's LockService, encode: no logic here.
 *
 * Also the two things the lock and election routes share: a signal that fires when the client
 * goes away (a waiting lock or campaign then ends, and its key is deleted), and etcd's error
 * shape for these services: whatever fails inside them reaches the client as HTTP 500 with gRPC
 * code 2 and the message (etcd's v3lock/v3election re-raise their client's errors untyped),
 * while a body the gateway cannot decode stays a 400 with code 3.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CairnError, GrpcCode } from '../../errors/errors.js';
import type { CairnServer } from '../../server/cairn-server.js';
import { WaitAborted } from '../../server/concurrency/wait-deletes.js';
import { gatewayErrorBody, sendGatewayError } from '../errors.js';
import { bytesIn, headerOut, int64In, type Json } from '../gateway/kv-codec.js';
import { encodeBase64 } from '../gateway/base64.js';
import { callerOf } from '../caller.js';

const ref = (id: string) => ({ $ref: `${id}#` });

export function concurrencyRouteSchema(tag: string, summary: string, body: string, response: string, description?: string) {
  return { tags: [tag], summary, description, body: ref(body), response: { 200: ref(response), default: ref('GatewayError') } };
}

/** A failure inside the lock or election service, answered as etcd does (500, code 2). */
export class ServiceFailure extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.name = 'ServiceFailure';
  }
}

/** Runs a service call; any failure becomes a ServiceFailure. */
export async function serviceCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw new ServiceFailure(e);
  }
}

export function concurrencyErrorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (!(err instanceof ServiceFailure)) return sendGatewayError(req, reply, err);
  // A wait aborted because the client left is answered too (into a closed socket) so the
  // request ends cleanly; it is not a failure worth logging.
  const unexpected = !(err.original instanceof CairnError || err.original instanceof WaitAborted);
  if (unexpected) req.log.error({ err: err.original }, 'lock/election call failed');
  return reply.code(500).type('application/json').serializer(JSON.stringify)
    .send(gatewayErrorBody(GrpcCode.Unknown, err.message));
}

/** Aborts when the client closes its connection before the answer is sent. */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) ac.abort();
  };
  // The response (per request) closes when the connection does; never listen on the socket,
  // which keep-alive reuses across requests (listeners would pile up).
  reply.raw.once('close', onClose);
  return ac.signal;
}

const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const TAG = 'lock (etcd gateway)';

export async function lockGatewayRoutes(app: FastifyInstance, opts: { server: CairnServer }): Promise<void> {
  const locks = () => opts.server.locks;
  app.setErrorHandler(concurrencyErrorHandler);

  app.post('/lock/lock', {
    schema: concurrencyRouteSchema(TAG, 'Acquire a distributed lock (waits)', 'LockRequest', 'LockResponse',
      'Answers once the caller holds the lock: contenders are served in the order they arrived (create revision of ' +
      'their `name/<lease hex>` key). The lock is lost when the lease ends; a waiter whose client disconnects gives up its place.'),
  }, async (req, reply) => {
    const b = obj(req.body);
    const name = bytesIn(b.name);
    const lease = int64In(b.lease);
    const signal = clientGoneSignal(reply);
    const caller = callerOf(opts.server, req);
    const r = await serviceCall(() => locks().lock(name, lease, signal, caller));
    return { header: headerOut(r.header), key: encodeBase64(r.key) };
  });

  app.post('/lock/unlock', {
    schema: concurrencyRouteSchema(TAG, 'Release a lock', 'UnlockRequest', 'HeaderOnlyResponse',
      'Deletes the key that lock returned; a key that is already gone is not an error.'),
  }, async (req) => {
    const key = bytesIn(obj(req.body).key);
    const caller = callerOf(opts.server, req);
    const r = await serviceCall(() => locks().unlock(key, caller));
    return { header: headerOut(r.header) };
  });
}

