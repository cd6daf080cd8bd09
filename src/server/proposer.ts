/**
 * The `propose(request) → outcome` seam every write passes through. The single-node proposer
 * here batches the writes that arrive in one event-loop turn into one store transaction and
 * answers them only once that transaction is durable (fsync). The cluster issue replaces it
 * with a Raft-backed proposer; callers do not change.
 *
 * Must never answer a write before it is on disk, and never let the queue grow without bound.
 */
import { CairnError } from '../errors/errors.js';
import type { Event } from '../mvcc/types.js';
import type { MvccStore } from '../mvcc/store.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerOutcome, ServerRequest } from './requests.js';

export interface Proposer {
  propose(write: ServerRequest): Promise<ServerOutcome>;
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
  write: ServerRequest;
  resolve: (o: ServerOutcome) => void;
  reject: (e: Error) => void;
}

export type AppliedListener = (events: Event[], revision: bigint) => void;

/** Applies one batch in order in the store (KV writes and lease requests: server/lease-apply.ts). */
export type BatchApply = (requests: ServerRequest[], appliedIndex: bigint) => Promise<{ outcomes: ServerOutcome[]; events: Event[] }>;

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
    private readonly apply: BatchApply = (writes, appliedIndex) => store.applyBatch(writes as never, { appliedIndex }),
  ) {
    this.appliedIndex = store.appliedIndex;
  }

  propose(write: ServerRequest): Promise<ServerOutcome> {
    if (this.closed) return Promise.reject(new CairnError('Stopped'));
    if (this.queue.length >= this.limits.maxPendingProposals) {
      return Promise.reject(new CairnError('TooManyRequests'));
    }
    return new Promise<ServerOutcome>((resolve, reject) => {
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
      const { outcomes, events } = await this.apply(batch.map((p) => p.write), this.appliedIndex);
      await this.store.sync();
      this.metrics.applyBatchSeconds.observe((performance.now() - started) / 1000);
      this.metrics.proposalsApplied.inc(batch.length);
      // The batch's own revision: the store's current one may already include a later batch.
      if (events.length > 0) this.onApplied(events, events[events.length - 1].kv.modRevision);
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
