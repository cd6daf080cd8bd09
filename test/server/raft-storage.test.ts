/**
 * WalStorage against the contract MemoryStorage satisfies (the same table of cases as
 * etcd-io/raft's storage tests: term, entries, first/last index, compact, create and apply
 * snapshot, append with truncation), run on MemoryStorage, on WalStorage, and on WalStorage
 * closed and reopened between writing and reading. Then restart tests: random operation
 * sequences compared with MemoryStorage across reopens, torn tails inside a persisted batch,
 * a missing snapshot file refused.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  EMPTY_BYTES, MemoryStorage, MessageType, RawNode, bootstrapEntries, bootstrapHardState, decodeConfChange,
  isRaftError, seededRandom,
  type ConfState, type Entry, type HardState, type Message, type NodeId, type RaftErrorKind, type Snapshot, type Storage,
} from '../../src/raft/index.js';
import { WalStorage } from '../../src/server/raft-storage.js';
import { isWalError } from '../../src/wal/index.js';
import { capturingLogger, withTempDir } from '../wal/wal-fixtures.js';

interface MutableStorage extends Storage {
  append(entries: readonly Entry[]): void;
  setHardState(hs: HardState): void;
  setConfState(cs: ConfState): void;
  applySnapshot(snap: Snapshot): void | Promise<void>;
  createSnapshot(index: number, cs: ConfState, data: Uint8Array): Snapshot | Promise<Snapshot>;
  compact(index: number): void | Promise<void>;
  readonly size: number;
  isEmpty(): boolean;
}

/** The storage under test, and a checkpoint: make writes durable (and maybe restart). */
interface Harness {
  s: MutableStorage;
  checkpoint(): Promise<void>;
}

interface Subject {
  readonly name: string;
  run(body: (h: Harness) => Promise<void>): Promise<void>;
}

const SMALL_SEGMENT_BYTES = 2048;

function walSubject(name: string, reopen: boolean): Subject {
  return {
    name,
    run: (body) => withTempDir(async (dir) => {
      const opts = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
      let ws = await WalStorage.open(dir, undefined, opts);
      const h: Harness = {
        s: ws,
        async checkpoint() {
          await ws.persist();
          if (!reopen) return;
          await ws.close();
          ws = await WalStorage.open(dir, undefined, opts);
          h.s = ws;
        },
      };
      try {
        await body(h);
      } finally {
        await ws.close();
      }
    }),
  };
}

const SUBJECTS: Subject[] = [
  { name: 'MemoryStorage', run: async (body) => body({ s: new MemoryStorage(), checkpoint: async () => {} }) },
  walSubject('WalStorage', false),
  walSubject('WalStorage reopened', true),
];

function ent(index: number, term: number, data: Uint8Array = EMPTY_BYTES): Entry {
  return { index, term, type: 'normal', data };
}

function snapshotAt(index: number, term: number, voters: bigint[] = [1n, 2n, 3n], data: Uint8Array = Buffer.from('state')): Snapshot {
  return { metadata: { index, term, confState: { voters, learners: [] } }, data };
}

/** A storage holding a snapshot at (3, 3) and entries 4 (term 4) and 5 (term 5), as etcd's
 * storage tests start from. */
async function seeded(h: Harness): Promise<void> {
  await h.s.applySnapshot(snapshotAt(3, 3));
  h.s.append([ent(4, 4), ent(5, 5)]);
  await h.checkpoint();
}

function pairs(ents: readonly Entry[]): [number, number][] {
  return ents.map((e) => [e.index, e.term]);
}

async function raftError(kind: RaftErrorKind, fn: () => unknown): Promise<void> {
  await assert.rejects(async () => { await fn(); }, (e: unknown) => isRaftError(e, kind));
}

for (const subject of SUBJECTS) {
  describe(`Storage contract: ${subject.name}`, () => {
    it('starts empty: first index 1, last index 0, term(0) = 0, nothing else', () => subject.run(async (h) => {
      await h.checkpoint();
      const { s } = h;
      assert.equal(s.firstIndex(), 1);
      assert.equal(s.lastIndex(), 0);
      assert.equal(s.term(0), 0);
      await raftError('Unavailable', () => s.term(1));
      assert.deepEqual(s.entries(1, 1, 100), []);
      await raftError('Unavailable', () => s.entries(1, 2, 100));
      assert.equal(s.snapshot().metadata.index, 0);
      assert.deepEqual(s.initialState().hardState, { term: 0, vote: 0n, commit: 0 });
      assert.ok(s.isEmpty());
    }));

    it('term(): Compacted below the snapshot, the term within, Unavailable beyond', () => subject.run(async (h) => {
      await seeded(h);
      await raftError('Compacted', () => h.s.term(2));
      assert.equal(h.s.term(3), 3);
      assert.equal(h.s.term(4), 4);
      assert.equal(h.s.term(5), 5);
      await raftError('Unavailable', () => h.s.term(6));
    }));

    it('entries(): bounds, and maxBytes cuts but always returns at least one', () => subject.run(async (h) => {
      await h.s.applySnapshot(snapshotAt(3, 3));
      h.s.append([ent(4, 4, new Uint8Array(10)), ent(5, 5, new Uint8Array(10)), ent(6, 6, new Uint8Array(10))]);
      await h.checkpoint();
      const { s } = h;
      await raftError('Compacted', () => s.entries(2, 6, Infinity));
      await raftError('Compacted', () => s.entries(3, 4, Infinity));
      assert.deepEqual(pairs(s.entries(4, 5, Infinity)), [[4, 4]]);
      assert.deepEqual(pairs(s.entries(4, 7, Infinity)), [[4, 4], [5, 5], [6, 6]]);
      assert.deepEqual(pairs(s.entries(4, 7, 0)), [[4, 4]]);
      assert.deepEqual(pairs(s.entries(4, 7, 26 * 2)), [[4, 4], [5, 5]]);
      assert.deepEqual(pairs(s.entries(4, 7, 26 * 3 - 1)), [[4, 4], [5, 5]]);
      assert.deepEqual(pairs(s.entries(4, 7, 26 * 3)), [[4, 4], [5, 5], [6, 6]]);
      await raftError('Unavailable', () => s.entries(4, 8, Infinity));
      assert.deepEqual(Buffer.from(s.entries(5, 6, Infinity)[0].data), Buffer.alloc(10));
    }));

    it('firstIndex() and lastIndex() follow appends and compaction', () => subject.run(async (h) => {
      await seeded(h);
      assert.equal(h.s.firstIndex(), 4);
      assert.equal(h.s.lastIndex(), 5);
      h.s.append([ent(6, 5)]);
      await h.checkpoint();
      assert.equal(h.s.lastIndex(), 6);
      await h.s.compact(4);
      await h.checkpoint();
      assert.equal(h.s.firstIndex(), 5);
      assert.equal(h.s.lastIndex(), 6);
    }));

    it('compact(): Compacted at or below the first kept index, Unavailable beyond the last', () => subject.run(async (h) => {
      await seeded(h);
      await raftError('Compacted', () => h.s.compact(2));
      await raftError('Compacted', () => h.s.compact(3));
      await raftError('Unavailable', () => h.s.compact(6));
      await h.s.compact(4);
      await h.checkpoint();
      assert.equal(h.s.term(4), 4);
      await raftError('Compacted', () => h.s.term(3));
      assert.equal(h.s.size, 1);
      await h.s.compact(5);
      await h.checkpoint();
      assert.equal(h.s.term(5), 5);
      assert.equal(h.s.size, 0);
      assert.equal(h.s.firstIndex(), 6);
    }));

    it('createSnapshot(): takes the term from the log; SnapOutOfDate at or below, Unavailable beyond', () => subject.run(async (h) => {
      await seeded(h);
      const cs = { voters: [1n, 2n], learners: [7n] };
      const data = Buffer.from('applied state at 4');
      const snap = await h.s.createSnapshot(4, cs, data);
      assert.deepEqual(snap.metadata, { index: 4, term: 4, confState: cs });
      await h.checkpoint();
      assert.deepEqual(h.s.snapshot().metadata, { index: 4, term: 4, confState: cs });
      assert.deepEqual(Buffer.from(h.s.snapshot().data), data);
      await raftError('SnapOutOfDate', () => h.s.createSnapshot(4, cs, data));
      await raftError('SnapOutOfDate', () => h.s.createSnapshot(3, cs, data));
      await raftError('Unavailable', () => h.s.createSnapshot(6, cs, data));
      assert.equal(h.s.firstIndex(), 4, 'a snapshot alone does not compact');
    }));

    const appendCases: { name: string; add: Entry[]; want: [number, number][] | 'InvalidArgument' }[] = [
      { name: 'the same entries again', add: [ent(3, 3), ent(4, 4), ent(5, 5)], want: [[4, 4], [5, 5]] },
      { name: 'a conflicting tail', add: [ent(3, 3), ent(4, 6), ent(5, 6)], want: [[4, 6], [5, 6]] },
      { name: 'one more entry', add: [ent(3, 3), ent(4, 4), ent(5, 5), ent(6, 5)], want: [[4, 4], [5, 5], [6, 5]] },
      { name: 'entries partly below the snapshot', add: [ent(2, 3), ent(3, 3), ent(4, 5)], want: [[4, 5]] },
      { name: 'a single conflicting entry', add: [ent(4, 5)], want: [[4, 5]] },
      { name: 'a direct successor', add: [ent(6, 5)], want: [[4, 4], [5, 5], [6, 5]] },
      { name: 'entries only below the snapshot', add: [ent(2, 2), ent(3, 3)], want: [[4, 4], [5, 5]] },
      { name: 'a gap', add: [ent(7, 5)], want: 'InvalidArgument' },
    ];
    for (const c of appendCases) {
      it(`append(): ${c.name}`, () => subject.run(async (h) => {
        await seeded(h);
        if (c.want === 'InvalidArgument') {
          await raftError('InvalidArgument', () => h.s.append(c.add));
          await h.checkpoint();
          assert.deepEqual(pairs(h.s.entries(4, 6, Infinity)), [[4, 4], [5, 5]]);
          return;
        }
        h.s.append(c.add);
        await h.checkpoint();
        assert.deepEqual(pairs(h.s.entries(4, h.s.lastIndex() + 1, Infinity)), c.want);
      }));
    }

    it('entries handed out never change when the tail is later replaced', () => subject.run(async (h) => {
      await seeded(h);
      const before = h.s.entries(4, 6, Infinity);
      h.s.append([ent(4, 9)]);
      await h.checkpoint();
      assert.deepEqual(pairs(before), [[4, 4], [5, 5]]);
      assert.deepEqual(pairs(h.s.entries(4, 5, Infinity)), [[4, 9]]);
    }));

    it('applySnapshot(): replaces the log and the configuration; SnapOutOfDate at or below', () => subject.run(async (h) => {
      await seeded(h);
      const snap = snapshotAt(10, 7, [4n, 5n]);
      await h.s.applySnapshot(snap);
      await h.checkpoint();
      assert.equal(h.s.firstIndex(), 11);
      assert.equal(h.s.lastIndex(), 10);
      assert.equal(h.s.term(10), 7);
      assert.deepEqual(h.s.snapshot().metadata, snap.metadata);
      assert.deepEqual(Buffer.from(h.s.snapshot().data), Buffer.from(snap.data));
      assert.deepEqual(h.s.initialState().confState, snap.metadata.confState);
      await raftError('SnapOutOfDate', () => h.s.applySnapshot(snapshotAt(10, 7)));
      await raftError('SnapOutOfDate', () => h.s.applySnapshot(snapshotAt(9, 7)));
      h.s.append([ent(11, 7)]);
      await h.checkpoint();
      assert.deepEqual(pairs(h.s.entries(11, 12, Infinity)), [[11, 7]]);
    }));

    it('initialState() returns the latest hard state and conf state', () => subject.run(async (h) => {
      h.s.append([ent(1, 1), ent(2, 1)]);
      h.s.setHardState({ term: 1, vote: 3n, commit: 1 });
      h.s.setConfState({ voters: [1n, 2n, 3n], learners: [] });
      h.s.setHardState({ term: 2, vote: 0xffff_ffff_ffff_fffen, commit: 2 });
      await h.checkpoint();
      assert.deepEqual(h.s.initialState(), {
        hardState: { term: 2, vote: 0xffff_ffff_ffff_fffen, commit: 2 },
        confState: { voters: [1n, 2n, 3n], learners: [] },
      });
      assert.ok(!h.s.isEmpty());
    }));
  });
}

// ---- restart: WalStorage compared with MemoryStorage over random operation sequences ----

interface Dump {
  initialState: unknown;
  firstIndex: number;
  lastIndex: number;
  terms: [number, number][];
  entries: { index: number; term: number; type: string; data: string }[];
  snapshot: { metadata: unknown; data: string };
}

function dump(s: MutableStorage): Dump {
  const first = s.firstIndex();
  const last = s.lastIndex();
  const terms: [number, number][] = [];
  for (let i = first - 1; i <= last; i++) terms.push([i, s.term(i)]);
  const ents = last >= first ? s.entries(first, last + 1, Infinity) : [];
  return {
    initialState: s.initialState(),
    firstIndex: first,
    lastIndex: last,
    terms,
    entries: ents.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('hex') })),
    snapshot: { metadata: s.snapshot().metadata, data: Buffer.from(s.snapshot().data).toString('hex') },
  };
}

type Op = (m: MutableStorage, w: WalStorage) => Promise<void>;

/** One random valid operation, applied identically to both storages. */
function randomOp(rand: (n: number) => number, m: MemoryStorage, step: number): { name: string; op: Op } | null {
  const first = m.firstIndex();
  const last = m.lastIndex();
  const snapIndex = m.snapshot().metadata.index;
  const both = (name: string, f: (s: MutableStorage) => unknown): { name: string; op: Op } =>
    ({ name, op: async (a, b) => { await f(a); await f(b); } });
  switch (rand(10)) {
    case 0: case 1: case 2: case 3: {
      const from = first + rand(last - first + 2);
      const base = m.term(from - 1);
      const term = base + rand(2);
      const n = 1 + rand(12);
      const add = Array.from({ length: n }, (_, i) => ent(from + i, term, Buffer.from(`e${from + i}-s${step}-${'x'.repeat(rand(120))}`)));
      return both(`append ${from}..${from + n - 1} t${term}`, (s) => s.append(add));
    }
    case 4: {
      const hs = { term: rand(50), vote: BigInt(rand(4)), commit: rand(last + 1) };
      return both(`hardState ${JSON.stringify({ ...hs, vote: String(hs.vote) })}`, (s) => s.setHardState(hs));
    }
    case 5: {
      const cs = { voters: [BigInt(1 + rand(3)), 9n], learners: rand(2) === 0 ? [] : [BigInt(20 + rand(3))] };
      return both('confState', (s) => s.setConfState(cs));
    }
    case 6: {
      const lo = Math.max(snapIndex + 1, first - 1);
      if (lo > last) return null;
      const index = lo + rand(last - lo + 1);
      const cs = { voters: [1n, 2n, 3n], learners: [] };
      const data = Buffer.from(`snapshot-${index}-${step}`);
      return both(`createSnapshot ${index}`, (s) => s.createSnapshot(index, cs, data));
    }
    case 7: {
      const hi = Math.min(last, snapIndex);
      if (hi < first) return null;
      const index = first + rand(hi - first + 1);
      return both(`compact ${index}`, (s) => s.compact(index));
    }
    case 8: {
      if (rand(4) !== 0) return null;
      const index = snapIndex + 1 + rand(last - snapIndex + 20);
      const snap = snapshotAt(index, m.term(Math.min(last, Math.max(first - 1, index))) + rand(2), [BigInt(1 + rand(5))], Buffer.from(`installed-${index}`));
      return both(`applySnapshot ${index}`, (s) => s.applySnapshot(snap));
    }
    default:
      return { name: 'persist', op: async (_a, b) => { await b.persist(); } };
  }
}

describe('WalStorage restart', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`reopens to the same state as MemoryStorage after a random history (seed ${seed})`, (t) => withTempDir(async (dir) => {
      const float = seededRandom(seed);
      const rand = (n: number): number => Math.floor(float() * n);
      const opts = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
      const mem = new MemoryStorage();
      let wal = await WalStorage.open(dir, undefined, opts);
      const history: string[] = [];
      let released = 0;
      try {
        for (let step = 0; step < 400; step++) {
          const next = randomOp(rand, mem, step);
          if (next === null) continue;
          history.push(next.name);
          await next.op(mem, wal);
          if (step % 25 === 24) {
            await wal.persist();
            released = Math.max(released, wal.walStats.segmentsReleased);
            await wal.close();
            wal = await WalStorage.open(dir, undefined, opts);
            assert.deepEqual(dump(wal), dump(mem), `seed ${seed} after: ${history.slice(-8).join('; ')}`);
          }
        }
      } finally {
        await wal.close();
      }
      const reopened = await WalStorage.open(dir, undefined, opts);
      assert.deepEqual(dump(reopened), dump(mem));
      await reopened.close();
      t.diagnostic(`${history.length} operations, ${released} WAL segments released`);
    }));
  }

  it('compaction after a snapshot releases WAL segments, and the log still reopens whole', () => withTempDir(async (dir) => {
    const opts = { segmentSizeBytes: SMALL_SEGMENT_BYTES };
    const s = await WalStorage.open(dir, undefined, opts);
    for (let i = 1; i <= 300; i += 10) {
      s.append(Array.from({ length: 10 }, (_, k) => ent(i + k, 1 + Math.floor((i + k) / 100), Buffer.alloc(50, i + k))));
      s.setHardState({ term: 1 + Math.floor((i + 9) / 100), vote: 1n, commit: i + 9 });
      await s.persist();
    }
    const segmentsBefore = s.walSegmentNames().length;
    await s.createSnapshot(250, { voters: [1n], learners: [] }, Buffer.from('kv at 250'));
    await s.compact(240);
    const segmentsAfter = s.walSegmentNames().length;
    assert.ok(segmentsAfter < segmentsBefore / 2, `${segmentsBefore} → ${segmentsAfter} segments`);
    const before = dump(s);
    await s.close();
    const again = await WalStorage.open(dir, undefined, opts);
    assert.deepEqual(dump(again), before);
    assert.equal(again.firstIndex(), 241);
    assert.equal(again.snapshot().metadata.index, 250);
    assert.deepEqual(again.initialState().hardState, { term: 4, vote: 1n, commit: 300 });
    await again.close();
  }));

  it('snapshotAndCompact keeps the catch-up entries behind the snapshot', () => withTempDir(async (dir) => {
    const s = await WalStorage.open(dir, undefined, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
    s.append(Array.from({ length: 300 }, (_, i) => ent(i + 1, 1, Buffer.alloc(20))));
    await s.persist();
    const snap = await s.snapshotAndCompact(250, { voters: [1n], learners: [] }, Buffer.from('kv'), 100);
    assert.equal(snap.metadata.index, 250);
    assert.equal(s.firstIndex(), 151);
    await s.snapshotAndCompact(260, { voters: [1n], learners: [] }, Buffer.from('kv'), 1000);
    assert.equal(s.firstIndex(), 151, 'no compaction when the catch-up window reaches past the log start');
    await s.close();
    const again = await WalStorage.open(dir, undefined, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
    assert.equal(again.firstIndex(), 151);
    assert.equal(again.snapshot().metadata.index, 260);
    await again.close();
  }));

  it('a torn tail inside a persisted batch never leaves a commit index beyond the kept entries', () => withTempDir(async (dir) => {
    const s = await WalStorage.open(dir, undefined, { preallocateBytes: 0 }); // the file is exactly its records
    s.append([ent(1, 1), ent(2, 1)]);
    s.setHardState({ term: 1, vote: 1n, commit: 2 });
    await s.persist();
    const walDir = join(dir, 'wal');
    const [segment] = (await readdir(walDir)).filter((n) => n.endsWith('.wal'));
    const sizeA = (await readFile(join(walDir, segment))).length;
    s.append([ent(3, 2, Buffer.alloc(40, 3)), ent(4, 2, Buffer.alloc(40, 4))]);
    s.setHardState({ term: 2, vote: 1n, commit: 4 });
    await s.close();
    const full = await readFile(join(walDir, segment));
    let sawPartial = false;
    for (let cut = sizeA; cut < full.length; cut++) {
      await writeFile(join(walDir, segment), full.subarray(0, cut));
      const r = await WalStorage.open(dir, capturingLogger());
      const { hardState } = r.initialState();
      assert.ok(hardState.commit <= r.lastIndex(), `cut ${cut}: commit ${hardState.commit} > last ${r.lastIndex()}`);
      assert.equal(hardState.commit, 2, `cut ${cut}: the batch's hard state goes only with the whole batch`);
      if (r.lastIndex() === 3) sawPartial = true;
      await r.close();
    }
    assert.ok(sawPartial, 'some cuts keep part of the batch');
  }));

  it('refuses to open when the snapshot file the WAL names is missing, naming index and term', () => withTempDir(async (dir) => {
    const s = await WalStorage.open(dir);
    s.append([ent(1, 1), ent(2, 2)]);
    await s.createSnapshot(2, { voters: [1n], learners: [] }, Buffer.from('x'));
    await s.close();
    await rm(join(dir, 'snap'), { recursive: true });
    await assert.rejects(WalStorage.open(dir), (e: unknown) => {
      assert.ok(isWalError(e, 'Corrupt'), String(e));
      assert.match(e.message, /snapshot at index 2 term 2/);
      return true;
    });
  }));

  it('keeps only the newest snapshot files (maxSnapshots)', () => withTempDir(async (dir) => {
    const s = await WalStorage.open(dir, undefined, { maxSnapshots: 2 });
    s.append(Array.from({ length: 6 }, (_, i) => ent(i + 1, 1)));
    for (let i = 1; i <= 5; i++) await s.createSnapshot(i, { voters: [1n], learners: [] }, Buffer.from(`s${i}`));
    await s.close();
    const files = (await readdir(join(dir, 'snap'))).sort();
    assert.deepEqual(files, ['0000000000000001-0000000000000004.snap', '0000000000000001-0000000000000005.snap']);
    const again = await WalStorage.open(dir, undefined, { maxSnapshots: 2 });
    assert.deepEqual(Buffer.from(again.snapshot().data).toString(), 's5');
    await again.close();
  }));
});

// ---- the real Raft core over WalStorage: three members, a restart, a snapshot catch-up ----

/** One member: the core, its durable storage, and a state machine (the applied payloads). */
class Member {
  node: RawNode;
  storage: WalStorage;
  applied = 0;
  confState: ConfState = { voters: [], learners: [] };
  values: string[] = [];
  alive = true;

  constructor(readonly id: NodeId, readonly dir: string, storage: WalStorage) {
    this.storage = storage;
    this.node = this.newNode();
  }

  newNode(): RawNode {
    return new RawNode({ id: this.id, storage: this.storage, applied: this.applied, random: seededRandom(Number(this.id)) });
  }

  /** The host loop's one turn: install, persist (one fsync), send, apply, advance. */
  async handleReady(outbox: Message[]): Promise<boolean> {
    if (!this.alive || !this.node.hasReady()) return false;
    const rd = this.node.ready();
    if (rd.snapshot !== null) {
      await this.storage.applySnapshot(rd.snapshot);
      this.values = JSON.parse(Buffer.from(rd.snapshot.data).toString()) as string[];
      this.applied = rd.snapshot.metadata.index;
      this.confState = rd.snapshot.metadata.confState;
    }
    if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
    this.storage.append(rd.entries);
    await this.storage.persist();
    outbox.push(...rd.messages);
    for (const e of rd.committedEntries) {
      assert.equal(e.index, this.applied + 1, `member ${this.id} applies in order`);
      if (e.type === 'confChange') {
        this.confState = this.node.applyConfChange(decodeConfChange(e.data));
        this.storage.setConfState(this.confState);
      } else if (e.data.length > 0) {
        this.values.push(Buffer.from(e.data).toString());
      }
      this.applied = e.index;
    }
    this.node.advance();
    return true;
  }

  async snapshot(catchUpEntries: number): Promise<void> {
    if (this.applied <= this.storage.snapshot().metadata.index) return;
    await this.storage.snapshotAndCompact(this.applied, this.confState, Buffer.from(JSON.stringify(this.values)), catchUpEntries);
  }

  /** Crash and restart: volatile state is gone; the state machine restarts from the snapshot
   * and the core replays the committed entries after it from the WAL. */
  async restart(): Promise<void> {
    await this.storage.close();
    this.storage = await WalStorage.open(this.dir, undefined, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
    const snap = this.storage.snapshot();
    this.values = snap.metadata.index === 0 ? [] : JSON.parse(Buffer.from(snap.data).toString()) as string[];
    this.applied = snap.metadata.index;
    this.confState = snap.metadata.index === 0 ? { voters: [], learners: [] } : snap.metadata.confState;
    this.node = this.newNode();
    this.alive = true;
  }
}

class Cluster {
  readonly outbox: Message[] = [];
  constructor(readonly members: Map<NodeId, Member>) {}

  /** Runs every member's Readies and delivers messages until nothing moves (bounded). */
  async settle(ticks = 0): Promise<void> {
    const MAX_ROUNDS = 2_000;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let moved = false;
      for (const m of this.members.values()) {
        if (round < ticks && m.alive) m.node.tick();
        while (await m.handleReady(this.outbox)) moved = true;
      }
      for (const msg of this.outbox.splice(0)) {
        const to = this.members.get(msg.to);
        if (to === undefined || !to.alive) continue;
        to.node.step(msg);
        moved = true;
        if (msg.type === MessageType.Snap) this.members.get(msg.from)?.node.reportSnapshot(msg.to, true);
      }
      if (!moved && round >= ticks) return;
    }
    throw new Error('cluster did not settle');
  }

  leader(): Member {
    const m = [...this.members.values()].find((x) => x.alive && x.node.status().state === 'leader');
    assert.ok(m !== undefined, 'a leader');
    return m;
  }

  async propose(count: number, tag: string): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.leader().node.propose(Buffer.from(`${tag}-${i}`));
      if (i % 16 === 15) await this.settle();
    }
    await this.settle();
  }
}

describe('the Raft core over WalStorage', () => {
  it('three members commit, survive a restart, and a lagging member catches up by snapshot', () => withTempDir(async (root) => {
    const ids: NodeId[] = [1n, 2n, 3n];
    const members = new Map<NodeId, Member>();
    for (const id of ids) {
      const dir = join(root, `member-${id}`);
      const storage = await WalStorage.open(dir, undefined, { segmentSizeBytes: SMALL_SEGMENT_BYTES });
      storage.append(bootstrapEntries(ids));
      storage.setHardState(bootstrapHardState(ids.length));
      await storage.persist();
      members.set(id, new Member(id, dir, storage));
    }
    const cluster = new Cluster(members);
    try {
      await cluster.settle();
      members.get(1n)?.node.campaign();
      await cluster.settle();
      assert.equal(cluster.leader().id, 1n);
      await cluster.propose(100, 'a');
      for (const m of members.values()) await m.snapshot(10);

      const m2 = members.get(2n) as Member;
      await m2.restart();
      const m3 = members.get(3n) as Member;
      m3.alive = false;
      await cluster.settle(3);
      await cluster.propose(120, 'b');
      for (const m of [members.get(1n), m2] as Member[]) await m.snapshot(10);
      const leaderFirst = cluster.leader().storage.firstIndex();
      assert.ok(leaderFirst > m3.storage.lastIndex() + 1, 'the leader compacted past member 3\'s log');

      await m3.restart();
      await cluster.settle(3);
      assert.ok(m3.storage.snapshot().metadata.index >= leaderFirst - 1, 'member 3 installed a snapshot');
      await cluster.propose(5, 'c');

      const expected = [...Array.from({ length: 100 }, (_, i) => `a-${i}`), ...Array.from({ length: 120 }, (_, i) => `b-${i}`),
        ...Array.from({ length: 5 }, (_, i) => `c-${i}`)];
      for (const m of members.values()) assert.deepEqual(m.values, expected, `member ${m.id}`);
      for (const m of members.values()) {
        const before = dump(m.storage);
        await m.restart();
        assert.deepEqual(dump(m.storage), before, `member ${m.id} reopens to the same storage`);
      }
      await cluster.settle(3);
      for (const m of members.values()) assert.deepEqual(m.values, expected, `member ${m.id} after the last restart`);
    } finally {
      for (const m of members.values()) await m.storage.close();
    }
  }));
});
