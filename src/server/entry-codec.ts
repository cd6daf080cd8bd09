/**
 * The bytes of a Raft log entry Cairn proposes: a request id (so the member that proposed it can
 * answer the waiting client when it applies) and the request itself. JSON with tagged bigints
 * (`{"$n":"…"}`) and bytes (`{"$b":"base64"}`): self-describing, versioned, and exact for 64-bit
 * numbers and binary keys. The first byte is the format version; an unknown version is refused.
 *
 * Must never lose precision or accept an entry it cannot read exactly.
 */
import type { ServerRequest } from './requests.js';
import type { MemberAttributes } from './membership.js';

export const ENTRY_FORMAT_VERSION = 1;

export type LogRequest =
  | ServerRequest
  | { memberAttrs: MemberAttributes }
  | { memberUpdate: { id: bigint; peerUrls: string[] } };

export interface LogEntryData {
  /** Proposer's member id and a sequence: unique across the cluster and across restarts. */
  id: string;
  req: LogRequest;
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (value instanceof Uint8Array) return { $b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (typeof o.$n === 'string') return BigInt(o.$n);
    if (typeof o.$b === 'string') return new Uint8Array(Buffer.from(o.$b, 'base64'));
  }
  return value;
}

/** Buffer.toJSON would run before the replacer sees a Buffer: present plain Uint8Arrays. */
function plainBytes(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(plainBytes);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plainBytes(x);
    return out;
  }
  return v;
}

export function encodeLogEntry(e: LogEntryData): Uint8Array {
  const text = JSON.stringify(plainBytes(e), replacer);
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = ENTRY_FORMAT_VERSION;
  body.copy(out, 1);
  return out;
}

export function decodeLogEntry(data: Uint8Array): LogEntryData {
  if (data.length === 0 || data[0] !== ENTRY_FORMAT_VERSION) {
    throw new Error(`log entry format ${data[0]} is not one this Cairn reads (${ENTRY_FORMAT_VERSION})`);
  }
  const text = Buffer.from(data.buffer, data.byteOffset + 1, data.byteLength - 1).toString('utf8');
  return JSON.parse(text, reviver) as LogEntryData;
}
