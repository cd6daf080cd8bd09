/**
 * Concurrent writers for process-level durability tests: `connections` closed loops, each
 * putting fresh keys through its own keep-alive connection, recording every acknowledgement
 * (HTTP 200 with the put's revision) and every request that ended without one.
 *
 * Owns its connection pool. Must never retry a write (a retried put could be acknowledged
 * twice under different revisions) and never let a loop run unbounded (`maxWrites`).
 */
import { Pool } from 'undici';
import { b64 } from '../support/gateway.js';

export interface Ack {
  readonly key: string;
  readonly value: string;
  readonly revision: bigint;
}

export interface WriteOutcome {
  readonly acks: Ack[];
  /** Every key a put was sent for, with its value (acknowledged or not). */
  readonly attempted: Map<string, string>;
  /** Requests that ended in a socket error (e.g. the server was killed). Every one was sent
   * before `shouldStop` turned true: the loops check it before each put. */
  readonly failed: Array<{ key: string; error: string; code?: string }>;
  /** Answers other than 200. */
  readonly refused: Array<{ key: string; status: number; body: string }>;
}

export interface WriterOptions {
  url: string;
  keyPrefix: string;
  connections: number;
  /** Upper bound on puts sent in all, so a loop cannot run away if the stop never comes. */
  maxWrites: number;
  /** Called after each acknowledgement, with the count so far. */
  onAck?: (ackCount: number) => void;
  /** Checked before each new put; true stops the loops (in-flight puts still finish). */
  shouldStop: () => boolean;
}

const requestTimeoutMs = 10_000;

export async function runWriters(o: WriterOptions): Promise<WriteOutcome> {
  const pool = new Pool(o.url, {
    connections: o.connections,
    pipelining: 1,
    headersTimeout: requestTimeoutMs,
    bodyTimeout: requestTimeoutMs,
  });
  const out: WriteOutcome = { acks: [], attempted: new Map(), failed: [], refused: [] };
  let next = 0;
  const loop = async (): Promise<void> => {
    while (!o.shouldStop() && next < o.maxWrites) {
      const i = next++;
      const key = `${o.keyPrefix}${String(i).padStart(6, '0')}`;
      const value = `value-${i}-${key.length}-${'x'.repeat(i % 17)}`;
      out.attempted.set(key, value);
      const body = JSON.stringify({ key: b64(key), value: b64(value) });
      try {
        const res = await pool.request({ path: '/v3/kv/put', method: 'POST', body });
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          out.refused.push({ key, status: res.statusCode, body: text });
          continue;
        }
        out.acks.push({ key, value, revision: BigInt(JSON.parse(text).header.revision) });
        o.onAck?.(out.acks.length);
      } catch (e) {
        out.failed.push({ key, error: (e as Error).message, code: (e as NodeJS.ErrnoException).code });
        return; // this connection is gone; do not retry
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.connections }, loop));
  } finally {
    await pool.destroy();
  }
  return out;
}
