/**
 * The `propose(request) → outcome` seam every write passes through. The single-node proposer
 * here batches the writes that arrive in one event-loop turn into one store transaction and
 * answers them only once that transaction is durable (fsync). The cluster issue replaces it
 * with a Raft-backed proposer; callers do not change.
 *
 * Must never answer a write before it is on disk, and never let the queue grow without bound.
 */
import { CairnError } from '../errors/errors.js';
import type { Event, WriteOutcome, WriteRequest } from '../mvcc/types.js';
import type { MvccStore } from '../mvcc/store.js';
import type { ServerMetrics } from './metrics.js';

export interface Proposer {
  propose(write: WriteRequest): Promise<WriteOutcome>;
  /** Resolves once every write proposed before the call is applied (a linearizable read point). */
  readBarrier(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalProposerLimits {
  /** Writes waiting for their batch; past this, new writes get "too many requests". */
  maxPendingProposals: number;
  /** Writes applied in one store transaction. */
  maxBatchWrites: number;
}

export const DEFAULT_PROPOSER_LIMITS: LocalProposerLimits = {
  maxPendingProposals: 20_000,
  maxBatchWrites: 2_000,
};

interface Pending {
  write: WriteRequest;
  resolve: (o: WriteOutcome) => void;
  reject: (e: Error) => void;
}

export type AppliedListener = (events: Event[], revision: bigint) => void;

export class LocalProposer implements Proposer {
  private queue: Pending[] = [];
  private flushScheduled = false;
  private inFlight = new Set<Promise<void>>();
  private closed = false;
  private appliedIndex: bigint;

  constructor(
    private readonly store: MvccStore,
    private readonly metrics: ServerMetrics,
    private readonly onApplied: AppliedListener,
    private readonly limits: LocalProposerLimits = DEFAULT_PROPOSER_LIMITS,
  ) {
    this.appliedIndex = store.appliedIndex;
  }

  propose(write: WriteRequest): Promise<WriteOutcome> {
    if (this.closed) return Promise.reject(new CairnError('Stopped'));
    if (this.queue.length >= this.limits.maxPendingProposals) {
      return Promise.reject(new CairnError('TooManyRequests'));
    }
    return new Promise<WriteOutcome>((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      this.metrics.proposalsPending.inc();
      this.scheduleFlush();
    });
  }

  async readBarrier(): Promise<void> {
    // Writes are applied before they are acknowledged, and reads see every applied write:
    // a read that starts after a write's answer already sees it.
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      if (this.queue.length > 0) this.flush();
      await Promise.all([...this.inFlight]);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.limits.maxBatchWrites);
      const p = this.applyDurably(batch).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async applyDurably(batch: Pending[]): Promise<void> {
    const started = performance.now();
    this.metrics.proposalsPending.dec(batch.length);
    this.metrics.proposalsCommitted.inc(batch.length);
    try {
      this.appliedIndex += 1n;
      const { outcomes, events } = await this.store.applyBatch(
        batch.map((p) => p.write),
        { appliedIndex: this.appliedIndex },
      );
      await this.store.sync();
      this.metrics.applyBatchSeconds.observe((performance.now() - started) / 1000);
      this.metrics.proposalsApplied.inc(batch.length);
      if (events.length > 0) this.onApplied(events, this.store.currentRevision);
      for (let i = 0; i < batch.length; i++) {
        const o = outcomes[i];
        if (!o.ok) this.metrics.proposalsFailed.inc();
        batch[i].resolve(o);
      }
    } catch (e) {
      this.metrics.proposalsFailed.inc(batch.length);
      for (const p of batch) p.reject(e as Error);
    }
  }
}
