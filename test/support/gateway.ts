/**
 * A small client for etcd's v3 JSON gateway (as served by etcd and by cairn): POST a JSON body,
 * get back the status and the parsed JSON; base64 helpers for keys and values.
 *
 * Owns one keep-alive connection pool per origin. Must never interpret responses: tests compare
 * what the server said.
 */
import { Agent, request } from 'undici';

export interface GwResponse {
  readonly status: number;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: any;
  readonly text: string;
}

/** Bounds on the test client's sockets and waits; tests should fail, not hang. */
const gwConnectionsPerOrigin = 16;
const gwTimeoutMs = 15_000;
const agent = new Agent({
  connections: gwConnectionsPerOrigin,
  headersTimeout: gwTimeoutMs,
  bodyTimeout: gwTimeoutMs,
});

/**
 * POST `body` (an object to serialise, or a raw string sent as is) to `url + path`.
 * `body === undefined` sends an empty body; pass `{ method: 'GET' }` for /health and /version.
 */
export async function gw(
  url: string, path: string, body?: unknown, opts: { method?: 'GET' | 'POST' } = {},
): Promise<GwResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await request(`${url}${path}`, {
    method: opts.method ?? 'POST',
    body: payload,
    headers: payload === undefined ? {} : { 'content-type': 'application/json' },
    dispatcher: agent,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, text };
}

/** Standard (not URL-safe) base64 of a string's UTF-8 bytes, or of raw bytes. */
export function b64(data: string | Uint8Array): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).toString('base64');
}

/** Bytes of a base64 field; an absent field (etcd omits empty bytes) is empty. */
export function unb64(field: string | undefined): Buffer {
  return Buffer.from(field ?? '', 'base64');
}

/** A base64 field decoded as UTF-8 text. */
export function unb64s(field: string | undefined): string {
  return unb64(field).toString('utf8');
}

/** etcd's range_end for "every key with this prefix" (the prefix with its last byte + 1). */
export function prefixEnd(prefix: string | Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(typeof prefix === 'string' ? Buffer.from(prefix, 'utf8') : prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = bytes.slice(0, i + 1);
      end[i] += 1;
      return end;
    }
  }
  return Uint8Array.of(0); // all 0xff: no upper bound, like etcd's "from key"
}
