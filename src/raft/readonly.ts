/**
 * Pending linearizable reads on the leader (ReadIndex, safe mode).
 *
 * A read request records the commit index at arrival; the leader then broadcasts a heartbeat
 * carrying the request's context. Once a quorum of voters echoes that context, leadership at
 * arrival time is proven and every read queued up to and including it is released: one
 * heartbeat round serves every read that arrived meanwhile.
 *
 * Owns: the queue of unconfirmed reads and their acknowledgements.
 * Must never: hold more than `maxPending` requests (the caller refuses more), or release a read
 * before a quorum acknowledged a heartbeat sent after it arrived.
 */
import type { Message, NodeId } from './types.js';

export interface ReadIndexStatus {
  /** The original request (from = requester, context = its id). */
  readonly req: Message;
  /** The leader's commit index when the request arrived. */
  readonly index: number;
  readonly acks: Set<NodeId>;
}

/** A Map key for a context: bytes as latin1 characters (contexts are short request ids). */
export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]);
  return s;
}

export class ReadOnly {
  readonly maxPending: number;
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(maxPending: number) {
    this.maxPending = maxPending;
  }

  get size(): number {
    return this.queue.length;
  }

  full(): boolean {
    return this.queue.length >= this.maxPending;
  }

  /** Queues a read; a context already pending is ignored (the first one will answer). */
  addRequest(index: number, m: Message): void {
    const key = contextKey(m.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req: m, index, acks: new Set<NodeId>() });
    this.queue.push(key);
  }

  /** Records that `id` echoed `ctx`; returns the acks for it, or null if unknown. */
  recvAck(id: NodeId, ctx: Uint8Array): ReadonlySet<NodeId> | null {
    const rs = this.pending.get(contextKey(ctx));
    if (rs === undefined) return null;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Releases every read queued up to and including `ctx` (a quorum confirmed it). */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released: ReadIndexStatus[] = [];
    for (let i = 0; i <= at; i++) {
      const k = this.queue[i];
      released.push(this.pending.get(k)!);
      this.pending.delete(k);
    }
    this.queue = this.queue.slice(at + 1);
    return released;
  }

  /** The context of the newest pending read: heartbeats carry it, confirming all older ones. */
  lastPendingRequestCtx(): Uint8Array | null {
    if (this.queue.length === 0) return null;
    return this.pending.get(this.queue[this.queue.length - 1])!.req.context;
  }
}
