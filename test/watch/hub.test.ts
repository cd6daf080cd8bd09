import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from '../../src/mvcc/types.js';
import { WatchHub, type EventsListener, type WatchSink, type WatchSpec, type Watcher } from '../../src/watch/hub.js';
import { KeyIndex, spanOf } from '../../src/watch/key-index.js';
import { FakeStore } from '../lease/fake-store.js';

const b = (s: string) => Buffer.from(s);
const tick = () => new Promise<void>((r) => setImmediate(r));
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await tick();
}

/** A store plus a proposer stand-in: apply writes, then publish their events (or hold them back). */
class Rig {
  readonly store = new FakeStore();
  private listeners = new Set<EventsListener>();
  private held: Event[] = [];
  readonly hub: WatchHub;

  constructor(limits: ConstructorParameters<typeof WatchHub>[2] = {}) {
    this.hub = new WatchHub(this.store, (l) => { this.listeners.add(l); return () => this.listeners.delete(l); }, limits);
  }

  write(ops: Array<[string, string?]>, publish = true): void {
    const writes = ops.map(([k, v]) => (v === undefined ? { deleteRange: { key: b(k) } } : { put: { key: b(k), value: b(v) } }));
    const { events } = this.store.applyBatch(writes);
    this.held.push(...events);
    if (publish) this.publish();
  }

  /** A txn: several keys at one revision. */
  txn(keys: string[]): void {
    const { events } = this.store.applyBatch([{ txn: { compare: [], success: keys.map((k) => ({ put: { key: b(k), value: b('t') } })), failure: [] } }]);
    this.held.push(...events);
    this.publish();
  }

  publish(): void {
    const evs = this.held;
    this.held = [];
    if (evs.length > 0) for (const l of this.listeners) l(evs, this.store.currentRevision);
  }
}

class Recorder implements WatchSink {
  got: Array<{ type: string; key: string; rev: bigint; prev?: string }> = [];
  headers: bigint[] = [];
  compactedAt?: bigint;
  canceledWith?: string;
  progressAt: bigint[] = [];
  full = false;

  events(w: Watcher, events: Event[], revision: bigint): void {
    this.headers.push(revision);
    for (const e of events) {
      this.got.push({
        type: e.type, key: Buffer.from(e.kv.key).toString(), rev: e.kv.modRevision,
        ...(w.prevKv && e.prevKv ? { prev: Buffer.from(e.prevKv.value).toString() } : {}),
      });
    }
  }
  compacted(_w: Watcher, rev: bigint): void { this.compactedAt = rev; }
  progress(_w: Watcher, rev: bigint): void { this.progressAt.push(rev); }
  canceled(_w: Watcher, reason: string): void { this.canceledWith = reason; }
  backedUp(): boolean { return this.full; }
  revs(): bigint[] { return this.got.map((g) => g.rev); }
}

function watch(rig: Rig, spec: Omit<Partial<WatchSpec>, 'key'> & { key: string; end?: string | null }): { r: Recorder; w: Watcher } {
  const r = new Recorder();
  const rangeEnd = spec.end === undefined ? undefined : spec.end === null ? new Uint8Array([0]) : b(spec.end);
  const w = rig.hub.watch({ ...spec, key: b(spec.key), rangeEnd }, r);
  return { r, w };
}

describe('watch hub: live delivery', () => {
  it('sends each watcher exactly the events of its key, prefix, range or from-key', async () => {
    const rig = new Rig();
    const one = watch(rig, { key: 'a/1' });
    const prefix = watch(rig, { key: 'a/', end: 'a0' });
    const range = watch(rig, { key: 'b', end: 'd' });
    const fromKey = watch(rig, { key: 'c', end: null });
    rig.write([['a/1', 'x'], ['a/2', 'y'], ['b', 'z'], ['c', 'w'], ['d', 'v'], ['a/1']]);
    assert.deepEqual(one.r.got.map((g) => `${g.type} ${g.key}`), ['PUT a/1', 'DELETE a/1']);
    assert.deepEqual(prefix.r.got.map((g) => g.key), ['a/1', 'a/2', 'a/1']);
    assert.deepEqual(range.r.got.map((g) => g.key), ['b', 'c']);
    assert.deepEqual(fromKey.r.got.map((g) => g.key), ['c', 'd']);
    rig.hub.close();
  });

  it('applies the no-put and no-delete filters, and keeps prev_kv only for watchers that asked', () => {
    const rig = new Rig();
    const noPut = watch(rig, { key: 'k', noPut: true });
    const noDel = watch(rig, { key: 'k', noDelete: true, prevKv: true });
    rig.write([['k', '1'], ['k', '2'], ['k']]);
    assert.deepEqual(noPut.r.got, [{ type: 'DELETE', key: 'k', rev: 4n }]);
    assert.deepEqual(noDel.r.got, [{ type: 'PUT', key: 'k', rev: 2n }, { type: 'PUT', key: 'k', rev: 3n, prev: '1' }]);
    rig.hub.close();
  });

  it('delivers the events of a txn together, once, with the txn\'s revision', () => {
    const rig = new Rig();
    const all = watch(rig, { key: '', end: null });
    rig.txn(['x', 'y', 'z']);
    assert.deepEqual(all.r.revs(), [2n, 2n, 2n]);
    assert.deepEqual(all.r.headers, [2n]);
    rig.hub.close();
  });

  it('a watcher that starts in the future sees nothing before its start revision', () => {
    const rig = new Rig();
    const w = watch(rig, { key: 'k', startRevision: 4n });
    rig.write([['k', '1']]);
    rig.write([['k', '2']]);
    rig.write([['k', '3']]);
    assert.deepEqual(w.r.revs(), [4n]);
    rig.hub.close();
  });

  it('costs no visit for writes to keys nobody watches', () => {
    const idx = new KeyIndex<number>();
    for (let i = 0; i < 5_000; i++) idx.add(i, spanOf(b(`watched/${i}`)));
    for (let i = 0; i < 500; i++) idx.add(10_000 + i, spanOf(b(`range/${i}/`), b(`range/${i}0`)));
    let visits = 0;
    for (let i = 0; i < 1_000; i++) idx.forEachMatch(b(`other/${i}`), () => visits++);
    assert.equal(visits, 0);
    idx.forEachMatch(b('range/7/x'), () => visits++);
    idx.forEachMatch(b('watched/42'), () => visits++);
    assert.equal(visits, 2);
  });
});

describe('watch hub: history catch-up', () => {
  it('feeds a past start revision from history, then live, with no gap and no overlap', async () => {
    const rig = new Rig({ catchUpPageEvents: 2 });
    for (let i = 0; i < 9; i++) rig.write([[`k${i % 3}`, `${i}`]]);
    const w = watch(rig, { key: 'k', end: 'l', startRevision: 3n });
    assert.deepEqual(w.r.got, [], 'nothing is sent from inside watch()');
    await tick();
    rig.write([['k1', 'live1']]); // published while the watcher is still catching up
    await settle();
    rig.write([['k2', 'live2']]);
    assert.deepEqual(w.r.revs(), [3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n]);
    rig.hub.close();
  });

  it('does not send revisions applied but not yet published, and sends them once when they are', async () => {
    const rig = new Rig();
    rig.write([['k', '1']]);
    rig.write([['k', '2']], false); // applied at revision 3, not yet durable/announced
    const w = watch(rig, { key: 'k', startRevision: 1n });
    await settle();
    assert.deepEqual(w.r.revs(), [2n]);
    assert.deepEqual(w.r.headers, [2n], 'catch-up header carries the published revision');
    rig.publish();
    assert.deepEqual(w.r.revs(), [2n, 3n]);
    rig.hub.close();
  });

  it('one history page serves every watcher that needs the same revision', async () => {
    const rig = new Rig();
    for (let i = 0; i < 5; i++) rig.write([[`k${i}`, 'v']]);
    let reads = 0;
    const orig = rig.store.eventsSince.bind(rig.store);
    rig.store.eventsSince = (from, max) => { reads++; return orig(from, max); };
    const ws = Array.from({ length: 50 }, (_, i) => watch(rig, { key: `k${i % 5}`, startRevision: 2n }));
    await settle();
    assert.equal(reads, 1);
    for (const [i, w] of ws.entries()) assert.deepEqual(w.r.revs(), [BigInt(2 + (i % 5))]);
    rig.hub.close();
  });

  it('a start revision below the compaction point ends the watcher with the compact revision', async () => {
    const rig = new Rig();
    for (let i = 0; i < 6; i++) rig.write([['k', `${i}`]]);
    rig.store.applyBatch([{ compaction: { revision: 5n } }]);
    const old = watch(rig, { key: 'k', startRevision: 4n });
    const atCompact = watch(rig, { key: 'k', startRevision: 5n });
    await settle();
    assert.equal(old.r.compactedAt, 5n);
    assert.deepEqual(old.r.got, []);
    assert.equal(atCompact.r.compactedAt, undefined);
    assert.deepEqual(atCompact.r.revs(), [5n, 6n, 7n]);
    assert.equal(rig.hub.watcherCount, 1);
    rig.hub.close();
  });

  it('pauses catch-up while the consumer is behind and resumes where it stopped', async () => {
    const rig = new Rig({ catchUpPageEvents: 1 });
    for (let i = 0; i < 6; i++) rig.write([['k', `${i}`]]);
    const w = watch(rig, { key: 'k', startRevision: 2n });
    w.r.events = ((orig) => function (this: Recorder, ww: Watcher, evs: Event[], rev: bigint) {
      orig.call(this, ww, evs, rev);
      this.full = true; // one page and the consumer is full
    })(w.r.events);
    await settle();
    assert.deepEqual(w.r.revs(), [2n]);
    rig.write([['k', 'live']]); // a paused watcher is not synced: live events wait in history
    assert.deepEqual(w.r.revs(), [2n]);
    w.r.full = false;
    w.r.events = Recorder.prototype.events;
    w.w.resume();
    await settle();
    assert.deepEqual(w.r.revs(), [2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    rig.hub.close();
  });
});

describe('watch hub: progress, cancel, close', () => {
  it('notifies idle synced watchers that asked for progress, with the current revision', async () => {
    const rig = new Rig({ progressIntervalMs: 30 });
    const idle = watch(rig, { key: 'idle', progressNotify: true });
    const busy = watch(rig, { key: 'busy', progressNotify: true });
    const silent = watch(rig, { key: 'idle' });
    const timer = setInterval(() => rig.write([['busy', 'x']]), 10);
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(timer);
    const busyWhileWriting = busy.r.progressAt.length;
    await new Promise((r) => setTimeout(r, 70));
    assert.ok(idle.r.progressAt.length >= 3, `idle got ${idle.r.progressAt.length} progress notifications`);
    assert.equal(idle.r.progressAt.at(-1), rig.hub.revision);
    assert.ok(busyWhileWriting <= 1, `busy got ${busyWhileWriting} while receiving events`);
    assert.equal(silent.r.progressAt.length, 0);
    rig.hub.close();
  });

  it('a canceled watcher gets nothing more; close cancels everyone with a reason', () => {
    const rig = new Rig();
    const a = watch(rig, { key: 'k' });
    const c = watch(rig, { key: 'k' });
    a.w.cancel();
    rig.write([['k', '1']]);
    assert.deepEqual(a.r.got, []);
    assert.equal(c.r.got.length, 1);
    rig.hub.close();
    assert.equal(c.r.canceledWith, 'server stopped');
    assert.equal(a.r.canceledWith, undefined);
    assert.equal(rig.hub.watcherCount, 0);
  });

  it('refuses watchers past its limit', () => {
    const rig = new Rig({ maxWatchers: 2 });
    watch(rig, { key: 'a' });
    watch(rig, { key: 'b' });
    assert.throws(() => watch(rig, { key: 'c' }), /too many requests/);
    rig.hub.close();
  });
});

describe('watch hub: randomized exactly-once check', () => {
  it('every watcher sees exactly the matching events from its start, in order, across catch-up and live', async () => {
    let seed = 12345;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const rig = new Rig({ catchUpPageEvents: 3, catchUpPagesPerTurn: 1 });
    const keys = ['a', 'ab', 'b', 'ba', 'c', 'd'];
    const watchers: Array<{ r: Recorder; spec: { key: string; end?: string | null }; start: bigint }> = [];
    for (let step = 0; step < 400; step++) {
      const op = rnd(10);
      if (op < 6) {
        const n = 1 + rnd(2);
        rig.write(Array.from({ length: n }, () => [keys[rnd(keys.length)], rnd(4) === 0 ? undefined : `${step}`] as [string, string?]), rnd(3) !== 0);
      } else if (op < 8) {
        rig.publish();
      } else {
        const specs = [{ key: 'a' }, { key: 'a', end: 'b' }, { key: 'b', end: null }, { key: 'ab', end: 'c' }];
        const spec = specs[rnd(specs.length)];
        const start = rnd(2) === 0 ? 0n : BigInt(1 + rnd(Number(rig.store.currentRevision) + 2));
        const r = watch(rig, { ...spec, startRevision: start }).r;
        watchers.push({ r, spec, start: start === 0n ? rig.hub.revision + 1n : start });
      }
      if (rnd(4) === 0) await tick();
    }
    rig.publish();
    await settle(200);
    for (const { r, spec, start } of watchers) {
      const span = spanOf(b(spec.key), spec.end === undefined ? undefined : spec.end === null ? new Uint8Array([0]) : b(spec.end));
      const expected = rig.store.history
        .filter((e) => e.kv.modRevision >= start && new KeyIndexProbe(span).has(e.kv.key))
        .map((e) => `${e.kv.modRevision}:${Buffer.from(e.kv.key)}:${e.type}`);
      assert.deepEqual(r.got.map((g) => `${g.rev}:${g.key}:${g.type}`), expected, `watcher ${JSON.stringify(spec)} from ${start}`);
    }
    rig.hub.close();
  });
});

class KeyIndexProbe {
  private readonly idx = new KeyIndex<number>();
  constructor(span: ReturnType<typeof spanOf>) { this.idx.add(1, span); }
  has(key: Uint8Array): boolean {
    let hit = false;
    this.idx.forEachMatch(key, () => { hit = true; });
    return hit;
  }
}
