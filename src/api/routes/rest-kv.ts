/**
 * The plain REST face for people and shell scripts, over the same server calls as the gateway:
 *
 *   GET    /kv/{key}            raw value; metadata in X-Cairn-* headers and ETag (= mod revision)
 *   GET    /kv/{key}?prefix     JSON list of every key under the prefix (also from_key, range_end)
 *   PUT    /kv/{key}            body is the raw value; If-Match / If-None-Match make it conditional
 *   DELETE /kv/{key}            one key, or ?prefix / ?from_key / ?range_end
 *   POST   /compaction?revision=N
 *
 * The key is everything after `/kv/`, percent-decoded to bytes (so `/kv//etc/x` is the key
 * `/etc/x` and `%00` is a zero byte). Numbers that may exceed 2^53 are JSON strings.
 */
import { callerOf } from '../caller.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CairnError } from '../../errors/errors.js';
import type { KeyValue, RangeRequest, SortOrder, SortTarget } from '../../mvcc/types.js';
import type { CairnServer, ResponseHeader } from '../../server/cairn-server.js';
import { sendRestError } from '../errors.js';

type Query = Record<string, string | undefined>;

const EMPTY = new Uint8Array(0);
const FROM_KEY = new Uint8Array([0]);

/** Percent-decodes a path segment to bytes (not to a string: keys are bytes). */
export function percentDecodeBytes(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      out.push(...Buffer.from(s[i], 'utf8'));
    }
  }
  return Uint8Array.from(out);
}

function keyFromRequest(req: FastifyRequest): Uint8Array {
  const url = (req.raw as { cairnRawUrl?: string }).cairnRawUrl ?? req.url;
  const path = url.split('?', 1)[0];
  const rest = path.startsWith('/kv/') ? path.slice(4) : '';
  return percentDecodeBytes(rest);
}

function flag(q: Query, name: string): boolean {
  const v = q[name];
  if (v === undefined) return false;
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new CairnError('BadRequest', `query parameter ${name} must be true or false, got "${v}"`);
}

function int(q: Query, name: string): bigint {
  const v = q[name];
  if (v === undefined || v === '') return 0n;
  if (!/^(0x[0-9a-fA-F]+|-?[0-9]+)$/.test(v)) throw new CairnError('BadRequest', `query parameter ${name} must be an integer, got "${v}"`);
  return BigInt(v);
}

/** Prefix end as etcd's clientv3.GetPrefixRangeEnd: the key with its last non-0xff byte + 1. */
export function prefixEnd(key: Uint8Array): Uint8Array {
  for (let i = key.length - 1; i >= 0; i--) {
    if (key[i] < 0xff) {
      const end = key.slice(0, i + 1);
      end[i] += 1;
      return end;
    }
  }
  return FROM_KEY;
}

function rangeEndOf(key: Uint8Array, q: Query): { key: Uint8Array; rangeEnd: Uint8Array; isRange: boolean } {
  if (flag(q, 'prefix')) {
    if (key.length === 0) return { key: FROM_KEY, rangeEnd: FROM_KEY, isRange: true };
    return { key, rangeEnd: prefixEnd(key), isRange: true };
  }
  if (flag(q, 'from_key')) return { key: key.length === 0 ? FROM_KEY : key, rangeEnd: FROM_KEY, isRange: true };
  if (q.range_end !== undefined) return { key, rangeEnd: percentDecodeBytes(q.range_end), isRange: true };
  return { key, rangeEnd: EMPTY, isRange: false };
}

const SORTS: Record<string, SortTarget> = { key: 'KEY', version: 'VERSION', create: 'CREATE', mod: 'MOD', value: 'VALUE' };

function sortOf(q: Query): { sortTarget: SortTarget; sortOrder: SortOrder } {
  const target = q.sort ?? 'key';
  const sortTarget = SORTS[target];
  if (!sortTarget) throw new CairnError('BadRequest', `query parameter sort must be one of ${Object.keys(SORTS).join(', ')}`);
  const order = q.order ?? (q.sort ? 'asc' : 'none');
  const orders: Record<string, SortOrder> = { none: 'NONE', asc: 'ASCEND', desc: 'DESCEND' };
  if (!orders[order]) throw new CairnError('BadRequest', 'query parameter order must be asc or desc');
  return { sortTarget, sortOrder: orders[order] };
}

function text(b: Uint8Array, enc: 'utf8' | 'base64'): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString(enc);
}

export function kvJson(kv: KeyValue, enc: 'utf8' | 'base64', keysOnly = false): Record<string, string> {
  const o: Record<string, string> = {
    key: text(kv.key, enc),
    create_revision: kv.createRevision.toString(),
    mod_revision: kv.modRevision.toString(),
    version: kv.version.toString(),
    lease: kv.lease.toString(),
  };
  if (!keysOnly) o.value = text(kv.value, enc);
  return o;
}

function encodingOf(q: Query): 'utf8' | 'base64' {
  const e = q.encoding ?? 'utf8';
  if (e !== 'utf8' && e !== 'base64') throw new CairnError('BadRequest', 'query parameter encoding must be utf8 or base64');
  return e;
}

function wantsJson(req: FastifyRequest, q: Query): boolean {
  if (q.format !== undefined) {
    if (q.format !== 'json' && q.format !== 'raw') throw new CairnError('BadRequest', 'query parameter format must be json or raw');
    return q.format === 'json';
  }
  return (req.headers.accept ?? '').includes('application/json');
}

function metaHeaders(reply: FastifyReply, header: ResponseHeader, kv?: KeyValue): void {
  reply.header('x-cairn-revision', header.revision.toString());
  if (!kv) return;
  reply.header('etag', `"${kv.modRevision}"`);
  reply.header('x-cairn-create-revision', kv.createRevision.toString());
  reply.header('x-cairn-mod-revision', kv.modRevision.toString());
  reply.header('x-cairn-version', kv.version.toString());
  if (kv.lease !== 0n) reply.header('x-cairn-lease', kv.lease.toString());
}

const QUERY_DOC = {
  type: 'object',
  properties: {
    prefix: { type: 'string', description: 'Every key that starts with {key} (flag: `?prefix`).' },
    from_key: { type: 'string', description: 'Every key >= {key} (flag).' },
    range_end: { type: 'string', description: 'End of the range (exclusive), percent-encoded.' },
    revision: { type: 'string', description: 'Read at this past revision.' },
    limit: { type: 'string', description: 'Most keys returned.' },
    keys_only: { type: 'string', description: 'Keys without values (flag).' },
    count_only: { type: 'string', description: 'Only the count (flag).' },
    sort: { type: 'string', enum: ['key', 'version', 'create', 'mod', 'value'] },
    order: { type: 'string', enum: ['asc', 'desc'] },
    serializable: { type: 'string', description: 'Read locally without a linearizable round (flag).' },
    format: { type: 'string', enum: ['json', 'raw'], description: 'json: the JSON form for a single key too.' },
    encoding: { type: 'string', enum: ['utf8', 'base64'], description: 'How keys and values appear in JSON.' },
    lease: { type: 'string', description: 'PUT: lease ID to attach (decimal or 0x hex).' },
    prev_kv: { type: 'string', description: 'PUT/DELETE: return the previous key-value(s) (flag).' },
    ignore_value: { type: 'string', description: 'PUT: keep the current value (flag).' },
    ignore_lease: { type: 'string', description: 'PUT: keep the current lease (flag).' },
  },
} as const;

const tags = ['kv (REST)'];

export async function restKvRoutes(app: FastifyInstance, opts: { server: CairnServer }): Promise<void> {
  const { server } = opts;
  app.setErrorHandler((err, req, reply) => sendRestError(req, reply, err));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const get = async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.query as Query;
    const r = rangeEndOf(keyFromRequest(req), q);
    const rangeReq: RangeRequest = {
      key: r.key, rangeEnd: r.rangeEnd, revision: int(q, 'revision'), limit: int(q, 'limit'),
      keysOnly: flag(q, 'keys_only'), countOnly: flag(q, 'count_only'), serializable: flag(q, 'serializable'), ...sortOf(q),
    };
    if (rangeReq.key.length === 0) throw new CairnError('EmptyKey');
    const { header, result } = await server.range(rangeReq, callerOf(server, req));
    metaHeaders(reply, header, r.isRange ? undefined : result.kvs[0]);
    const enc = encodingOf(q);
    if (r.isRange || wantsJson(req, q)) {
      if (!r.isRange && result.kvs.length === 0) return reply.code(404).send({ error: 'key not found', revision: header.revision.toString() });
      return {
        revision: header.revision.toString(),
        count: result.count.toString(),
        more: result.more,
        kvs: result.kvs.map((kv) => kvJson(kv, enc, rangeReq.keysOnly)),
      };
    }
    const kv = result.kvs[0];
    if (!kv) return reply.code(404).type('application/json').send({ error: 'key not found', revision: header.revision.toString() });
    return reply.type('application/octet-stream').send(Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength));
  };
  app.get('/kv/*', { schema: { tags, summary: 'Read a key (raw value) or a range (JSON)', querystring: QUERY_DOC } }, get);
  app.get('/kv', { schema: { tags, summary: 'List keys (with ?prefix: every key)', querystring: QUERY_DOC } }, get);

  app.put('/kv/*', {
    schema: { tags, summary: 'Write a key; the body is the raw value', querystring: QUERY_DOC },
  }, async (req, reply) => {
    const q = req.query as Query;
    const key = keyFromRequest(req);
    const body = req.body as Buffer | undefined;
    const value = body && body.length > 0 ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : EMPTY;
    const put = { key, value, lease: int(q, 'lease'), prevKv: flag(q, 'prev_kv'), ignoreValue: flag(q, 'ignore_value'), ignoreLease: flag(q, 'ignore_lease') };
    const cond = conditionOf(req);
    if (!cond) {
      const { header, result } = await server.put(put, callerOf(server, req));
      reply.header('x-cairn-revision', header.revision.toString()).header('etag', `"${header.revision}"`);
      return { revision: header.revision.toString(), ...(result.prevKv ? { prev_kv: kvJson(result.prevKv, encodingOf(q)) } : {}) };
    }
    const { header, result } = await server.txn({ compare: [{ ...cond, key }], success: [{ put }], failure: [{ range: { key } }] }, callerOf(server, req));
    return conditionalAnswer(reply, header, result, encodingOf(q));
  });

  app.delete('/kv/*', {
    schema: { tags, summary: 'Delete a key, or a range with ?prefix, ?from_key or ?range_end', querystring: QUERY_DOC },
  }, async (req, reply) => {
    const q = req.query as Query;
    const r = rangeEndOf(keyFromRequest(req), q);
    const del = { key: r.key, rangeEnd: r.rangeEnd, prevKv: flag(q, 'prev_kv') };
    const cond = conditionOf(req);
    if (!cond) {
      const { header, result } = await server.deleteRange(del, callerOf(server, req));
      reply.header('x-cairn-revision', header.revision.toString());
      const enc = encodingOf(q);
      return {
        revision: header.revision.toString(), deleted: result.deleted.toString(),
        ...(del.prevKv ? { prev_kvs: result.prevKvs.map((kv) => kvJson(kv, enc)) } : {}),
      };
    }
    const { header, result } = await server.txn({ compare: [{ ...cond, key: r.key }], success: [{ deleteRange: del }], failure: [{ range: { key: r.key } }] }, callerOf(server, req));
    return conditionalAnswer(reply, header, result, encodingOf(q));
  });

  app.post('/compaction', {
    schema: { tags, summary: 'Compact history below ?revision=N (&physical to wait for the space)', querystring: QUERY_DOC },
  }, async (req) => {
    const q = req.query as Query & { physical?: string };
    const { header } = await server.compact(int(q, 'revision'), flag(q, 'physical'));
    return { revision: header.revision.toString() };
  });
}

/** If-Match: "<mod_revision>" (or *) and If-None-Match: * become a txn compare. */
function conditionOf(req: FastifyRequest): { target: 'MOD' | 'VERSION'; result: 'EQUAL' | 'GREATER'; number: bigint } | undefined {
  const ifMatch = req.headers['if-match'];
  const ifNone = req.headers['if-none-match'];
  if (ifNone !== undefined) {
    if (ifNone.trim() !== '*') throw new CairnError('BadRequest', 'If-None-Match supports only "*" (create if absent)');
    return { target: 'VERSION', result: 'EQUAL', number: 0n };
  }
  if (ifMatch === undefined) return undefined;
  const v = ifMatch.trim();
  if (v === '*') return { target: 'VERSION', result: 'GREATER', number: 0n };
  const m = /^(?:W\/)?"?([0-9]+)"?$/.exec(v);
  if (!m) throw new CairnError('BadRequest', 'If-Match must be a mod revision as given in ETag, e.g. "12", or *');
  return { target: 'MOD', result: 'EQUAL', number: BigInt(m[1]) };
}

function conditionalAnswer(
  reply: FastifyReply, header: ResponseHeader,
  result: { succeeded: boolean; responses: Array<Record<string, unknown>> }, enc: 'utf8' | 'base64',
): object {
  reply.header('x-cairn-revision', header.revision.toString());
  if (result.succeeded) {
    const first = result.responses[0] as { deleteRange?: { deleted: bigint } };
    return { revision: header.revision.toString(), ...(first.deleteRange ? { deleted: first.deleteRange.deleted.toString() } : {}) };
  }
  const current = (result.responses[0] as { range?: { kvs: KeyValue[] } }).range?.kvs[0];
  if (current) reply.header('etag', `"${current.modRevision}"`);
  reply.code(412);
  return { error: 'precondition failed', revision: header.revision.toString(), ...(current ? { kv: kvJson(current, enc) } : {}) };
}
