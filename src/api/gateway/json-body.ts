/**
 * Reading a gateway request body the way etcd's grpc-gateway does: any Content-Type, an empty
 * body (or `null`) means `{}`, text after the first JSON value is ignored, and camelCase field
 * names are accepted beside the proto's snake_case. Syntax errors come back worded like Go's
 * encoding/json, because clients and scripts see those texts from etcd.
 *
 * Never throws anything but CairnError('BadRequest').
 */
import { CairnError } from '../../errors/errors.js';

const TRAILING = /after JSON at position (\d+)/;

export function parseGatewayJson(raw: string): unknown {
  let value: unknown;
  const text = raw.trim();
  if (text.length === 0) return {};
  try {
    value = JSON.parse(text);
  } catch (e) {
    value = parseLeadingValue(text, e as Error);
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CairnError('BadRequest', `json: cannot unmarshal ${goJsonKind(value)} into Go value of type map[string]json.RawMessage`);
  }
  return normaliseFieldNames(value);
}

function parseLeadingValue(text: string, first: Error): unknown {
  const m = TRAILING.exec(first.message);
  if (m) {
    try {
      return JSON.parse(text.slice(0, Number(m[1])));
    } catch {
      // fall through to the syntax error of the whole text
    }
  }
  throw new CairnError('BadRequest', goSyntaxError(text, first));
}

function goSyntaxError(text: string, e: Error): string {
  if (/end of JSON input|Unterminated/.test(e.message)) return 'unexpected EOF';
  const pos = /position (\d+)/.exec(e.message);
  const at = pos ? Number(pos[1]) : 0;
  const ch = text[at] ?? '';
  return `invalid character '${ch}' looking for beginning of value`;
}

export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // 'string' | 'number'
}

const LOWER_CAMEL = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$/;
/** Proto field names that are camelCase themselves (etcdserverpb's Member and friends). */
const CANONICAL_CAMEL = new Set(['peerURLs', 'clientURLs', 'isLearner', 'targetID', 'hashRevision', 'memberID']);

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** Renames lowerCamel keys to snake_case, recursively; an explicit snake_case key wins. */
export function normaliseFieldNames(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normaliseFieldNames);
  if (v === null || typeof v !== 'object') return v;
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) {
    const val = src[k];
    const nested = val !== null && typeof val === 'object' ? normaliseFieldNames(val) : val;
    if (LOWER_CAMEL.test(k) && !CANONICAL_CAMEL.has(k)) {
      const s = snake(k);
      if (!(s in src)) out[s] = nested;
    } else {
      out[k] = nested;
    }
  }
  return out;
}
