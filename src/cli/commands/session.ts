/**
 * A concurrency session as clientv3's: a lease granted for the session's TTL and kept alive at
 * a third of it until closed. `lock` and `elect` hold their keys under such a lease, so a
 * crashed cairnctl releases them when the lease expires.
 *
 * Must never: keep the lease alive after close(), or swallow the lease's loss (done() resolves).
 */
import type { CommandContext } from '../context.js';
import { leaseGrantResponse } from '../gateway/codec.js';
import { keepAliveOnce, sleep } from './lease.js';

/** Shortest wait between two renewals, whatever the TTL. */
const minRenewIntervalMs = 500;

export class Session {
  readonly leaseId: bigint;
  private readonly ctx: CommandContext;
  private readonly stop = new AbortController();
  private readonly lost: Promise<void>;

  private constructor(ctx: CommandContext, leaseId: bigint, ttlSeconds: bigint) {
    this.ctx = ctx;
    this.leaseId = leaseId;
    this.lost = this.keepAlive(ttlSeconds);
  }

  static async open(ctx: CommandContext, ttlSeconds: bigint): Promise<Session> {
    const r = leaseGrantResponse(await ctx.call('/v3/lease/grant', { TTL: ttlSeconds.toString() }));
    return new Session(ctx, r.id, r.ttl);
  }

  /** Resolves when the lease is gone (expired, revoked, or keep-alive failing past its TTL). */
  done(): Promise<void> {
    return this.lost;
  }

  private async keepAlive(ttlSeconds: bigint): Promise<void> {
    const intervalMs = Math.max(minRenewIntervalMs, (Number(ttlSeconds) * 1000) / 3);
    let lastOkMs = Date.now();
    while (!this.stop.signal.aborted) {
      await sleep(intervalMs, this.stop.signal);
      if (this.stop.signal.aborted) return new Promise<void>(() => undefined);
      try {
        const r = await keepAliveOnce(this.ctx, this.leaseId, this.stop.signal);
        if (r === null) return;
        lastOkMs = Date.now();
      } catch {
        if (Date.now() - lastOkMs > Number(ttlSeconds) * 1000) return;
      }
    }
    return new Promise<void>(() => undefined);
  }

  /** Stops renewing and revokes the lease (deleting any key held under it). */
  async close(): Promise<void> {
    this.stop.abort();
    await this.ctx.call('/v3/lease/revoke', { ID: this.leaseId.toString() }).catch(() => undefined);
  }
}
