/**
 * Streams one snapshot to one peer: the MsgSnap frame, then the host's data re-cut into
 * frames of at most snapshotChunkBytes, then a SHA-256 trailer (layout in wire.ts).
 *
 * Owns: one upload on its own connection (so a large snapshot never holds up the message
 * pipeline), and its watchdog. Must never: buffer more than one chunk, open the host's data
 * before the upload starts, leave the data source open after it ends, or wait forever: an
 * upload that makes no progress for snapshotIdleTimeoutMs, or whose answer takes longer than
 * snapshotResponseTimeoutMs after the last byte, is aborted.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { encodeMessage, type Message } from '../raft/index.js';
import type { TransportLimits } from './limits.js';
import { classifyStatus, createPeerClient, MAX_ERROR_TEXT_BYTES, readCappedText, type Outcome } from './peer-client.js';
import type { PeerTlsOptions } from './tls.js';
import { frameHeader, PEER_PROTOCOL_VERSION, ROUTE_SNAPSHOT, SNAPSHOT_DIGEST } from './wire.js';

/** What the host gives to stream a snapshot's data: bytes in order, any chunk sizes. */
export type SnapshotData = AsyncIterable<Uint8Array> | Readable;

export interface SnapshotUpload {
  readonly url: string;
  readonly tls: PeerTlsOptions | null;
  readonly limits: TransportLimits;
  readonly headers: Record<string, string>;
  readonly message: Message;
  readonly openData: () => SnapshotData | Promise<SnapshotData>;
  readonly signal: AbortSignal;
  readonly nowMs: () => number;
}

export interface SnapshotResult {
  readonly outcome: Outcome | null;
  /** Data bytes sent (not counting framing). */
  readonly dataBytes: number;
  readonly error: string;
}

interface Progress {
  atMs: number;
  dataBytes: number;
  uploaded: boolean;
}

/** The MsgSnap header: [version][length u32be][frame]. */
function snapshotHead(message: Message): Buffer {
  const frame = encodeMessage(message);
  return Buffer.concat([Buffer.from([PEER_PROTOCOL_VERSION]), frameHeader(frame.length), frame]);
}

async function* snapshotBody(up: SnapshotUpload, progress: Progress): AsyncGenerator<Buffer> {
  yield snapshotHead(up.message);
  const hash = createHash(SNAPSHOT_DIGEST);
  const source = await up.openData();
  try {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let pos = 0; pos < bytes.length; pos += up.limits.snapshotChunkBytes) {
        const piece = bytes.subarray(pos, pos + up.limits.snapshotChunkBytes);
        progress.dataBytes += piece.length;
        if (progress.dataBytes > up.limits.maxSnapshotBytes) {
          throw new RangeError(`snapshot data larger than maxSnapshotBytes (${up.limits.maxSnapshotBytes})`);
        }
        hash.update(piece);
        progress.atMs = up.nowMs();
        yield frameHeader(piece.length);
        yield piece;
      }
    }
  } finally {
    if (source instanceof Readable) source.destroy();
  }
  yield Buffer.concat([frameHeader(0), hash.digest()]);
  progress.uploaded = true;
  progress.atMs = up.nowMs();
}

/** Aborts `controller` when the upload stalls or its answer is late. */
function startWatchdog(up: SnapshotUpload, progress: Progress, controller: AbortController): NodeJS.Timeout {
  const { snapshotIdleTimeoutMs, snapshotResponseTimeoutMs } = up.limits;
  const everyMs = Math.max(10, Math.min(1_000, Math.floor(snapshotIdleTimeoutMs / 4)));
  const timer = setInterval(() => {
    const idleMs = up.nowMs() - progress.atMs;
    const limitMs = progress.uploaded ? snapshotResponseTimeoutMs : snapshotIdleTimeoutMs;
    if (idleMs > limitMs) {
      controller.abort(new Error(progress.uploaded
        ? `no answer within ${snapshotResponseTimeoutMs} ms after the snapshot was sent`
        : `snapshot upload made no progress for ${snapshotIdleTimeoutMs} ms`));
    }
  }, everyMs);
  timer.unref();
  return timer;
}

/** Sends the snapshot; never throws (the outcome says what happened). */
export async function uploadSnapshot(up: SnapshotUpload): Promise<SnapshotResult> {
  const progress: Progress = { atMs: up.nowMs(), dataBytes: 0, uploaded: false };
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(up.signal.reason);
  up.signal.addEventListener('abort', onOuterAbort, { once: true });
  const watchdog = startWatchdog(up, progress, controller);
  // headersTimeout 0: the upload may take long; the watchdog bounds it instead.
  const client = createPeerClient(up.url, up.tls, up.limits, {
    pipelining: 1, headersTimeoutMs: 0, bodyTimeoutMs: up.limits.snapshotResponseTimeoutMs,
  });
  try {
    const body = Readable.from(snapshotBody(up, progress), { objectMode: false });
    const res = await client.request({
      path: ROUTE_SNAPSHOT, method: 'POST', headers: up.headers, body, signal: controller.signal,
    });
    const outcome = classifyStatus(res.statusCode, res.headers);
    const text = await readCappedText(res.body, MAX_ERROR_TEXT_BYTES);
    return { outcome, dataBytes: progress.dataBytes, error: outcome.kind === 'ok' ? '' : text };
  } catch (e) {
    const reason = controller.signal.aborted ? controller.signal.reason : e;
    return { outcome: null, dataBytes: progress.dataBytes, error: (reason as Error)?.message ?? String(reason) };
  } finally {
    clearInterval(watchdog);
    up.signal.removeEventListener('abort', onOuterAbort);
    client.destroy().catch(() => {});
  }
}
