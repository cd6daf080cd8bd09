/**
 * The message pipeline to one peer: a bounded queue, batches cut from it, at most
 * maxInflightRequestsPerPeer of them pipelined on one keep-alive connection, and reconnect
 * with exponential backoff after a failure.
 *
 * Owns: one peer's connection state (active or not, consecutive failures, next attempt time)
 * and counters. Must never: block or throw into `enqueue` callers, hold more than its limits,
 * or retry a failed batch (Raft resends what still matters; a retried batch could only arrive
 * later than newer ones).
 *
 * ORDER: all batches to a peer go, in queue order, over one HTTP/1.1 connection, and the
 * receiver delivers the batches of one connection in arrival order, so messages reach the
 * peer's handler in the order they were sent, with gaps where some were lost. Across a
 * reconnect there is no guarantee: a batch written to a connection we gave up on may still
 * be read by a peer that was only paused. Raft tolerates both loss and reordering.
 *
 * TIME: the monotonic clock only decides when to try again; if timers fire late (a starved
 * process), the next send() notices the backoff has passed and tries anyway.
 */
import type { Client, Dispatcher } from 'undici';
import type { NodeId } from '../raft/index.js';
import type { TransportLimits } from './limits.js';
import { RateLimitedLog, type TransportLogger } from './logger.js';
import { BoundedFrameQueue } from './bounded-queue.js';
import { classifyStatus, createPeerClient, MAX_ERROR_TEXT_BYTES, readCappedText, sentAtMostOnce, type Outcome } from './peer-client.js';
import type { PeerTlsOptions } from './tls.js';
import {
  BATCH_CONTENT_TYPE, encodeBatch, FRAME_HEADER_BYTES, HEADER_TO, idText, ROUTE_MESSAGES,
} from './wire.js';

/** What every sender shares with the transport that owns it. */
export interface SenderContext {
  readonly memberId: NodeId;
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  readonly tls: PeerTlsOptions | null;
  /** Identity headers sent with every request (cluster, sender, protocol, version, URLs). */
  readonly baseHeaders: Readonly<Record<string, string>>;
  readonly nowMs: () => number;
  /** Called on each failure (not per lost message); the transport routes it to the host. */
  readonly peerFailed: (peer: NodeId, outcome: Outcome | null) => void;
}

export interface PeerSenderStats {
  readonly active: boolean;
  readonly url: string;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  readonly inflightRequests: number;
  readonly sentMessages: number;
  readonly sentBatches: number;
  /** Dropped before sending: queue full, or one message larger than maxBatchBytes. */
  readonly droppedMessages: number;
  /** In batches that failed or were refused. */
  readonly lostMessages: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
}

const LOG_INTERVAL_MS = 10_000;
/** ±20% spread on each backoff, so members that lost each other do not retry in lockstep. */
const BACKOFF_JITTER = 0.2;

export class PeerSender {
  private urls: readonly string[];
  private urlIndex = 0;
  private client: Client | null = null;
  /** `client`'s requests, never re-sent by undici on a new connection (see sentAtMostOnce). */
  private requests: Dispatcher | null = null;
  /** Bumped when a connection is given up; answers from older epochs change no state. */
  private epoch = 0;
  private inflight = 0;
  private active = false;
  private consecutiveFailures = 0;
  private nextAttemptAtMs = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly queue: BoundedFrameQueue;
  private readonly headers: Record<string, string>;
  private readonly rateLog = new RateLimitedLog(LOG_INTERVAL_MS);
  private counters = { sentMessages: 0, sentBatches: 0, lostMessages: 0, failures: 0, oversized: 0 };

  constructor(readonly id: NodeId, urls: readonly string[], private readonly ctx: SenderContext) {
    this.urls = urls;
    const { limits } = ctx;
    this.queue = new BoundedFrameQueue(limits.maxQueuedMessagesPerPeer, limits.maxQueuedBytesPerPeer);
    this.headers = { ...ctx.baseHeaders, [HEADER_TO]: idText(id), 'content-type': BATCH_CONTENT_TYPE };
  }

  get currentUrl(): string {
    return this.urls[this.urlIndex];
  }

  /** Queues one encoded message; the caller calls flush() once per send() call. */
  enqueue(frame: Uint8Array): void {
    if (1 + FRAME_HEADER_BYTES + frame.length > this.ctx.limits.maxBatchBytes) {
      this.counters.oversized++;
      this.rateLog.maybe('oversized', (suppressed) => this.ctx.logger.error(
        { peer: idText(this.id), bytes: frame.length, maxBatchBytes: this.ctx.limits.maxBatchBytes, suppressed },
        'dropped a raft message larger than maxBatchBytes'));
      return;
    }
    const dropped = this.queue.push(frame);
    if (dropped > 0) {
      this.rateLog.maybe('queue-full', (suppressed) => this.ctx.logger.warn(
        { peer: idText(this.id), dropped: this.queue.dropped, suppressed },
        'peer queue full: dropping oldest raft messages'));
    }
  }

  /** Starts as many batches as the pipeline allows. */
  flush(): void {
    if (this.closed) return;
    // Until a request succeeds, one at a time: no point filling a pipe to a dead peer.
    const maxInflight = this.active ? this.ctx.limits.maxInflightRequestsPerPeer : 1;
    while (this.inflight < maxInflight && this.queue.length > 0) {
      const waitMs = this.nextAttemptAtMs - this.ctx.nowMs();
      if (waitMs > 0) {
        this.scheduleRetry(waitMs);
        return;
      }
      if (this.client === null || this.requests === null) {
        this.client = createPeerClient(this.currentUrl, this.ctx.tls, this.ctx.limits, {
          pipelining: this.ctx.limits.maxInflightRequestsPerPeer,
          headersTimeoutMs: this.ctx.limits.requestTimeoutMs,
          bodyTimeoutMs: this.ctx.limits.requestTimeoutMs,
        });
        this.requests = sentAtMostOnce(this.client);
      }
      this.dispatch(this.requests, this.takeBatch());
    }
  }

  updateUrls(urls: readonly string[]): void {
    const current = this.currentUrl;
    this.urls = urls;
    const keep = urls.indexOf(current);
    if (keep >= 0) {
      this.urlIndex = keep;
      return;
    }
    this.urlIndex = 0;
    this.dropConnection();
    this.flush();
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.dropConnection();
  }

  stats(): PeerSenderStats {
    return {
      active: this.active,
      url: this.currentUrl,
      queuedMessages: this.queue.length,
      queuedBytes: this.queue.byteLength,
      inflightRequests: this.inflight,
      sentMessages: this.counters.sentMessages,
      sentBatches: this.counters.sentBatches,
      droppedMessages: this.queue.dropped + this.counters.oversized,
      lostMessages: this.counters.lostMessages,
      failures: this.counters.failures,
      consecutiveFailures: this.consecutiveFailures,
    };
  }

  private takeBatch(): { body: Buffer; count: number } {
    const frames: Uint8Array[] = [];
    let frameBytes = 0;
    const max = this.ctx.limits.maxBatchBytes;
    while (this.queue.length > 0) {
      const next = this.queue.peekLength();
      const size = 1 + (frames.length + 1) * FRAME_HEADER_BYTES + frameBytes + next;
      if (frames.length > 0 && size > max) break;
      frames.push(this.queue.shift() as Uint8Array);
      frameBytes += next;
    }
    return { body: encodeBatch(frames, frameBytes), count: frames.length };
  }

  private dispatch(client: Dispatcher, batch: { body: Buffer; count: number }): void {
    const epoch = this.epoch;
    this.inflight++;
    client.request({
      path: ROUTE_MESSAGES, method: 'POST', headers: this.headers, body: batch.body,
      // Both needed for undici to pipeline a POST: Raft messages may be lost or repeated.
      idempotent: true, blocking: false,
    }).then(async (res) => {
      const outcome = classifyStatus(res.statusCode, res.headers);
      const text = outcome.kind === 'ok' ? '' : await readCappedText(res.body, MAX_ERROR_TEXT_BYTES);
      if (outcome.kind === 'ok') await res.body.dump();
      this.answered(epoch, batch.count, outcome, text);
    }).catch((err: Error) => {
      this.counters.lostMessages += batch.count;
      this.failed(epoch, null, err.message);
    }).finally(() => {
      this.inflight--;
      this.flush();
    });
  }

  private answered(epoch: number, count: number, outcome: Outcome, text: string): void {
    if (outcome.kind === 'ok') {
      this.counters.sentMessages += count;
      this.counters.sentBatches++;
      if (epoch === this.epoch) this.succeeded();
      return;
    }
    this.counters.lostMessages += count;
    if (outcome.kind === 'dropped') {
      this.rateLog.maybe(`refused-${outcome.status}`, (suppressed) => this.ctx.logger.error(
        { peer: idText(this.id), status: outcome.status, answer: text, suppressed }, 'peer refused a raft message batch'));
      return;
    }
    this.failed(epoch, outcome, text);
  }

  private succeeded(): void {
    this.consecutiveFailures = 0;
    this.nextAttemptAtMs = 0;
    if (!this.active) {
      this.active = true;
      this.ctx.logger.info({ peer: idText(this.id), url: this.currentUrl }, 'peer became active');
    }
  }

  /** One failure per connection: later errors of the same epoch are the same failure. */
  private failed(epoch: number, outcome: Outcome | null, why: string): void {
    if (epoch !== this.epoch || this.closed) return;
    const url = this.currentUrl;
    this.dropConnection();
    // A network error or a URL now serving another member: try the peer's next URL.
    if (outcome === null || (outcome.kind === 'failed' && outcome.reason === 'misdirected')) {
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    }
    this.counters.failures++;
    this.consecutiveFailures++;
    const backoffMs = this.backoffMs();
    this.nextAttemptAtMs = this.ctx.nowMs() + backoffMs;
    const fields = { peer: idText(this.id), url, status: outcome?.kind === 'failed' ? outcome.status : undefined, why, backoffMs };
    if (this.active) this.ctx.logger.warn(fields, 'peer became inactive');
    else this.rateLog.maybe('failed', (suppressed) => this.ctx.logger.debug({ ...fields, suppressed }, 'peer still unreachable'));
    this.active = false;
    this.ctx.peerFailed(this.id, outcome);
    if (this.queue.length > 0) this.scheduleRetry(backoffMs);
  }

  private backoffMs(): number {
    const { backoffInitialMs, backoffMaxMs } = this.ctx.limits;
    const exponent = Math.min(this.consecutiveFailures - 1, 30);
    const base = Math.min(backoffMaxMs, backoffInitialMs * 2 ** exponent);
    return Math.max(1, Math.round(base * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * Math.random())));
  }

  private scheduleRetry(delayMs: number): void {
    if (this.retryTimer !== null || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flush();
    }, delayMs);
    this.retryTimer.unref();
  }

  /** Gives up the connection: every request still on it fails (and is counted lost). */
  private dropConnection(): void {
    this.epoch++;
    const client = this.client;
    this.client = null;
    this.requests = null;
    if (client !== null) client.destroy().catch(() => {});
  }
}
