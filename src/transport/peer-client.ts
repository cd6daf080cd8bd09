/**
 * undici plumbing shared by the senders: building a Client for a peer URL, reading a bounded
 * response body, and classifying a receiver's answer.
 *
 * Owns: connection options (keep-alive, pipelining, timeouts, TLS) and what each status code
 * of the peer protocol means to a sender. Must never: read a response body without a bound.
 */
import { Client, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import type { TransportLimits } from './limits.js';
import { clientTlsOptions, type PeerTlsOptions } from './tls.js';
import { HEADER_CLUSTER_ID, parseIdText, STATUS } from './wire.js';

/** Keep idle peer connections this long; below the server's idle timeout so the client,
 * not the server, closes an idle connection (no request races a server-side close). */
const CLIENT_KEEP_ALIVE_MS = 30_000;
/** Most bytes of an error answer kept for the log line. */
export const MAX_ERROR_TEXT_BYTES = 1024;

export interface ClientOptions {
  readonly pipelining: number;
  /** Response headers must arrive within this long (0 = no limit; the caller watches). */
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

export function createPeerClient(url: string, tls: PeerTlsOptions | null, limits: TransportLimits, opts: ClientOptions): Client {
  const https = url.startsWith('https:');
  return new Client(url, {
    pipelining: opts.pipelining,
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.bodyTimeoutMs,
    keepAliveTimeout: CLIENT_KEEP_ALIVE_MS,
    keepAliveMaxTimeout: CLIENT_KEEP_ALIVE_MS,
    connect: { timeout: limits.connectTimeoutMs, ...(https ? clientTlsOptions(tls) : {}) },
  });
}

/**
 * The client's requests, each written to a connection at most once. undici re-sends the
 * pipelined requests behind the one that failed when a connection closes (it retries requests
 * marked idempotent, which pipelining a POST requires), yet the peer may have read and stepped
 * them already: a forwarded proposal (MsgProp) stepped twice is appended twice, and the write
 * is applied twice at two revisions (found by the chaos test). A second start fails the request
 * instead; the sender counts it lost, and Raft resends what still matters.
 */
export function sentAtMostOnce(client: Client): Dispatcher {
  return client.compose((dispatch) => (opts, handler) => {
    let starts = 0;
    const once = new Proxy(handler, {
      get(target, prop) {
        if (prop === 'onRequestStart') {
          return (controller: Dispatcher.DispatchController, context: unknown) => {
            if (++starts > 1) {
              controller.abort(new Error('peer request not re-sent on a new connection'));
              return;
            }
            return target.onRequestStart?.(controller, context);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return dispatch(opts, once);
  });
}

/** Reads at most `maxBytes` of a body as text and discards the rest. */
export async function readCappedText(body: Readable & AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < maxBytes) {
      const piece = chunk.subarray(0, maxBytes - size);
      parts.push(piece);
      size += piece.length;
    }
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Reads a whole body, refusing more than `maxBytes`. */
export async function readCappedBytes(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new RangeError(`response larger than ${maxBytes} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/**
 * What a sender does with an answer:
 *  ok          — delivered.
 *  dropped     — this request was bad (400, 413): drop it, log, keep the connection going.
 *  failed      — the peer cannot take our traffic now: drop the connection, back off, report
 *                unreachable. Also the kind for the refusals below, which carry more.
 */
export type Outcome =
  | { kind: 'ok' }
  | { kind: 'dropped'; status: number }
  | { kind: 'failed'; status: number; reason: 'clusterMismatch'; theirClusterId: bigint | null }
  | { kind: 'failed'; status: number; reason: 'removed' | 'misdirected' | 'forbidden' | 'busy' | 'other' };

export function classifyStatus(status: number, headers: Record<string, string | string[] | undefined>): Outcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  switch (status) {
    case STATUS.malformed:
    case STATUS.tooLarge:
      return { kind: 'dropped', status };
    case STATUS.clusterMismatch:
      return { kind: 'failed', status, reason: 'clusterMismatch', theirClusterId: parseIdText(headers[HEADER_CLUSTER_ID]) };
    case STATUS.removed: return { kind: 'failed', status, reason: 'removed' };
    case STATUS.misdirected: return { kind: 'failed', status, reason: 'misdirected' };
    case STATUS.forbidden: return { kind: 'failed', status, reason: 'forbidden' };
    case STATUS.busy: return { kind: 'failed', status, reason: 'busy' };
    default: return { kind: 'failed', status, reason: 'other' };
  }
}
