/**
 * etcd's v3 KV service on the JSON gateway: /v3/kv/range, put, deleterange, txn, compaction
 * (and the /v3beta aliases). Each handler decodes, calls the server, encodes: no logic here.
 */
import type { FastifyInstance } from 'fastify';
import type { CairnServer } from '../../server/cairn-server.js';
import { callerOf } from '../caller.js';
import {
  compactionIn, deleteRangeIn, deleteRangeOut, headerOut, putIn, putOut, rangeIn, rangeOut, txnIn, txnOut,
} from '../gateway/kv-codec.js';

const ref = (id: string) => ({ $ref: `${id}#` });
const errorResponses = { default: ref('GatewayError') };

function routeSchema(summary: string, body: string, response: string, description?: string) {
  return {
    tags: ['kv (etcd gateway)'],
    summary,
    description,
    body: ref(body),
    response: { 200: ref(response), ...errorResponses },
  };
}

export async function kvGatewayRoutes(app: FastifyInstance, opts: { server: CairnServer }): Promise<void> {
  const { server } = opts;

  app.post(`/kv/range`, {
    schema: routeSchema('Get a key or a range of keys', 'RangeRequest', 'RangeResponse',
      'Linearizable unless `serializable` is true. `count` ignores `limit`; `more` says the result was cut short.'),
  }, async (req) => {
    const { header, result } = await server.range(rangeIn(req.body), callerOf(server, req));
    return rangeOut(headerOut(header), result);
  });

  app.post(`/kv/put`, {
    schema: routeSchema('Put a key', 'PutRequest', 'PutResponse', 'Answered once the write is durable on a quorum.'),
  }, async (req) => {
    const { header, result } = await server.put(putIn(req.body), callerOf(server, req));
    return putOut(headerOut(header), result);
  });

  app.post(`/kv/deleterange`, {
    schema: routeSchema('Delete a key or a range of keys', 'DeleteRangeRequest', 'DeleteRangeResponse'),
  }, async (req) => {
    const { header, result } = await server.deleteRange(deleteRangeIn(req.body), callerOf(server, req));
    return deleteRangeOut(headerOut(header), result);
  });

  app.post(`/kv/txn`, {
    schema: routeSchema('Compare-and-swap transaction', 'TxnRequest', 'TxnResponse',
      'If every compare holds, runs `success`, else `failure`; the whole txn is one revision.'),
  }, async (req) => {
    const { header, result } = await server.txn(txnIn(req.body), callerOf(server, req));
    return txnOut(headerOut(header), result);
  });

  app.post(`/kv/compaction`, {
    schema: routeSchema('Compact the history below a revision', 'CompactionRequest', 'CompactionResponse'),
  }, async (req) => {
    const { revision, physical } = compactionIn(req.body);
    const { header } = await server.compact(revision, physical);
    return { header: headerOut(header) };
  });
}
