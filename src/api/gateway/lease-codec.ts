/**
 * Translation of etcd's lease messages on the JSON gateway. etcd's JSON names here are `ID`,
 * `TTL`, `grantedTTL` and `keys`; IDs and TTLs are int64 as strings on output and accepted as
 * numbers or strings on input; zero values are omitted (a keep-alive for a lost lease has no
 * `TTL`; an unknown lease's timetolive has `TTL` "-1" and no `grantedTTL`).
 *
 * Pure translation: no server calls, no HTTP.
 */
import { encodeBase64 } from './base64.js';
import { CairnError } from '../../errors/errors.js';
import { goJsonKind } from './json-body.js';
import { boolIn, int64In, type Json } from './kv-codec.js';
import type { TimeToLiveResult } from '../../server/lease-service.js';

const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

export function leaseGrantIn(body: unknown): { ttlSec: bigint; id: bigint } {
  const b = obj(body);
  return { ttlSec: int64In(b.TTL), id: int64In(b.ID) };
}

export function leaseIdIn(body: unknown): bigint {
  return int64In(obj(body).ID);
}

/**
 * An int64 field of a stream message, which no schema has checked: Go's decoder messages for
 * a string that is not a number and for a value of another JSON type.
 */
export function int64Checked(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'string') {
    const bad = [...v].find((c) => !/[0-9-]/.test(c));
    if (bad !== undefined || !/^-?[0-9]+$/.test(v)) throw new CairnError('BadRequest', `invalid character '${bad ?? v[0] ?? '"'}' looking for beginning of value`);
    return int64In(v);
  }
  if (typeof v === 'number' && Number.isInteger(v)) return int64In(v);
  const shown = typeof v === 'number' ? `number ${v}` : goJsonKind(v);
  throw new CairnError('BadRequest', `json: cannot unmarshal ${shown} into Go value of type int64`);
}

export function timeToLiveIn(body: unknown): { id: bigint; keys: boolean } {
  const b = obj(body);
  return { id: int64In(b.ID), keys: boolIn(b.keys) };
}

function withInt(o: Json, name: string, v: bigint): Json {
  if (v !== 0n) o[name] = v.toString();
  return o;
}

export function leaseGrantOut(header: Json, r: { id: bigint; ttlSec: bigint }): Json {
  return withInt(withInt({ header }, 'ID', r.id), 'TTL', r.ttlSec);
}

export function leaseKeepAliveOut(header: Json, r: { id: bigint; ttlSec: bigint }): Json {
  return withInt(withInt({ header }, 'ID', r.id), 'TTL', r.ttlSec);
}

export function timeToLiveOut(header: Json, r: TimeToLiveResult): Json {
  const o = withInt(withInt({ header }, 'ID', r.id), 'TTL', r.ttlSec);
  withInt(o, 'grantedTTL', r.grantedTtlSec);
  if (r.keys.length > 0) o.keys = r.keys.map(encodeBase64);
  return o;
}

export function leasesOut(header: Json, ids: bigint[]): Json {
  const o: Json = { header };
  if (ids.length > 0) o.leases = ids.map((id) => ({ ID: id.toString() }));
  return o;
}
