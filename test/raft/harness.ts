/**
 * A small deterministic cluster for scenario tests: every node is a RawNode over its own
 * MemoryStorage ("disk"); messages wait in one queue until delivered; partitions and a drop
 * filter decide what arrives. Ready handling follows the host contract (persist → send →
 * apply → advance). Not the randomized simulator (see sim.ts): here tests script each step.
 *
 * Owns: test scaffolding only. Must never: reach into the core beyond RawNode and its status,
 * except where a test says so explicitly.
 */
import {
  MemoryStorage, RawNode, bootstrapEntries, bootstrapHardState, decodeConfChange, seededRandom,
  MessageType, MESSAGE_TYPE_NAMES,
  type ConfState, type Entry, type Message, type NodeId, type RaftConfig, type ReadState, type Snapshot,
} from '../../src/raft/index.js';

export interface ClusterOptions {
  voters: readonly NodeId[];
  learners?: readonly NodeId[];
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTick?: number;
  heartbeatTick?: number;
  seed?: number;
  maxSizePerMsgBytes?: number;
  maxInflightMsgs?: number;
  /** 'confState' (default): storage starts with the configuration and an empty log.
   * 'log': founders start with bootstrapEntries (needed when members join later). */
  bootstrap?: 'confState' | 'log';
}

export class TestNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  node: RawNode;
  /** Applied entries by index (data and term), the state machine of the test. */
  readonly applied = new Map<number, Entry>();
  appliedIndex = 0;
  readonly readStates: ReadState[] = [];
  confState: ConfState;
  crashed = false;

  constructor(id: NodeId, storage: MemoryStorage, node: RawNode, confState: ConfState) {
    this.id = id;
    this.storage = storage;
    this.node = node;
    this.confState = confState;
  }

  get state(): string {
    return this.node.raft.state;
  }

  get term(): number {
    return this.node.raft.term;
  }

  get commit(): number {
    return this.node.raft.log.committed;
  }

  appliedData(): string[] {
    const out: string[] = [];
    for (const [, e] of [...this.applied].sort((a, b) => a[0] - b[0])) {
      if (e.type === 'normal' && e.data.length > 0) out.push(new TextDecoder().decode(e.data));
    }
    return out;
  }
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export function describe(m: Message): string {
  return `${m.from}->${m.to} ${MESSAGE_TYPE_NAMES[m.type]} t${m.term} i${m.index} lt${m.logTerm} c${m.commit}` +
    ` n${m.entries.length}${m.reject ? ' reject' : ''}`;
}

export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  readonly queue: Message[] = [];
  /** Pairs "a>b" whose messages are dropped at delivery. */
  private readonly cut = new Set<string>();
  /** Return false to drop a message. */
  filter: ((m: Message) => boolean) | null = null;
  /** Rewrites a message at delivery (after `filter`); null drops it. */
  rewrite: ((m: Message) => Message | null) | null = null;
  /** Sees every message a node sends (before filters), for counting. */
  tap: ((m: Message) => void) | null = null;
  private readonly opts: ClusterOptions;
  private readonly random: () => number;

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.random = seededRandom(opts.seed ?? 1);
    const confState: ConfState = { voters: [...opts.voters], learners: [...(opts.learners ?? [])] };
    const viaLog = opts.bootstrap === 'log';
    const founding = viaLog ? bootstrapEntries(opts.voters) : [];
    for (const id of [...opts.voters, ...(opts.learners ?? [])]) {
      const storage = new MemoryStorage();
      if (viaLog) {
        storage.append(founding);
        storage.setHardState(bootstrapHardState(founding.length));
      } else {
        storage.setConfState(confState);
      }
      const initial = viaLog ? { voters: [], learners: [] } : confState;
      this.nodes.set(id, new TestNode(id, storage, this.newRawNode(id, storage, 0), initial));
    }
    if (viaLog) this.stabilize(); // apply the founding conf changes
  }

  config(id: NodeId, storage: MemoryStorage, applied: number): RaftConfig {
    const o = this.opts;
    return {
      id, storage, applied, random: this.random,
      electionTick: o.electionTick ?? 10, heartbeatTick: o.heartbeatTick ?? 1,
      preVote: o.preVote ?? true, checkQuorum: o.checkQuorum ?? true,
      maxSizePerMsgBytes: o.maxSizePerMsgBytes, maxInflightMsgs: o.maxInflightMsgs,
    };
  }

  private newRawNode(id: NodeId, storage: MemoryStorage, applied: number): RawNode {
    return new RawNode(this.config(id, storage, applied));
  }

  get(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Adds a fresh node with empty storage and no configuration (a joining member). */
  addEmptyNode(id: NodeId): TestNode {
    const storage = new MemoryStorage();
    const n = new TestNode(id, storage, this.newRawNode(id, storage, 0), { voters: [], learners: [] });
    this.nodes.set(id, n);
    return n;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  /** Splits into groups that cannot talk to each other. */
  partition(...groups: NodeId[][]): void {
    for (const g of groups) for (const h of groups) {
      if (g === h) continue;
      for (const a of g) for (const b of h) this.cut.add(`${a}>${b}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Crash: the node's volatile state is gone; its storage and applied state remain. */
  crash(id: NodeId): void {
    this.get(id).crashed = true;
  }

  restart(id: NodeId): void {
    const n = this.get(id);
    n.node = this.newRawNode(id, n.storage, n.appliedIndex);
    n.crashed = false;
  }

  /** Handles one Ready of one node; returns whether there was one. */
  processReady(n: TestNode): boolean {
    if (n.crashed || !n.node.hasReady()) return false;
    const rd = n.node.ready();
    if (rd.snapshot !== null) {
      n.storage.applySnapshot(rd.snapshot);
      n.appliedIndex = rd.snapshot.metadata.index;
      n.confState = rd.snapshot.metadata.confState;
      n.applied.clear();
      for (const [i, e] of decodeSnapshotData(rd.snapshot.data)) n.applied.set(i, e);
    }
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    n.storage.append(rd.entries);
    for (const m of rd.messages) {
      this.tap?.(m);
      this.queue.push(m);
    }
    for (const e of rd.committedEntries) this.apply(n, e);
    n.readStates.push(...rd.readStates);
    n.node.advance();
    return true;
  }

  private apply(n: TestNode, e: Entry): void {
    if (e.index !== n.appliedIndex + 1) throw new Error(`node ${n.id} applies ${e.index} after ${n.appliedIndex}`);
    if (e.type === 'confChange') {
      n.confState = n.node.applyConfChange(decodeConfChange(e.data));
      n.storage.setConfState(n.confState);
    }
    n.applied.set(e.index, e);
    n.appliedIndex = e.index;
  }

  private deliverable(m: Message): boolean {
    if (this.cut.has(`${m.from}>${m.to}`)) return false;
    if (this.filter !== null && !this.filter(m)) return false;
    const target = this.nodes.get(m.to);
    return target !== undefined && !target.crashed;
  }

  /** Delivers every queued message once (new ones wait); returns how many were delivered. */
  deliverQueued(): number {
    const batch = this.queue.splice(0);
    let n = 0;
    for (const m of batch) {
      if (!this.deliverable(m)) continue;
      const delivered = this.rewrite === null ? m : this.rewrite(m);
      if (delivered === null) continue;
      this.get(m.to).node.step(delivered);
      n++;
    }
    return n;
  }

  /** Ready → deliver until nothing moves (bounded). */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const n of this.nodes.values()) busy = this.processReady(n) || busy;
      busy = this.deliverQueued() > 0 || busy;
      if (!busy && this.queue.length === 0) return;
    }
    throw new Error('cluster did not stabilize');
  }

  /** The host of `id` snapshots its state machine at its applied index and compacts its log,
   * keeping `keepEntries` entries behind the snapshot. */
  snapshotAndCompact(id: NodeId, keepEntries = 0): Snapshot {
    const n = this.get(id);
    const snap = n.storage.createSnapshot(n.appliedIndex, n.confState, encodeSnapshotData(n.applied));
    const at = n.appliedIndex - keepEntries;
    if (at > n.storage.firstIndex()) n.storage.compact(at);
    return snap;
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.get(id).node.tick();
  }

  /** Ticks every live node once per round and stabilizes in between. */
  tickAll(rounds: number): void {
    for (let i = 0; i < rounds; i++) {
      for (const n of this.nodes.values()) if (!n.crashed) n.node.tick();
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.get(id).node.campaign();
    this.stabilize();
  }

  leaders(): TestNode[] {
    return [...this.nodes.values()].filter((n) => !n.crashed && n.state === 'leader');
  }

  /** The single live leader of the highest term, or throws. */
  leader(): TestNode {
    const ls = this.leaders().sort((a, b) => b.term - a.term);
    if (ls.length === 0) throw new Error('no leader');
    return ls[0];
  }

  propose(id: NodeId, data: string): void {
    this.get(id).node.propose(enc(data));
    this.stabilize();
  }
}

/** Snapshot payload of the test state machine: the applied entries, as JSON. */
function encodeSnapshotData(applied: ReadonlyMap<number, Entry>): Uint8Array {
  const rows = [...applied].map(([i, e]) => [i, e.term, e.type, Array.from(e.data)]);
  return new TextEncoder().encode(JSON.stringify(rows));
}

function decodeSnapshotData(data: Uint8Array): [number, Entry][] {
  const rows = JSON.parse(new TextDecoder().decode(data)) as [number, number, Entry['type'], number[]][];
  return rows.map(([i, term, type, bytes]) => [i, { index: i, term, type, data: new Uint8Array(bytes) }]);
}

export { MessageType };
