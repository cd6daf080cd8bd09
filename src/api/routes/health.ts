/**
 * Health, version and metrics, where etcd has them: GET /health (`{"health":"true"}`),
 * GET /version (etcd's shape, so version checks in etcd clients pass, plus Cairn's own),
 * GET /metrics (Prometheus text).
 */
import type { FastifyInstance } from 'fastify';
import { CAIRN_VERSION, CLUSTER_VERSION, type CairnServer } from '../../server/cairn-server.js';
import { PACKAGE_VERSION } from '../version.js';

const tags = ['health'];

export async function healthRoutes(app: FastifyInstance, opts: { server: CairnServer }): Promise<void> {
  const { server } = opts;
  app.get('/health', {
    schema: {
      tags, summary: 'Is this member healthy (can it serve a linearizable read)?',
      response: {
        200: { type: 'object', properties: { health: { type: 'string' }, reason: { type: 'string' } } },
        503: { type: 'object', properties: { health: { type: 'string' }, reason: { type: 'string' } } },
      },
    },
  }, async (_req, reply) => {
    const h = await server.health();
    if (!h.ok) return reply.code(503).send({ health: 'false', reason: h.reason });
    return { health: 'true' };
  });

  app.get('/version', {
    schema: {
      tags, summary: 'Versions: the etcd API level served, and Cairn',
      response: { 200: { type: 'object', properties: { etcdserver: { type: 'string' }, etcdcluster: { type: 'string' }, cairn: { type: 'string' } } } },
    },
  }, async () => ({ etcdserver: CAIRN_VERSION, etcdcluster: CLUSTER_VERSION, cairn: PACKAGE_VERSION }));

  app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics' } }, async (_req, reply) => {
    server.refreshGauges();
    const body = await server.metrics.registry.metrics();
    return reply.type(server.metrics.registry.contentType).send(body);
  });
}
