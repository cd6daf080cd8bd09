/**
 * The waiting half of etcd's concurrency recipes (locks and elections), built on this member's
 * own range and watch hub: find the newest key of a prefix created before a revision, wait for
 * its deletion, repeat until none is left. Each waiter watches only its predecessor's key, so a
 * release wakes exactly one waiter (no thundering herd), and nothing ever polls.
 *
 * Also the small pieces both services share: key prefixes, the host interface, the bound on
 * waiters, and a watcher turned into an awaitable queue with a bounded buffer.
 *
 * Knows nothing of HTTP. Must never leave a watcher registered after a wait ends (success,
 * error or abort), and never buffer events without bound.
 */
import type { RequestCaller } from '../requests.js';
import { CairnError } from '../../errors/errors.js';
import type { Event, KeyValue, RangeRequest, RangeResult, TxnRequest, TxnResult, DeleteRangeRequest, DeleteRangeResult } from '../../mvcc/types.js';
import type { WatchHub, WatchSink, WatchSpec, Watcher } from '../../watch/hub.js';
import type { Answer, ResponseHeader } from '../cairn-server.js';

/** What the lock and election services need of a member (CairnServer has it all). */
export interface ConcurrencyHost {
  range(req: RangeRequest): Promise<Answer<RangeResult>>;
  txn(req: TxnRequest): Promise<Answer<TxnResult>>;
  deleteRange(req: DeleteRangeRequest): Promise<Answer<DeleteRangeResult>>;
  readonly leases: { grant(ttlSec: bigint, requestedId: bigint): Promise<{ result: { id: bigint } }> };
  readonly watchHub: WatchHub;
  header(revision?: bigint): ResponseHeader;
  /** The caller's key permissions (throw PermissionDenied), checked before any wait. */
  readonly auth: KeyPermissionCheck;
}

/** Who asked (undefined: the member itself) and what they may touch. */
export interface KeyPermissionCheck {
  checkRead(caller: RequestCaller | undefined, key: Uint8Array, rangeEnd?: Uint8Array): void;
  checkWrite(caller: RequestCaller | undefined, key: Uint8Array, rangeEnd?: Uint8Array): void;
}

/** etcd's concurrency.NewSession default: a lock or campaign without a lease gets one this long. */
export const SESSION_LEASE_TTL_SEC = 60n;

/** Events a waiter may hold unread; a single-key watch never comes near it unless stuck. */
export const MAX_BUFFERED_EVENTS_PER_WAITER = 10_000;

/** The client went away (or the caller gave up): the wait ends without an answer. */
export class WaitAborted extends Error {
  constructor() {
    super('wait aborted');
    this.name = 'WaitAborted';
  }
}

const SLASH = 0x2f;
const EMPTY = new Uint8Array(0);

/** `name/`: the prefix under which every contender of `name` puts its key. */
export function contenderPrefix(name: Uint8Array): Uint8Array {
  const p = new Uint8Array(name.length + 1);
  p.set(name);
  p[name.length] = SLASH;
  return p;
}

/** `name/<lease in lowercase hex>`, as etcd's Mutex and Election name their keys. */
export function contenderKey(prefix: Uint8Array, lease: bigint): Uint8Array {
  const suffix = new TextEncoder().encode(lease.toString(16));
  const k = new Uint8Array(prefix.length + suffix.length);
  k.set(prefix);
  k.set(suffix, prefix.length);
  return k;
}

/** The range end of "every key with this prefix" (the prefix ends in '/', so never all 0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] += 1;
      return end;
    }
  }
  return Uint8Array.of(0);
}

/** etcd's WithFirstCreate: the oldest key of the prefix (the lock holder, the leader). */
export function firstCreated(prefix: Uint8Array): RangeRequest {
  return { key: prefix, rangeEnd: prefixEnd(prefix), sortTarget: 'CREATE', sortOrder: 'ASCEND', limit: 1n };
}

/** etcd's WithLastCreate + WithMaxCreateRev: the newest key created at or before `maxCreateRev`. */
function lastCreatedUpTo(prefix: Uint8Array, maxCreateRev: bigint): RangeRequest {
  return {
    key: prefix, rangeEnd: prefixEnd(prefix), sortTarget: 'CREATE', sortOrder: 'DESCEND', limit: 1n,
    maxCreateRevision: maxCreateRev,
  };
}

/** Counts waiters of one service; past `maxWaiters` a new one is refused (TooManyRequests). */
export class WaiterGate {
  private waiting = 0;

  constructor(readonly maxWaiters: number) {}

  get count(): number {
    return this.waiting;
  }

  enter(): void {
    if (this.waiting >= this.maxWaiters) throw new CairnError('TooManyRequests');
    this.waiting++;
  }

  leave(): void {
    this.waiting--;
  }
}

export interface EventBatch {
  events: Event[];
  /** The header revision of the batch. */
  revision: bigint;
}

/**
 * One hub watcher read as a queue: `next()` resolves with the next batch of events. Compaction
 * of the start revision rejects with Compacted; the hub closing rejects with Stopped; more than
 * `maxBufferedEvents` unread rejects with TooManyRequests.
 */
export class EventQueue implements WatchSink {
  private readonly batches: EventBatch[] = [];
  private bufferedEvents = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly watcher: Watcher;

  constructor(hub: WatchHub, spec: WatchSpec, private readonly maxBufferedEvents = MAX_BUFFERED_EVENTS_PER_WAITER) {
    this.watcher = hub.watch(spec, this);
  }

  async next(signal?: AbortSignal): Promise<EventBatch> {
    for (;;) {
      if (signal?.aborted) throw new WaitAborted();
      const b = this.batches.shift();
      if (b) {
        this.bufferedEvents -= b.events.length;
        return b;
      }
      if (this.failure) throw this.failure;
      await this.sleep(signal);
    }
  }

  close(): void {
    this.watcher.cancel();
    this.wake?.();
  }

  private sleep(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake?.();
  }

  // ---- WatchSink ----

  events(_w: Watcher, events: Event[], revision: bigint): void {
    if (this.bufferedEvents + events.length > this.maxBufferedEvents) {
      this.watcher.cancel();
      this.fail(new CairnError('TooManyRequests'));
      return;
    }
    this.batches.push({ events, revision });
    this.bufferedEvents += events.length;
    this.wake?.();
  }

  compacted(): void {
    this.fail(new CairnError('Compacted'));
  }

  progress(): void {
    // a waiter only cares about events
  }

  canceled(): void {
    this.fail(new CairnError('Stopped'));
  }

  backedUp(): boolean {
    return false;
  }
}

/** Resolves once `key` is deleted at or after `fromRevision`. */
export async function waitDelete(hub: WatchHub, key: Uint8Array, fromRevision: bigint, signal?: AbortSignal): Promise<void> {
  const q = new EventQueue(hub, { key, startRevision: fromRevision, noPut: true });
  try {
    for (;;) {
      const b = await q.next(signal);
      if (b.events.some((e) => e.type === 'DELETE')) return;
    }
  } finally {
    q.close();
  }
}

/**
 * Waits until no key of `prefix` created at or before `maxCreateRev` is left: each round waits
 * for the newest such key only (our direct predecessor), then looks again, because a deleted
 * predecessor may itself have been waiting behind an older one. Returns the header of the last
 * look, which found none.
 */
export async function waitDeletes(
  host: ConcurrencyHost, prefix: Uint8Array, maxCreateRev: bigint, signal?: AbortSignal,
): Promise<ResponseHeader> {
  for (;;) {
    if (signal?.aborted) throw new WaitAborted();
    const { header, result } = await host.range(lastCreatedUpTo(prefix, maxCreateRev));
    if (result.kvs.length === 0) return header;
    try {
      await waitDelete(host.watchHub, result.kvs[0].key, header.revision, signal);
    } catch (e) {
      // History compacted between the look and the watch: look again rather than fail.
      if (!(e instanceof CairnError && e.kind === 'Compacted')) throw e;
    }
  }
}

/** The key's current kv (linearizable), or undefined. */
export async function currentKv(host: ConcurrencyHost, key: Uint8Array): Promise<KeyValue | undefined> {
  const { result } = await host.range({ key });
  return result.kvs[0];
}

export { EMPTY as EMPTY_BYTES };
