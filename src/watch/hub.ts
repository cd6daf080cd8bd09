/**
 * The watch hub: every watcher of one member, fed every applied event exactly once and in
 * revision order. A watcher is either *synced* (indexed by key and range, fed live from each
 * published batch) or *catching up* (fed from history, a page at a time, up to the last published
 * revision, then moved to synced in the same turn, so there is no gap and no overlap: each
 * watcher carries the next revision it must see and skips anything below it).
 *
 * Catch-up reads only revisions already published (durable and announced), shares one history
 * page among watchers that need the same revision, pauses a watcher whose consumer is behind, and
 * yields to the event loop between pages, so it never stalls writes. Live delivery never waits:
 * a sink that cannot keep up cancels its watchers (see the streams).
 *
 * Must never call the store for a key nobody watches, never deliver a revision twice to a
 * watcher, and never block the apply path.
 */
import { CairnError } from '../errors/errors.js';
import type { Event } from '../mvcc/types.js';
import { KeyIndex, spanContains, spanOf, type KeySpan } from './key-index.js';

export interface HistorySource {
  eventsSince(fromRevision: bigint, maxEvents: number): { events: Event[]; nextRevision: bigint };
  readonly currentRevision: bigint;
  readonly compactRevision: bigint;
}

export type EventsListener = (events: Event[], revision: bigint) => void;

export interface WatchSpec {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** 0n or absent: from the next revision. */
  startRevision?: bigint;
  prevKv?: boolean;
  noPut?: boolean;
  noDelete?: boolean;
  progressNotify?: boolean;
}

/** Where a watcher's output goes; implemented by the SSE and gateway streams. */
export interface WatchSink {
  /** Events of one or more whole revisions, in order; `revision` is the header revision. */
  events(w: Watcher, events: Event[], revision: bigint): void;
  /** The start revision is below the compaction point: the watcher is already removed. */
  compacted(w: Watcher, compactRevision: bigint): void;
  /** No event for a progress interval: everything up to `revision` has been sent. */
  progress(w: Watcher, revision: bigint): void;
  /** The hub ended the watcher (server stopping); it is already removed. */
  canceled(w: Watcher, reason: string): void;
  /** True while the consumer is behind: catch-up waits until the sink calls `w.resume()`. */
  backedUp(): boolean;
}

export interface WatchHubLimits {
  /** Watchers on this member; past it, `watch` throws TooManyRequests. */
  maxWatchers: number;
  /** Events read from history per page of catch-up (a count: the store pages by events, so
   * keep it modest, values may be large). */
  catchUpPageEvents: number;
  /** Pages read per event-loop turn before yielding. */
  catchUpPagesPerTurn: number;
  /** Interval of progress notifications to watchers that asked for them. */
  progressIntervalMs: number;
}

export const DEFAULT_WATCH_HUB_LIMITS: WatchHubLimits = {
  maxWatchers: 200_000,
  catchUpPageEvents: 256,
  catchUpPagesPerTurn: 4,
  progressIntervalMs: 10 * 60_000,
};

type State = 'catchingUp' | 'paused' | 'synced' | 'closed';

export class Watcher {
  state: State = 'catchingUp';
  /** The lowest revision this watcher has not been sent yet. */
  nextRevision = 0n;
  /** Events sent since the last progress tick. */
  sentSinceProgress = false;
  readonly span: KeySpan;

  constructor(
    private readonly hub: WatchHub,
    readonly spec: WatchSpec,
    readonly sink: WatchSink,
  ) {
    this.span = spanOf(spec.key, spec.rangeEnd);
  }

  get prevKv(): boolean {
    return this.spec.prevKv === true;
  }

  /** The sink has room again: continue catching up. */
  resume(): void {
    this.hub.resume(this);
  }

  cancel(): void {
    this.hub.cancel(this);
  }

  wants(e: Event): boolean {
    if (e.type === 'PUT' ? this.spec.noPut : this.spec.noDelete) return false;
    return spanContains(this.span, e.kv.key);
  }
}

export class WatchHub {
  private readonly synced = new KeyIndex<Watcher>();
  /** Catching-up watchers grouped by next revision, so one history page serves a group. */
  private readonly groups = new Map<bigint, Set<Watcher>>();
  private readonly all = new Set<Watcher>();
  private publishedRevision: bigint;
  private catchUpScheduled = false;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly progressTimer: NodeJS.Timeout;
  readonly limits: WatchHubLimits;

  constructor(
    private readonly source: HistorySource,
    subscribe: (listener: EventsListener) => () => void,
    limits: Partial<WatchHubLimits> = {},
  ) {
    this.limits = { ...DEFAULT_WATCH_HUB_LIMITS, ...limits };
    this.publishedRevision = source.currentRevision;
    this.unsubscribe = subscribe((events, revision) => this.publish(events, revision));
    this.progressTimer = setInterval(() => this.progressTick(), this.limits.progressIntervalMs);
    this.progressTimer.unref();
  }

  /** The last revision delivered to synced watchers: the header revision of new watches. */
  get revision(): bigint {
    return this.publishedRevision;
  }

  get watcherCount(): number {
    return this.all.size;
  }

  /** Registers a watcher. Its first output comes later (never from inside this call). */
  watch(spec: WatchSpec, sink: WatchSink): Watcher {
    if (this.closed) throw new CairnError('Stopped');
    if (this.all.size >= this.limits.maxWatchers) throw new CairnError('TooManyRequests');
    const w = new Watcher(this, spec, sink);
    const start = spec.startRevision ?? 0n;
    w.nextRevision = start > 0n ? start : this.publishedRevision + 1n;
    this.all.add(w);
    if (w.nextRevision > this.publishedRevision) this.toSynced(w);
    else this.toGroup(w);
    return w;
  }

  cancel(w: Watcher): void {
    if (w.state === 'closed') return;
    this.detach(w);
  }

  resume(w: Watcher): void {
    if (w.state !== 'paused') return;
    this.toGroup(w);
  }

  /**
   * The store jumped ahead without publishing events (a leader's snapshot replaced it): every
   * synced watcher catches up from the store's history from where it was, as a new watcher
   * would (or is told its revision was compacted).
   */
  resync(): void {
    if (this.closed) return;
    this.publishedRevision = this.source.currentRevision;
    for (const w of [...this.all]) {
      if (w.state !== 'synced') continue;
      this.synced.remove(w, w.span);
      this.toGroup(w);
    }
  }

  /** Cancels every watcher (server stopping) and stops listening. */
  close(reason = 'server stopped'): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.progressTimer);
    for (const w of [...this.all]) {
      this.detach(w);
      w.sink.canceled(w, reason);
    }
  }

  private detach(w: Watcher): void {
    if (w.state === 'synced') this.synced.remove(w, w.span);
    else if (w.state === 'catchingUp') this.leaveGroup(w);
    w.state = 'closed';
    this.all.delete(w);
  }

  private toSynced(w: Watcher): void {
    w.state = 'synced';
    this.synced.add(w, w.span);
  }

  private toGroup(w: Watcher): void {
    w.state = 'catchingUp';
    let g = this.groups.get(w.nextRevision);
    if (!g) this.groups.set(w.nextRevision, (g = new Set()));
    g.add(w);
    this.scheduleCatchUp();
  }

  private leaveGroup(w: Watcher): void {
    const g = this.groups.get(w.nextRevision);
    if (!g) return;
    g.delete(w);
    if (g.size === 0) this.groups.delete(w.nextRevision);
  }

  /** The proposer's listener: events of one applied batch, in revision order. The batch's
   * revision is its last event's (a larger announced revision must not make synced watchers
   * skip the next batch). */
  private publish(events: Event[], _announced: bigint): void {
    if (events.length === 0) return;
    const revision = events[events.length - 1].kv.modRevision;
    const perWatcher = new Map<Watcher, Event[]>();
    for (const e of events) {
      this.synced.forEachMatch(e.kv.key, (w) => {
        if (e.kv.modRevision < w.nextRevision || !w.wants(e)) return;
        const list = perWatcher.get(w);
        if (list) list.push(e);
        else perWatcher.set(w, [e]);
      });
    }
    this.publishedRevision = revision;
    for (const [w, evs] of perWatcher) {
      if (w.state !== 'synced') continue; // canceled by an earlier sink in this loop
      w.nextRevision = revision + 1n;
      w.sentSinceProgress = true;
      w.sink.events(w, evs, revision);
    }
  }

  private scheduleCatchUp(): void {
    if (this.catchUpScheduled || this.closed) return;
    this.catchUpScheduled = true;
    setImmediate(() => {
      this.catchUpScheduled = false;
      for (let i = 0; i < this.limits.catchUpPagesPerTurn && this.groups.size > 0; i++) this.catchUpPage();
      if (this.groups.size > 0) this.scheduleCatchUp();
    });
  }

  /** Reads one page of history for the group with the lowest next revision. */
  private catchUpPage(): void {
    let from = -1n;
    for (const r of this.groups.keys()) if (from < 0n || r < from) from = r;
    const group = this.groups.get(from)!;
    this.groups.delete(from);
    const members = [...group];
    const ready = members.filter((w) => !w.sink.backedUp());
    for (const w of members) if (w.sink.backedUp()) w.state = 'paused';
    if (ready.length === 0) return;
    const page = this.readPage(from, ready);
    if (!page) return;
    const limit = this.publishedRevision;
    const next = page.events.length === 0 || page.nextRevision > limit + 1n ? limit + 1n : page.nextRevision;
    for (const w of ready) {
      if (w.state !== 'catchingUp') continue;
      const evs = page.events.filter((e) => e.kv.modRevision <= limit && w.wants(e));
      w.nextRevision = next;
      if (evs.length > 0) {
        w.sentSinceProgress = true;
        w.sink.events(w, evs, limit);
      }
      if (w.state !== 'catchingUp') continue; // the sink gave up on it
      if (next > limit) this.toSynced(w);
      else this.toGroup(w);
    }
  }

  private readPage(from: bigint, ready: Watcher[]): { events: Event[]; nextRevision: bigint } | undefined {
    const compactRevision = this.source.compactRevision;
    if (from < compactRevision) {
      this.compactAll(ready, compactRevision);
      return undefined;
    }
    try {
      return this.source.eventsSince(from, this.limits.catchUpPageEvents);
    } catch (e) {
      if (e instanceof CairnError && e.kind === 'Compacted') {
        this.compactAll(ready, this.source.compactRevision);
        return undefined;
      }
      throw e;
    }
  }

  private compactAll(ws: Watcher[], compactRevision: bigint): void {
    for (const w of ws) {
      w.state = 'closed';
      this.all.delete(w);
      w.sink.compacted(w, compactRevision);
    }
  }

  private progressTick(): void {
    for (const w of this.all) {
      if (!w.spec.progressNotify) continue;
      if (w.state === 'synced' && !w.sentSinceProgress) w.sink.progress(w, this.publishedRevision);
      w.sentSinceProgress = false;
    }
  }
}
