/**
 * Hostile requests for the fuzz test, drawn from a seeded Rng so a failure replays from its
 * seed: well-formed requests of every client route, the same bodies mutated (bytes flipped,
 * truncated, fields retyped, huge or deeply nested values, unknown fields), out-of-bounds
 * requests (too large, too many txn ops, keys over the limit), random paths, methods and
 * headers. Each case says which family it is from, so the report can count them.
 *
 * Owns nothing but the generation; never opens a socket.
 */
import { Rng } from '../diff/rng.js';

export interface FuzzCase {
  readonly family: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer | null;
  /** The route may stream or block (watch, keep-alive, lock, campaign, SSE): abort quickly. */
  readonly streaming: boolean;
}

const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');

/** Keys of the fuzz traffic: a small space so writes collide, plus odd bytes. */
function key(rng: Rng): string {
  return rng.weighted<() => string>([
    [6, () => b64(`fz/${rng.int(0, 40)}`)],
    [1, () => b64(Buffer.from(Array.from({ length: rng.int(1, 12) }, () => rng.int(0, 255))))],
    [1, () => b64('\0')],
    [1, () => ''],
  ])();
}

function value(rng: Rng): string {
  return b64(rng.weighted<() => string>([
    [5, () => `v${rng.int(0, 1e6)}`],
    [1, () => 'x'.repeat(rng.int(0, 4096))],
    [1, () => ''],
  ])());
}

function int64(rng: Rng): string | number {
  return rng.weighted<() => string | number>([
    [4, () => String(rng.int(0, 50))],
    [1, () => rng.int(-5, 5)],
    [1, () => '9223372036854775807'],
    [1, () => '-9223372036854775808'],
    [1, () => '18446744073709551616'],
  ])();
}

/** Lease TTLs that cannot expire during a run (an expiry would be a write no request made),
 * and ones that must be refused. */
function leaseTtl(rng: Rng): string | number {
  return rng.pick<string | number>(['600', 3600, '-1', '9223372036854775807', 'x', 1.5, '9000000001']);
}

function requestOp(rng: Rng, depth: number): unknown {
  return rng.weighted<() => unknown>([
    [3, () => ({ request_put: { key: key(rng), value: value(rng) } })],
    [2, () => ({ request_range: { key: key(rng), range_end: rng.chance(0.3) ? b64('\0') : undefined } })],
    [2, () => ({ request_delete_range: { key: key(rng), range_end: rng.chance(0.2) ? key(rng) : undefined } })],
    [depth > 0 ? 1 : 0, () => ({ request_txn: txnBody(rng, depth - 1) })],
  ])();
}

function txnBody(rng: Rng, depth = 1): unknown {
  const ops = (): unknown[] => Array.from({ length: rng.int(0, 4) }, () => requestOp(rng, depth));
  return {
    compare: Array.from({ length: rng.int(0, 2) }, () => ({
      key: key(rng), target: rng.pick(['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE', 'BOGUS', 7]),
      result: rng.pick(['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL', 'nope']), version: int64(rng), value: value(rng),
    })),
    success: ops(),
    failure: ops(),
  };
}

/** A well-formed body (by intent) for one gateway route. */
const GATEWAY: ReadonlyArray<readonly [number, string, (rng: Rng) => unknown, boolean]> = [
  [8, '/v3/kv/put', (rng) => ({ key: key(rng), value: value(rng), prev_kv: rng.chance(0.3), lease: rng.chance(0.1) ? int64(rng) : undefined }), false],
  [6, '/v3/kv/range', (rng) => ({ key: key(rng), range_end: rng.chance(0.4) ? b64('\0') : undefined, limit: int64(rng), revision: rng.chance(0.2) ? int64(rng) : undefined, serializable: rng.chance(0.5), sort_order: rng.pick(['NONE', 'ASCEND', 'DESCEND', 'X']), count_only: rng.chance(0.1) }), false],
  [4, '/v3/kv/deleterange', (rng) => ({ key: key(rng), range_end: rng.chance(0.3) ? key(rng) : undefined, prev_kv: rng.chance(0.5) }), false],
  [5, '/v3/kv/txn', (rng) => txnBody(rng, 2), false],
  [1, '/v3/kv/compaction', (rng) => ({ revision: int64(rng), physical: rng.chance(0.5) }), false],
  [2, '/v3/lease/grant', (rng) => ({ TTL: leaseTtl(rng), ID: rng.chance(0.3) ? int64(rng) : undefined }), false],
  [1, '/v3/lease/revoke', (rng) => ({ ID: int64(rng) }), false],
  [1, '/v3/kv/lease/revoke', (rng) => ({ ID: int64(rng) }), false],
  [1, '/v3/lease/timetolive', (rng) => ({ ID: int64(rng), keys: rng.chance(0.5) }), false],
  [1, '/v3/lease/leases', () => ({}), false],
  [1, '/v3/lease/keepalive', (rng) => ({ ID: int64(rng) }), true],
  [2, '/v3/watch', (rng) => ({ create_request: { key: key(rng), range_end: rng.chance(0.5) ? b64('\0') : undefined, start_revision: int64(rng), prev_kv: rng.chance(0.5), filters: rng.chance(0.2) ? ['NOPUT', 'BAD'] : undefined } }), true],
  [1, '/v3/lock/lock', (rng) => ({ name: key(rng), lease: int64(rng) }), true],
  [1, '/v3/lock/unlock', (rng) => ({ key: key(rng) }), false],
  [1, '/v3/election/campaign', (rng) => ({ name: key(rng), lease: int64(rng), value: value(rng) }), true],
  [1, '/v3/election/leader', (rng) => ({ name: key(rng) }), false],
  [1, '/v3/election/proclaim', (rng) => ({ leader: { name: key(rng), key: key(rng), rev: int64(rng), lease: int64(rng) }, value: value(rng) }), false],
  [1, '/v3/election/resign', (rng) => ({ leader: { name: key(rng), key: key(rng), rev: int64(rng), lease: int64(rng) } }), false],
  [1, '/v3/cluster/member/list', () => ({}), false],
  [1, '/v3/maintenance/status', () => ({}), false],
  [1, '/v3/maintenance/hash', () => ({}), false],
  [1, '/v3/maintenance/hashkv', (rng) => ({ revision: int64(rng) }), false],
];

/** Paths the fuzzer never sends: they change the cluster's membership or leadership, which
 * would stop a one-member cluster for reasons that are not bugs (etcd would stop too). */
export const EXCLUDED_PATHS = /\/(compaction|kv\/compaction|cluster\/member\/(add|remove|promote|update)|maintenance\/(transfer-leadership|alarm|defragment|snapshot))/;

function randomText(rng: Rng, max: number, alphabet = 'abc{}[]":,\\/0123456789-+eE.ntrufalsAZ \u00e9\u2028\ud800'): string {
  return Array.from({ length: rng.int(0, max) }, () => alphabet[rng.int(0, alphabet.length - 1)]).join('');
}

/** Replace a random leaf of a JSON value with a value of another type. */
function retype(rng: Rng, v: unknown, depth = 0): unknown {
  const odd = (): unknown => rng.pick<unknown>([
    null, true, -1, 1.5, 1e308, '', 'not base64!', '====', [], {}, [1, 2], { nested: { deeper: 'x' } },
    '9'.repeat(40), 'A'.repeat(rng.int(1, 3000)), { __proto__: { polluted: true } }, 'constructor',
  ]);
  if (v === null || typeof v !== 'object' || depth > 4 || rng.chance(0.15)) return odd();
  if (Array.isArray(v)) {
    if (v.length === 0) return [odd()];
    const copy = [...v];
    const i = rng.int(0, copy.length - 1);
    copy[i] = retype(rng, copy[i], depth + 1);
    return copy;
  }
  const obj = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(obj);
  if (keys.length === 0 || rng.chance(0.2)) {
    obj[rng.pick(['__proto__', 'constructor', 'prototype', 'unknown_field', 'Key', 'rangeEnd', 'createRequest'])] = odd();
    return obj;
  }
  const k = rng.pick(keys);
  obj[k] = retype(rng, obj[k], depth + 1);
  return obj;
}

function mutateText(rng: Rng, text: string): string {
  return rng.weighted<() => string>([
    [3, () => text.slice(0, rng.int(0, text.length))],
    [3, () => {
      const chars = [...text];
      for (let n = rng.int(1, 4); n > 0 && chars.length > 0; n--) chars[rng.int(0, chars.length - 1)] = String.fromCharCode(rng.int(0, 0xffff));
      return chars.join('');
    }],
    [2, () => text + randomText(rng, 40)],
    [1, () => text.repeat(rng.int(2, 5))],
    [1, () => randomText(rng, 200)],
    [1, () => '['.repeat(rng.int(1000, 200_000)) + ']'.repeat(rng.int(0, 10))],
    [1, () => `{"key":${'{"a":'.repeat(rng.int(500, 50_000))}1}`],
  ])();
}

function gatewayCase(rng: Rng, family: string, mutate: (rng: Rng, body: unknown) => string): FuzzCase {
  const [, path, make, streaming] = rng.weighted(GATEWAY.map((g) => [g[0], g] as const));
  const prefix = rng.chance(0.1) ? '/v3beta' : '/v3';
  return {
    family, method: 'POST', path: prefix + path.slice(3), headers: { 'content-type': 'application/json' },
    body: mutate(rng, make(rng)), streaming,
  };
}

function restCase(rng: Rng): FuzzCase {
  const rawKey = rng.weighted<() => string>([
    [4, () => `fz/${rng.int(0, 40)}`],
    [1, () => encodeURIComponent(randomText(rng, 20, 'abc/%?#&=+ \u00e9\u2028'))],
    [1, () => `%${rng.pick(['ff', 'zz', '0', '00', 'e9'])}${rng.pick(['', '%', '%2'])}`],
    [1, () => '../'.repeat(rng.int(1, 10)) + 'etc/passwd'],
  ])();
  const query = rng.pick(['', '?prefix', '?rev=-1', '?rev=abc', '?prefix&limit=99999999999999999999', '?lease=zz', '?prev_kv=maybe', '?keys_only&count_only', '?rev=1&wait=1']);
  return rng.weighted<() => FuzzCase>([
    [3, () => ({ family: 'rest', method: 'PUT', path: `/kv/${rawKey}${query}`, headers: rng.chance(0.3) ? { 'if-match': rng.pick(['*', '"1"', 'W/"x"', '"-3"', '']) } : {} as Record<string, string>, body: rng.chance(0.1) ? Buffer.alloc(rng.int(0, 70_000), 0xff) : `rv${rng.int(0, 99)}`, streaming: false })],
    [3, () => ({ family: 'rest', method: 'GET', path: `/kv/${rawKey}${query}`, headers: {}, body: null, streaming: false })],
    [2, () => ({ family: 'rest', method: 'DELETE', path: `/kv/${rawKey}${query}`, headers: rng.chance(0.3) ? { 'if-match': rng.pick(['*', '"2"', 'garbage']) } : {} as Record<string, string>, body: null, streaming: false })],
    [1, () => ({ family: 'rest', method: 'GET', path: `/watch/${rawKey}${query}`, headers: rng.chance(0.5) ? { 'last-event-id': rng.pick(['0', '-1', 'x', '99999999999999999999', '1']) } : {} as Record<string, string>, body: null, streaming: true })],
    [1, () => ({ family: 'rest', method: 'POST', path: `/lease${rng.pick(['?ttl=600', '?ttl=-1', '?ttl=x', '', '?ttl=1e400', '?ttl=600&id=zz', '?ttl=600&id=7'])}`, headers: {}, body: rng.pick(['', 'nope', '{}']), streaming: false })],
    [1, () => ({ family: 'rest', method: rng.pick(['GET', 'DELETE']), path: `/lease/${rng.pick(['1', 'abc', '-1', '0', 'ffffffffffffffffff'])}`, headers: {}, body: null, streaming: false })],
    [1, () => ({ family: 'rest', method: 'POST', path: `/compaction${rng.pick(['', '?rev=x', '?rev=1', '?rev=-4'])}`, headers: {}, body: null, streaming: false })],
    [1, () => ({ family: 'rest', method: 'GET', path: `/election/${rawKey}`, headers: {}, body: null, streaming: false })],
  ])();
}

function randomPathCase(rng: Rng): FuzzCase {
  const path = rng.weighted<() => string>([
    [3, () => '/' + randomText(rng, 30).replace(/[^\x21-\x7e]/g, 'q').replace(/[?#]/g, '')],
    [1, () => '/v3/' + 'a/'.repeat(rng.int(1, 200))],
    [1, () => '/v3/kv/' + 'x'.repeat(rng.int(1, 12_000))],
    [1, () => rng.pick(['/', '//v3//kv//put', '/v3/kv/put/', '/V3/KV/PUT', '/v3/kv/put?x=%zz', '/v3/watch/', '/openapi.json', '/docs', '/metrics', '/health', '/version'])],
  ])();
  return {
    family: 'path', method: rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND']), path,
    headers: {}, body: rng.chance(0.5) ? randomText(rng, 100) : null, streaming: path === '/v3/watch/',
  };
}

function headerCase(rng: Rng): FuzzCase {
  const base = gatewayCase(rng, 'headers', (_r, b) => JSON.stringify(b));
  const headers: Record<string, string> = rng.weighted<() => Record<string, string>>([
    [2, () => ({ 'content-type': rng.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '', '*/*', 'application/grpc']) })],
    [1, () => ({ authorization: rng.pick(['Bearer x', 'junk', 'a'.repeat(4000), '']) })],
    [1, () => ({ 'content-encoding': rng.pick(['gzip', 'br', 'identity', 'bogus']) })],
    [1, () => ({ 'x-junk': 'y'.repeat(rng.int(1, 20_000)) })],
    [1, () => ({ accept: rng.pick(['text/event-stream', 'application/x-protobuf', '*/*']) })],
    [1, () => ({ range: 'bytes=0-1', 'if-none-match': '*', 'x-forwarded-for': '::1, evil' })],
  ])();
  return { ...base, headers: { ...base.headers, ...headers } };
}

function outOfBoundsCase(rng: Rng, limits: { maxRequestBytes: number; maxTxnOps: number; maxKeyBytes: number }): FuzzCase {
  const body = rng.weighted<() => [string, unknown]>([
    [2, () => ['/v3/kv/put', { key: b64('fz/big'), value: b64(Buffer.alloc(limits.maxRequestBytes + rng.int(1, 1000), 0x61)) }]],
    [2, () => ['/v3/kv/txn', { success: Array.from({ length: limits.maxTxnOps + rng.int(1, 50) }, (_, i) => ({ request_put: { key: b64(`fz/ops/${i}`), value: b64('v') } })) }]],
    [2, () => ['/v3/kv/put', { key: b64('k'.repeat(limits.maxKeyBytes + rng.int(1, 5000))), value: b64('v') }]],
    [1, () => ['/v3/kv/range', { key: b64('k'.repeat(limits.maxKeyBytes + 10)) }]],
    [1, () => ['/v3/kv/txn', { success: [{ request_put: { key: b64('fz/dup'), value: b64('1') } }, { request_put: { key: b64('fz/dup'), value: b64('2') } }] }]],
    [1, () => ['/v3/kv/txn', { compare: Array.from({ length: limits.maxTxnOps + 1 }, () => ({ key: b64('fz/1'), target: 'VERSION', version: '0' })) }]],
  ])();
  return { family: 'bounds', method: 'POST', path: body[0], headers: { 'content-type': 'application/json' }, body: JSON.stringify(body[1]), streaming: false };
}

export function nextCase(rng: Rng, limits: { maxRequestBytes: number; maxTxnOps: number; maxKeyBytes: number }): FuzzCase {
  return rng.weighted<() => FuzzCase>([
    [6, () => gatewayCase(rng, 'valid', (_r, b) => JSON.stringify(b))],
    [5, () => gatewayCase(rng, 'retyped', (r, b) => JSON.stringify(retype(r, b)))],
    [4, () => gatewayCase(rng, 'mutated', (r, b) => mutateText(r, JSON.stringify(b)))],
    [1, () => gatewayCase(rng, 'camelCase', (_r, b) => JSON.stringify(b).replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()))],
    [3, () => restCase(rng)],
    [2, () => randomPathCase(rng)],
    [2, () => headerCase(rng)],
    [1, () => outOfBoundsCase(rng, limits)],
  ])();
}
