/**
 * The deterministic network simulator for the Raft core.
 *
 * N members, each a RawNode over a MemoryStorage (its "disk") and a durable state machine (a
 * rolling hash of applied entries, stored with its applied index as LMDB would). A seeded
 * scheduler picks one action per step: tick, deliver / drop / duplicate a random in-flight
 * message (random choice = reordering and delay), take a Ready and persist it, send and apply
 * a persisted Ready, propose, read, partition / heal, crash / restart from disk, membership
 * changes, leader transfer, snapshot + compaction. After every step the invariant checker
 * looks at every node. A run ends with a liveness phase: heal everything, restart everyone,
 * and require a leader and a committed proposal within a bounded number of ticks.
 *
 * Owns: test scaffolding only. Must never: use Math.random or the clock — a seed replays
 * exactly (RAFT_SEED=n), which is the point.
 */
import {
  MemoryStorage, RawNode, RaftError, bootstrapEntries, bootstrapHardState, decodeConfChange,
  decodeMessage, encodeMessage, isRaftError, seededRandom, MessageType, MESSAGE_TYPE_NAMES,
  type ConfChange, type ConfState, type Entry, type Message, type NodeId, type Ready,
} from '../../src/raft/index.js';
import { Invariants } from './invariants.js';

export interface SimOptions {
  seed: number;
  steps: number;
  /** Print every action (for replaying a failing seed). */
  trace?: boolean;
}

/** Counters that prove a run exercised what it claims to. */
export interface SimStats {
  elections: number;
  committed: number;
  readsServed: number;
  snapshotsInstalled: number;
  confChangesApplied: number;
  crashes: number;
  transfers: number;
  livenessTicks: number;
}

interface InFlight {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly type: number;
  readonly bytes: Uint8Array;
}

type Action = 'tick' | 'deliver' | 'persist' | 'complete' | 'propose' | 'read' | 'partition' |
  'crash' | 'membership' | 'transfer' | 'snapshot' | 'readyPair';
const ACTIONS: readonly Action[] = ['tick', 'deliver', 'persist', 'complete', 'propose', 'read',
  'partition', 'crash', 'membership', 'transfer', 'snapshot', 'readyPair'];

/** Weather profiles: relative action weights, in ACTIONS order. Each seed picks one, so some
 * worlds are calm, some crash a lot, some keep partitions long enough for a new leader to be
 * elected and commit while the old one still believes it leads. */
const PROFILES: Record<string, readonly number[]> = {
  //            tick dlvr pers cmpl prop read part crsh memb xfer snap pair
  mixed:           [3, 40, 12, 12, 8, 5, 0.6, 0.8, 1, 0.4, 1.5, 8],
  longPartitions:  [4, 40, 10, 10, 8, 8, 0.2, 0.2, 0.5, 0.2, 1, 8],
  crashy:          [3, 36, 12, 12, 8, 4, 0.5, 3, 1.5, 0.5, 3, 8],
  splitBrainReads: [4, 40, 10, 10, 8, 12, 0.2, 0.1, 0.2, 0.2, 0.5, 8],
};

/** Bounds of the simulated world (every queue bounded). */
const MAX_IN_FLIGHT_MESSAGES = 4000;
const MAX_MEMBERS = 7;
const LIVENESS_MAX_TICKS = 400;
const SETTLE_MAX_ROUNDS = 200;

export class SimNode {
  readonly id: NodeId;
  readonly storage = new MemoryStorage();
  node: RawNode | null = null;
  /** A Ready taken and persisted, not yet sent/applied/advanced. */
  pending: Ready | null = null;
  /** Durable state machine: applied index, hash of everything applied, conf state. */
  appliedIndex = 0;
  appliedHash = 0;
  confState: ConfState = { voters: [], learners: [] };
  /** Shut down for good after applying its own removal. */
  stopped = false;
  /** Ticks left before a node that applied its own removal shuts down (etcd stops with a
   * delay so the commit of its removal can reach the others); -1 when not stopping. */
  stopInTicks = -1;
  /** Members whose removal this node applied: like etcd's peers, it refuses their traffic,
   * so a removed node that missed its removal cannot disrupt elections. Durable. */
  readonly removedIds = new Set<NodeId>();

  constructor(id: NodeId) {
    this.id = id;
  }

  get alive(): boolean {
    return this.node !== null;
  }
}

/** FNV-style mix of the running hash with one applied entry. */
export function mixHash(h: number, e: Entry): number {
  let x = (h ^ e.index) >>> 0;
  x = Math.imul(x ^ e.term, 16777619) >>> 0;
  for (let i = 0; i < e.data.length; i++) x = Math.imul(x ^ e.data[i], 16777619) >>> 0;
  return x;
}

export function bytesKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

export class Simulation {
  readonly rand: () => number;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly inv = new Invariants();
  readonly stats: SimStats = {
    elections: 0, committed: 0, readsServed: 0, snapshotsInstalled: 0, confChangesApplied: 0,
    crashes: 0, transfers: 0, livenessTicks: 0,
  };
  private net: InFlight[] = [];
  private readonly cut = new Set<string>();
  private nextNodeId: bigint;

  private proposalSeq = 0;
  private readSeq = 0;
  readonly log: string[] = [];
  private readonly opts: SimOptions;
  // per-seed world parameters
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly dropRate: number;
  readonly dupRate: number;
  readonly profile: string;
  private readonly weights: { table: readonly number[]; total: number };
  /** Chance that a partition action heals instead of cutting anew. */
  private readonly healRate: number;

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rand = seededRandom(opts.seed * 2654435761);
    const r = this.rand;
    this.preVote = r() < 0.8;
    this.checkQuorum = r() < 0.7;
    this.electionTick = 5 + Math.floor(r() * 8);
    this.heartbeatTick = 1 + Math.floor(r() * 2);
    this.maxSizePerMsgBytes = r() < 0.5 ? 64 : 4096;
    this.maxInflightMsgs = 1 + Math.floor(r() * 8);
    this.dropRate = r() * 0.15;
    this.dupRate = r() * 0.05;
    const names = Object.keys(PROFILES);
    this.profile = names[Math.floor(r() * names.length)];
    const table = PROFILES[this.profile];
    this.weights = { table, total: table.reduce((a, b) => a + b, 0) };
    this.healRate = this.profile === 'longPartitions' || this.profile === 'splitBrainReads' ? 0.2 : 0.4;
    const founders = r() < 0.1 ? 1 : r() < 0.5 ? 3 : 5;
    const ids: NodeId[] = [];
    for (let i = 1; i <= founders; i++) ids.push(BigInt(i));
    this.nextNodeId = BigInt(founders + 1);
    const ents = bootstrapEntries(ids);
    for (const id of ids) {
      const n = new SimNode(id);
      n.storage.append(ents);
      n.storage.setHardState(bootstrapHardState(ids.length));
      this.nodes.set(id, n);
      this.start(n);
    }
    this.inv.recordBootstrap(ents);
    this.trace(`world preVote=${this.preVote} checkQuorum=${this.checkQuorum} election=${this.electionTick} ` +
      `hb=${this.heartbeatTick} maxMsg=${this.maxSizePerMsgBytes} inflight=${this.maxInflightMsgs} ` +
      `drop=${this.dropRate.toFixed(3)} dup=${this.dupRate.toFixed(3)} founders=${founders} profile=${this.profile}`);
  }

  trace(s: string): void {
    if (this.opts.trace) this.log.push(s);
  }

  private start(n: SimNode): void {
    n.node = new RawNode({
      id: n.id, storage: n.storage, applied: n.appliedIndex, random: this.rand,
      electionTick: this.electionTick, heartbeatTick: this.heartbeatTick,
      preVote: this.preVote, checkQuorum: this.checkQuorum,
      maxSizePerMsgBytes: this.maxSizePerMsgBytes, maxInflightMsgs: this.maxInflightMsgs,
      maxPendingReadIndexRequests: 64, maxUncommittedEntriesBytes: 1 << 16,
    });
    n.pending = null;
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.rand() * xs.length)];
  }

  live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      const r = n.node!.raft;
      if (r.state === 'leader' && (best === undefined || r.term > best.node!.raft.term)) best = n;
    }
    return best;
  }

  // ------------------------------------------------------------ the run

  run(): SimStats {
    for (let step = 0; step < this.opts.steps; step++) {
      this.randomAction(step);
      this.inv.checkNodes(this.nodes.values(), this.stats);
    }
    this.liveness();
    return this.stats;
  }

  private randomAction(step: number): void {
    const w = this.weights;
    let x = this.rand() * w.total;
    let i = 0;
    while (i < ACTIONS.length - 1 && x >= w.table[i]) x -= w.table[i++];
    this.doAction(ACTIONS[i]);
    if (this.opts.trace && step % 100 === 0) this.trace(`-- step ${step} ${this.summary()}`);
  }

  private doAction(a: Action): void {
    switch (a) {
      case 'tick': return this.tickAll();
      case 'deliver': return this.deliverOne();
      case 'persist': return this.persistReady();
      case 'complete': return this.completeReady();
      case 'propose': return this.proposeRandom();
      case 'read': return this.readRandom();
      case 'partition': return this.partitionRandom();
      case 'crash': return this.crashOrRestart();
      case 'membership': return this.membershipRandom();
      case 'transfer': return this.transferRandom();
      case 'snapshot': return this.snapshotRandom();
      case 'readyPair': return this.stepPair();
    }
  }

  summary(): string {
    return [...this.nodes.values()].map((n) => {
      if (!n.alive) return `${n.id}:${n.stopped ? 'stopped' : 'down'}`;
      const r = n.node!.raft;
      return `${n.id}:${r.state[0]}${r.term}/c${r.log.committed}/l${r.log.lastIndex()}/a${n.appliedIndex}`;
    }).join(' ');
  }

  /** A node takes a Ready and delivers a message, back to back: keeps queues moving. */
  private stepPair(): void {
    this.persistReady();
    this.completeReady();
  }

  tickAll(): void {
    for (const n of this.live()) {
      n.node!.tick();
      if (n.stopInTicks > 0 && --n.stopInTicks === 0) {
        n.node = null;
        n.pending = null;
        n.stopped = true;
        this.trace(`node ${n.id} shuts down after applying its removal`);
      }
    }
  }

  // ------------------------------------------------------------ network

  private send(m: Message): void {
    const bytes = encodeMessage(m);
    if (this.net.length >= MAX_IN_FLIGHT_MESSAGES) this.net.splice(Math.floor(this.rand() * this.net.length), 1);
    this.net.push({ from: m.from, to: m.to, type: m.type, bytes });
  }

  private deliverOne(): void {
    if (this.net.length === 0) return;
    // Mostly oldest first, so latency stays well below an election timeout (as on a real
    // network); otherwise any message, which reorders and delays.
    const i = this.rand() < 0.7 ? 0 : Math.floor(this.rand() * this.net.length);
    const f = this.net[i];
    const dup = this.rand() < this.dupRate;
    if (!dup) this.net.splice(i, 1);
    this.deliver(f, this.rand() < this.dropRate);
  }

  private deliver(f: InFlight, drop: boolean): void {
    const target = this.nodes.get(f.to);
    const sender = this.nodes.get(f.from);
    const blocked = drop || this.cut.has(`${f.from}>${f.to}`) || target === undefined || !target.alive ||
      target.removedIds.has(f.from);
    if (blocked) {
      if (sender?.alive) {
        if (f.type === MessageType.Snap) sender.node!.reportSnapshot(f.to, false);
        else if (this.rand() < 0.3) sender.node!.reportUnreachable(f.to);
      }
      return;
    }
    const m = decodeMessage(f.bytes);
    this.trace(`deliver ${MESSAGE_TYPE_NAMES[m.type]} ${m.from}->${m.to} t${m.term} i${m.index} c${m.commit} n${m.entries.length}${m.reject ? ' R' : ''}`);
    target!.node!.step(m);
    if (f.type === MessageType.Snap && sender?.alive) sender.node!.reportSnapshot(f.to, true);
  }

  // ------------------------------------------------------------ ready handling

  private persistReady(): void {
    const n = this.pick(this.live().filter((x) => x.pending === null && x.node!.hasReady()));
    if (n !== undefined) this.persistFor(n);
  }

  private persistFor(n: SimNode): void {
    const rd = n.node!.ready();
    this.inv.beforePersist(n, rd);
    if (rd.snapshot !== null) {
      n.storage.applySnapshot(rd.snapshot);
      this.inv.onSnapshotInstalled(n, rd.snapshot);
      n.appliedIndex = rd.snapshot.metadata.index;
      n.appliedHash = new DataView(rd.snapshot.data.buffer, rd.snapshot.data.byteOffset).getUint32(0);
      n.confState = rd.snapshot.metadata.confState;
      this.stats.snapshotsInstalled++;
    }
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    n.storage.append(rd.entries);
    n.pending = rd;
  }

  private completeReady(): void {
    const n = this.pick(this.live().filter((x) => x.pending !== null));
    if (n !== undefined) this.completeFor(n);
  }

  private completeFor(n: SimNode): void {
    const rd = n.pending!;
    n.pending = null;
    for (const m of rd.messages) this.send(m);
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) {
      this.inv.onReadState(n, rs, n.appliedIndex);
      this.stats.readsServed++;
    }
    n.node!.advance();
  }

  private apply(n: SimNode, e: Entry): void {
    this.inv.onApplyOrder(n, e);
    if (e.type === 'confChange') {
      const cc = decodeConfChange(e.data);
      n.confState = n.node!.applyConfChange(cc);
      n.storage.setConfState(n.confState);
      this.stats.confChangesApplied++;
      const member = n.confState.voters.includes(cc.nodeId) || n.confState.learners.includes(cc.nodeId);
      if (cc.type === 'removeNode' && !member) {
        n.removedIds.add(cc.nodeId);
        if (cc.nodeId === n.id && n.stopInTicks < 0) n.stopInTicks = 2 * this.electionTick;
      }
    }
    n.appliedHash = mixHash(n.appliedHash, e);
    n.appliedIndex = e.index;
    this.inv.onApply(n, e);
    this.stats.committed++;
  }

  // ------------------------------------------------------------ client actions

  private proposeRandom(): void {
    const l = this.leader();
    const n = l !== undefined && this.rand() < 0.7 ? l : this.pick(this.live());
    if (n === undefined) return;
    const count = 1 + Math.floor(this.rand() * 3);
    const datas: Uint8Array[] = [];
    for (let i = 0; i < count; i++) datas.push(new TextEncoder().encode(`p${++this.proposalSeq}`));
    try {
      n.node!.proposeBatch(datas);
    } catch (e) {
      if (!isRaftError(e, 'ProposalDropped')) throw e;
    }
  }

  private readRandom(): void {
    const n = this.pick(this.live());
    if (n === undefined) return;
    const ctx = new TextEncoder().encode(`r${n.id}-${++this.readSeq}`);
    this.inv.onReadRequested(ctx);
    try {
      n.node!.readIndex(ctx);
    } catch (e) {
      if (!isRaftError(e, 'ReadIndexDropped')) throw e;
    }
  }

  private transferRandom(): void {
    const l = this.leader();
    if (l === undefined) return;
    const target = this.pick(l.node!.raft.prs.voters.filter((id) => id !== l.id));
    if (target === undefined) return;
    this.trace(`transfer ${l.id} -> ${target}`);
    this.stats.transfers++;
    l.node!.transferLeader(target);
  }

  private membershipRandom(): void {
    const l = this.leader();
    if (l === undefined) return;
    const cs = l.node!.raft.prs.confState();
    const members = [...cs.voters, ...cs.learners];
    const x = this.rand();
    let cc: ConfChange;
    if (x < 0.35 && members.length < MAX_MEMBERS) {
      cc = { type: this.rand() < 0.7 ? 'addLearner' : 'addNode', nodeId: this.nextNodeId++, context: new Uint8Array(0) };
    } else if (x < 0.65 && cs.learners.length > 0) {
      cc = { type: 'promote', nodeId: this.pick(cs.learners)!, context: new Uint8Array(0) };
    } else if (members.length > 1) {
      cc = { type: 'removeNode', nodeId: this.pick(members)!, context: new Uint8Array(0) };
    } else {
      return;
    }
    try {
      l.node!.proposeConfChange(cc);
    } catch (e) {
      if (e instanceof RaftError && ['ConfChangePending', 'InvalidConfChange', 'ProposalDropped'].includes(e.kind)) return;
      throw e;
    }
    this.trace(`propose ${cc.type} ${cc.nodeId} at ${l.id}`);
    if ((cc.type === 'addLearner' || cc.type === 'addNode') && !this.nodes.has(cc.nodeId)) {
      const joiner = new SimNode(cc.nodeId);
      this.nodes.set(cc.nodeId, joiner);
      this.start(joiner);
    }
  }

  private snapshotRandom(): void {
    const n = this.pick(this.live().filter((x) => x.appliedIndex > x.storage.snapshot().metadata.index));
    if (n === undefined) return;
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, n.appliedHash);
    const snap = n.storage.createSnapshot(n.appliedIndex, n.confState, data);
    this.inv.onSnapshotCreated(n, snap);
    const keep = Math.floor(this.rand() * 4);
    const at = snap.metadata.index - keep;
    if (at > n.storage.firstIndex()) n.storage.compact(at);
    this.trace(`snapshot ${n.id} at ${snap.metadata.index}, compact to ${at}`);
  }

  // ------------------------------------------------------------ faults

  private partitionRandom(): void {
    const x = this.rand();
    this.cut.clear();
    if (x < this.healRate) {
      this.trace('heal');
      return;
    }
    const ids = [...this.nodes.keys()];
    let side = new Set(ids.filter(() => this.rand() < 0.5));
    const l = this.leader();
    if (l !== undefined && this.rand() < 0.6) {
      // Targeted: the leader with a minority of its followers, so that the majority elects a
      // new leader while the old one may still believe it leads (split brain).
      const others = l.node!.raft.prs.voters.filter((id) => id !== l.id);
      const minority = Math.floor(this.rand() * (Math.floor(others.length / 2) + 1));
      side = new Set([l.id]);
      while (side.size < minority + 1) side.add(this.pick(others)!);
    }
    for (const a of ids) for (const b of ids) {
      if (side.has(a) !== side.has(b)) this.cut.add(`${a}>${b}`);
    }
    this.trace(`partition {${[...side].join(',')}} | rest`);
  }

  private crashOrRestart(): void {
    const down = [...this.nodes.values()].filter((n) => !n.alive && !n.stopped);
    if (down.length > 0 && this.rand() < 0.6) {
      const n = this.pick(down)!;
      this.trace(`restart ${n.id}`);
      this.start(n);
      return;
    }
    const l = this.leader();
    const n = l !== undefined && this.rand() < 0.5 ? l : this.pick(this.live());
    if (n === undefined) return;
    this.trace(`crash ${n.id}${n.pending !== null ? ' (Ready persisted, not sent)' : ''}`);
    n.node = null;
    n.pending = null;
    this.stats.crashes++;
  }

  // ------------------------------------------------------------ liveness

  /** Everything heals: a leader must appear and a proposal must commit everywhere. */
  private liveness(): void {
    this.cut.clear();
    // Restart everyone not shut down after its removal, and also a removed node that some
    // remaining node still counts as a member (its removal did not reach them): an operator
    // would bring it back to let the others finish the change.
    for (const n of this.nodes.values()) {
      n.stopInTicks = -1;
      const stillNeeded = [...this.nodes.values()].some((o) => o !== n && !o.stopped &&
        (o.confState.voters.includes(n.id) || o.confState.learners.includes(n.id)));
      if (!n.alive && (!n.stopped || stillNeeded)) {
        n.stopped = false;
        this.start(n);
      }
    }
    this.trace(`liveness start ${this.summary()}`);
    const marker = new TextEncoder().encode(`final-${this.opts.seed}`);
    let proposedAtTerm = -1;
    for (let t = 0; t < LIVENESS_MAX_TICKS; t++) {
      this.tickAll();
      this.settle();
      this.inv.checkNodes(this.nodes.values(), this.stats);
      const l = this.leader();
      if (l !== undefined && proposedAtTerm !== l.node!.raft.term) {
        try {
          l.node!.propose(marker);
          proposedAtTerm = l.node!.raft.term;
        } catch (e) {
          if (!isRaftError(e, 'ProposalDropped')) throw e;
        }
      }
      if (this.allApplied(marker)) {
        this.stats.livenessTicks = t + 1;
        return;
      }
    }
    throw new Error(`liveness: no committed proposal on every member within ${LIVENESS_MAX_TICKS} ticks: ${this.summary()}`);
  }

  private allApplied(marker: Uint8Array): boolean {
    const key = bytesKey(marker);
    const idx = this.inv.indexOfApplied(key);
    if (idx < 0) return false;
    const l = this.leader();
    if (l === undefined) return false;
    // Members of the current configuration (a removal may commit during this phase).
    const cs = l.node!.raft.prs.confState();
    const members = [...cs.voters, ...cs.learners];
    return members.every((id) => {
      const n = this.nodes.get(id);
      return n !== undefined && n.alive && n.appliedIndex >= idx;
    });
  }

  /** Fair network: deliver everything and process every Ready until quiet. */
  private settle(): void {
    for (let round = 0; round < SETTLE_MAX_ROUNDS; round++) {
      let busy = false;
      for (const n of this.live()) {
        if (n.pending === null && n.node!.hasReady()) {
          this.persistFor(n);
          busy = true;
        }
        if (n.pending !== null) this.completeFor(n);
      }
      this.inv.checkNodes(this.nodes.values(), this.stats);
      const batch = this.net;
      this.net = [];
      for (const f of batch) this.deliver(f, false);
      this.inv.checkNodes(this.nodes.values(), this.stats);
      if (!busy && batch.length === 0) return;
    }
  }

}
