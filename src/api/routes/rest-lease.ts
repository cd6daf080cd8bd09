/**
 * Leases on the plain REST face, over the same server calls as the gateway:
 *
 *   POST   /lease?ttl=N[&id=ID]      grant; answers {id, id_hex, ttl, revision}
 *   GET    /lease                    every lease: {revision, leases: [{id, id_hex}]}
 *   GET    /lease/{id}[?keys]        time left: {id, id_hex, ttl, granted_ttl, keys?}; 404 if none
 *   POST   /lease/{id}/keepalive     renew once: {id, id_hex, ttl}; 404 if the lease is gone
 *   DELETE /lease/{id}               revoke (deletes the attached keys at one revision)
 *
 * IDs are 64-bit: decimal strings in JSON (never JSON numbers, which lose precision past
 * 2^53), with `id_hex` as etcdctl prints them; `{id}` in a path is decimal or 0x-prefixed hex.
 */
import { callerOf } from '../caller.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CairnError } from '../../errors/errors.js';
import type { CairnServer } from '../../server/cairn-server.js';
import { sendRestError } from '../errors.js';

type Query = Record<string, string | undefined>;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function leaseIdParam(v: string | undefined, name = 'lease ID'): bigint {
  if (v === undefined || !/^(0x[0-9a-fA-F]{1,16}|-?[0-9]{1,20})$/.test(v)) {
    throw new CairnError('BadRequest', `${name} must be decimal or 0x-prefixed hex, got "${v ?? ''}"`);
  }
  const n = BigInt(v);
  // etcdctl prints IDs as unsigned hex: 0x8000... and above are negative int64s.
  const id = v.startsWith('0x') && n > INT64_MAX ? n - 2n ** 64n : n;
  if (id < INT64_MIN || id > INT64_MAX) throw new CairnError('BadRequest', `${name} is out of the int64 range`);
  return id;
}

/** As etcdctl prints a lease ID: lowercase hex of its 64 bits. */
export function leaseIdHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

const idJson = (id: bigint) => ({ id: id.toString(), id_hex: leaseIdHex(id) });

function flag(q: Query, name: string): boolean {
  const v = q[name];
  return v !== undefined && v !== 'false' && v !== '0';
}

const tags = ['lease (REST)'];
const idOf = (req: FastifyRequest) => leaseIdParam((req.params as { id?: string }).id);

export async function restLeaseRoutes(app: FastifyInstance, opts: { server: CairnServer }): Promise<void> {
  const leases = () => opts.server.leases;
  app.setErrorHandler((err, req, reply) => sendRestError(req, reply, err));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/lease', {
    schema: {
      tags, summary: 'Grant a lease: ?ttl=seconds[&id=ID]',
      querystring: { type: 'object', properties: { ttl: { type: 'string' }, id: { type: 'string' } } },
    },
  }, async (req) => {
    const q = req.query as Query;
    if (q.ttl === undefined || !/^[0-9]{1,19}$/.test(q.ttl)) throw new CairnError('BadRequest', 'query parameter ttl (seconds) is required');
    const id = q.id === undefined ? 0n : leaseIdParam(q.id, 'query parameter id');
    const { revision, result } = await leases().grant(BigInt(q.ttl), id);
    return { ...idJson(result.id), ttl: result.ttlSec.toString(), revision: revision.toString() };
  });

  app.get('/lease', { schema: { tags, summary: 'List leases' } }, async () => {
    const { revision, result } = leases().leases();
    return { revision: revision.toString(), leases: result.map(idJson) };
  });

  app.get('/lease/:id', {
    schema: {
      tags, summary: 'Time left on a lease (?keys: and its keys)',
      querystring: { type: 'object', properties: { keys: { type: 'string' }, encoding: { type: 'string', enum: ['utf8', 'base64'] } } },
    },
  }, async (req, reply) => {
    const q = req.query as Query;
    const enc = q.encoding === 'base64' ? 'base64' : 'utf8';
    const { revision, result } = await leases().timeToLive(idOf(req), flag(q, 'keys'));
    if (result.ttlSec === -1n) return reply.code(404).send({ error: 'lease not found', ...idJson(result.id), revision: revision.toString() });
    return {
      ...idJson(result.id), ttl: result.ttlSec.toString(), granted_ttl: result.grantedTtlSec.toString(), revision: revision.toString(),
      ...(flag(q, 'keys') ? { keys: result.keys.map((k) => Buffer.from(k).toString(enc)) } : {}),
    };
  });

  for (const method of ['POST', 'PUT'] as const) {
    app.route({
      method, url: '/lease/:id/keepalive', schema: { tags, summary: 'Renew a lease once' },
      handler: async (req, reply) => {
        const { revision, result } = await leases().keepAlive(idOf(req));
        if (result.ttlSec === 0n) return reply.code(404).send({ error: 'lease not found', ...idJson(result.id), revision: revision.toString() });
        return { ...idJson(result.id), ttl: result.ttlSec.toString(), revision: revision.toString() };
      },
    });
  }

  app.delete('/lease/:id', { schema: { tags, summary: 'Revoke a lease and delete its keys' } }, async (req) => {
    const { revision } = await leases().revoke(idOf(req), callerOf(opts.server, req));
    return { revision: revision.toString() };
  });
}
