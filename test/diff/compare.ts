/**
 * Compares one response of the server under test with the reference's (etcd 3.4): the HTTP
 * status and the whole JSON body, minus what legitimately differs between two clusters.
 *
 * Owns the list of ignored fields, each with its reason. Must never ignore a field without
 * saying why here.
 */
import type { GwResponse } from '../support/gateway.js';
import type { DiffOp } from './kv-ops.js';

/**
 * Header fields that identify a cluster, not a result: cluster_id and member_id are derived from
 * URLs, the cluster token and the clock; raft_term counts elections, an implementation detail
 * of how the member became leader. `revision` is compared.
 */
const ignoredHeaderFields = ['cluster_id', 'member_id', 'raft_term'];

/** A copy of `value` without the ignored header fields, at any depth (txn results nest headers). */
export function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'header' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const header = { ...(v as Record<string, unknown>) };
      for (const f of ignoredHeaderFields) delete header[f];
      out[k] = header;
    } else {
      out[k] = normalise(v);
    }
  }
  return out;
}

/** The shape of a decoder error, without the decoder's own wording (see DiffOp.relax). */
function decodeErrorShape(body: unknown): unknown {
  if (body === null || typeof body !== 'object') return body;
  const b = body as Record<string, unknown>;
  return {
    code: b.code,
    errorIsText: typeof b.error === 'string' && b.error.length > 0,
    messageEqualsError: b.message === b.error,
    fields: Object.keys(b).sort(),
  };
}

/** The first path where two JSON values differ (object key order does not matter), or null. */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return `${path} length ${a.length} vs ${b.length}`;
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      if (!(k in a)) return `${path}.${k} missing in cairn`;
      if (!(k in b)) return `${path}.${k} missing in reference`;
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

/** null when the responses agree, else a description of the first difference. */
export function compareResponses(op: DiffOp, subject: GwResponse, reference: GwResponse): string | null {
  if (subject.status !== reference.status) return `HTTP status ${subject.status} vs ${reference.status}`;
  if ((subject.json === undefined) !== (reference.json === undefined)) return 'one body is not JSON';
  if (subject.json === undefined) return subject.text === reference.text ? null : 'non-JSON bodies differ';
  if (op.relax === 'decode-error' && reference.status !== 200) {
    return firstDifference(decodeErrorShape(subject.json), decodeErrorShape(reference.json));
  }
  return firstDifference(normalise(subject.json), normalise(reference.json));
}
