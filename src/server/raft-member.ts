/**
 * The Raft-backed proposer: the one async loop where the pure Raft core meets the world.
 *
 *   tick (every --heartbeat-interval) → ready() → persist hard state and entries (one fsync
 *   for the whole Ready) → send messages → apply committed entries (one store transaction per
 *   run of normal entries, the applied index in the same transaction) → answer waiting
 *   requests → advance()
 *
 * A single member and a cluster run this same path. Writes are answered only after they are
 * committed (on a quorum's disks) and applied here. Reads are linearizable through ReadIndex:
 * reads that arrive in the same turn share one ReadIndex round.
 *
 * Must never: send a message before what it promises is on disk; apply an entry twice or out of
 * order; let the pending maps grow without bound (each waiter has a deadline).
 */
import type { Logger } from 'pino';
import { CairnError } from '../errors/errors.js';
import type { MvccStore } from '../mvcc/store.js';
import {
  MessageType, RawNode, decodeConfChange, isRaftError, seededRandom,
  type ConfChange, type ConfState, type Entry, type Message, type NodeId, type Ready, type Status,
} from '../raft/index.js';
import type { PeerTransport } from '../transport/index.js';
import { decodeLogEntry, encodeLogEntry, type LogRequest } from './entry-codec.js';
import { decodeMemberContext, encodeMemberContext, type Member, type MembershipTable } from './membership.js';
import type { ServerMetrics } from './metrics.js';
import type { AppliedListener, BatchApply, Proposer } from './proposer.js';
import type { WalStorage } from './raft-storage.js';
import type { ServerOutcome, ServerRequest } from './requests.js';
import { receiveSnapshot, snapshotStream, type ReceivedSnapshot } from './snapshot-stream.js';
import type { Readable } from 'node:stream';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface RaftMemberOptions {
  memberId: bigint;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  snapshotCount: number;
  /** Entries kept behind a snapshot so a briefly lagging follower catches up from the log. */
  snapshotCatchUpEntries: number;
  /** Where received snapshots are written before they are installed (the store's directory). */
  snapshotWorkDir: string;
  /** How long a request may wait for its entry to apply before it is answered with a timeout. */
  requestTimeoutMs: number;
  logger: Logger;
}

export const LIMITS = {
  /** Writes waiting for their entry to apply; past this, "too many requests". */
  maxPendingProposals: 20_000,
  /** Reads waiting for a ReadIndex answer or for the apply loop to reach it. */
  maxPendingReads: 50_000,
  /** Retry period while there is no leader. */
  noLeaderRetryMs: 50,
};

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
  deadline: number;
}

interface ReadRound {
  ctx: Uint8Array;
  key: string;
  waiters: Array<Waiter<void>>;
  issued: boolean;
  /** Set when the leader confirmed: the read may run once applied reaches it. */
  index?: number;
}

export type RemovedListener = () => void;

export class RaftMember implements Proposer {
  readonly node: RawNode;
  private appliedIndex: number;
  private confState: ConfState;
  private lastSnapshotIndex: number;
  private readonly pending = new Map<string, Waiter<ServerOutcome>>();
  private readonly confWaiters = new Map<string, Waiter<Member[]>>();
  private readonly readsByCtx = new Map<string, ReadRound>();
  private openRead: ReadRound | null = null;
  private readsPending = 0;
  private seq: bigint;
  private loopRunning = false;
  private loopAgain = false;
  private ticker: NodeJS.Timeout | null = null;
  private closed = false;
  private leaderId: bigint = 0n;
  private term = 0;
  private loopFailure: Error | null = null;
  /** Snapshots received from the leader, by index, waiting for the core to accept them (at most one kept). */
  private received: { index: number; snap: ReceivedSnapshot } | null = null;
  /** Work that must not interleave with applying (defragment): run between two Readies. */
  private exclusive: Array<() => Promise<void>> = [];
  onRemoved: RemovedListener = () => {};
  /** Called after a snapshot from the leader replaced the store (reload what is derived from it). */
  onSnapshotInstalled: () => void = () => {};
  onLeaderChange: (leader: bigint) => void = () => {};

  constructor(
    private readonly opts: RaftMemberOptions,
    private readonly store: MvccStore,
    private readonly storage: WalStorage,
    private readonly transport: PeerTransport,
    private readonly members: MembershipTable,
    private readonly metrics: ServerMetrics,
    private readonly apply: BatchApply,
    private readonly onApplied: AppliedListener,
  ) {
    this.appliedIndex = Number(store.appliedIndex);
    const first = storage.firstIndex() - 1;
    if (this.appliedIndex < first) this.appliedIndex = first;
    // Raft re-delivers every committed entry after the last raft snapshot: entries the store
    // already holds are skipped, but their conf changes are applied to the core again (they are
    // idempotent), because the store may have come from a leader's snapshot newer than the
    // configuration in the WAL. Raft must also never be told it applied past its commit index.
    const commit = storage.initialState().hardState.commit;
    const rawApplied = Math.max(first, Math.min(storage.snapshot().metadata.index, this.appliedIndex, commit));
    removeStaleIncoming(opts.snapshotWorkDir);
    this.confState = storage.initialState().confState;
    this.lastSnapshotIndex = storage.snapshot().metadata.index;
    this.seq = BigInt(Date.now()) << 20n;
    const electionTick = Math.max(2, Math.round(opts.electionTimeoutMs / opts.heartbeatIntervalMs));
    this.node = new RawNode({
      id: opts.memberId,
      storage,
      random: seededRandom(Number(opts.memberId & 0xffffffffn) ^ Date.now()),
      electionTick,
      heartbeatTick: 1,
      applied: rawApplied,
      checkQuorum: true,
      preVote: true,
    });
  }

  start(): void {
    this.ticker = setInterval(() => this.tick(), this.opts.heartbeatIntervalMs);
    this.kick();
  }

  // ---- inputs ----

  private tick(): void {
    if (this.closed) return;
    this.node.tick();
    this.expireWaiters(Date.now());
    this.kick();
  }

  /** A batch of messages from a peer. */
  step(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      try {
        this.node.step(m);
      } catch (e) {
        if (!isRaftError(e)) throw e;
        this.opts.logger.debug({ err: e, type: m.type, from: m.from.toString(16) }, 'dropped peer message');
      }
    }
    this.kick();
  }

  propose(req: ServerRequest): Promise<ServerOutcome> {
    return this.proposeLog(req) as Promise<ServerOutcome>;
  }

  /** Changes a member's peer URLs: a normal log entry (the Raft configuration is unchanged). */
  async updateMemberUrls(id: bigint, peerUrls: string[]): Promise<Member[]> {
    await this.proposeLog({ memberUpdate: { id, peerUrls } });
    return this.members.list();
  }

  /** Publishes this member's name and client URLs through the log (as etcd does at start). */
  publishAttributes(name: string, clientUrls: string[]): Promise<unknown> {
    return this.proposeLog({ memberAttrs: { id: this.opts.memberId, name, clientUrls } });
  }

  private proposeLog(req: LogRequest): Promise<ServerOutcome> {
    if (this.closed) return Promise.reject(new CairnError('Stopped'));
    if (this.loopFailure) return Promise.reject(new CairnError('Corrupt', `etcdserver: ${this.loopFailure.message}`));
    if (this.pending.size >= LIMITS.maxPendingProposals) return Promise.reject(new CairnError('TooManyRequests'));
    const id = this.nextId();
    const data = encodeLogEntry({ id, req });
    return new Promise<ServerOutcome>((resolve, reject) => {
      const deadline = Date.now() + this.opts.requestTimeoutMs;
      this.pending.set(id, { resolve, reject, deadline });
      this.metrics.proposalsPending.inc();
      this.tryPropose(id, data, deadline);
    });
  }

  private tryPropose(id: string, data: Uint8Array, deadline: number): void {
    if (!this.pending.has(id)) return;
    try {
      this.node.propose(data);
      this.kick();
    } catch (e) {
      if (!isRaftError(e)) throw e;
      if (Date.now() + LIMITS.noLeaderRetryMs >= deadline) {
        this.failPending(id, new CairnError(this.leaderId === 0n ? 'NoLeader' : 'Timeout'));
        return;
      }
      setTimeout(() => this.tryPropose(id, data, deadline), LIMITS.noLeaderRetryMs).unref();
    }
  }

  /** Resolves once this member has applied everything committed before the call (ReadIndex). */
  readBarrier(): Promise<void> {
    if (this.closed) return Promise.reject(new CairnError('Stopped'));
    if (this.readsPending >= LIMITS.maxPendingReads) return Promise.reject(new CairnError('TooManyRequests'));
    return new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + this.opts.requestTimeoutMs;
      let round = this.openRead;
      if (!round) {
        const ctx = Buffer.from(this.nextId(), 'utf8');
        round = { ctx, key: ctx.toString('latin1'), waiters: [], issued: false };
        this.openRead = round;
        this.readsByCtx.set(round.key, round);
        setImmediate(() => this.issueRead(round!, deadline));
      }
      round.waiters.push({ resolve, reject, deadline });
      this.readsPending++;
    });
  }

  private issueRead(round: ReadRound, deadline: number): void {
    if (this.openRead === round) this.openRead = null;
    if (!this.readsByCtx.has(round.key)) return;
    try {
      this.node.readIndex(round.ctx);
      round.issued = true;
      this.kick();
    } catch (e) {
      if (!isRaftError(e)) throw e;
      if (Date.now() + LIMITS.noLeaderRetryMs >= deadline) {
        this.finishRead(round, new CairnError(this.leaderId === 0n ? 'NoLeader' : 'Timeout'));
        return;
      }
      setTimeout(() => this.issueRead(round, deadline), LIMITS.noLeaderRetryMs).unref();
    }
  }

  // ---- membership ----

  /** Proposes a conf change carrying the member's record; resolves with the new member list. */
  changeMembership(type: ConfChange['type'], member: Member): Promise<Member[]> {
    if (this.closed) return Promise.reject(new CairnError('Stopped'));
    const requestId = this.nextId();
    const cc: ConfChange = { type, nodeId: member.id, context: encodeMemberContext({ requestId, member }) };
    return new Promise<Member[]>((resolve, reject) => {
      const deadline = Date.now() + this.opts.requestTimeoutMs;
      this.confWaiters.set(requestId, { resolve, reject, deadline });
      try {
        this.node.proposeConfChange(cc);
        this.kick();
      } catch (e) {
        this.confWaiters.delete(requestId);
        if (!isRaftError(e)) return reject(e);
        if (e.kind === 'ConfChangePending') return reject(new CairnError('MemberNotEnoughStarted'));
        return reject(new CairnError(this.leaderId === 0n ? 'NoLeader' : 'NotCapable'));
      }
    });
  }

  transferLeadership(to: bigint): void {
    this.node.transferLeader(to);
    this.kick();
  }

  // ---- state for the API ----

  get leader(): bigint {
    return this.leaderId;
  }

  get raftTerm(): bigint {
    return BigInt(this.term);
  }

  get applied(): bigint {
    return BigInt(this.appliedIndex);
  }

  status(): Status {
    return this.node.status();
  }

  get isLearner(): boolean {
    return this.confState.learners.includes(this.opts.memberId);
  }

  // ---- the loop ----

  private kick(): void {
    if (this.loopRunning) {
      this.loopAgain = true;
      return;
    }
    if (this.closed || this.loopFailure) return;
    this.loopRunning = true;
    setImmediate(() => void this.runLoop());
  }

  private async runLoop(): Promise<void> {
    try {
      do {
        this.loopAgain = false;
        while (!this.closed && this.node.hasReady()) {
          await this.handleReady(this.node.ready());
          this.node.advance();
        }
        await this.runExclusiveWork();
      } while (this.loopAgain && !this.closed);
    } catch (e) {
      // Persisting or applying failed: the member cannot go on safely. Refuse everything.
      this.loopFailure = e as Error;
      this.opts.logger.fatal({ err: e }, 'raft loop failed; this member stops serving');
      this.failAll(new CairnError('Corrupt', `etcdserver: ${(e as Error).message}`));
    } finally {
      this.loopRunning = false;
    }
  }

  /**
   * One Ready. Committed entries are applied before this Ready's new entries are fsync'd: they
   * are already on a quorum's disks, so their clients need not wait for the next fsync (etcd
   * does the same). A leader's appends and heartbeats go out before its own fsync, so followers
   * write in parallel with it (Raft thesis §10.2.1, as etcd): safe because the core counts the
   * leader's own copy only at advance(), after the fsync, and a leader's messages promise nothing
   * about its own disk. Every other message (votes, append answers) waits for the fsync.
   */
  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) this.noteSoftState(rd.softState.lead);
    if (rd.hardState) this.term = rd.hardState.term;
    if (rd.snapshot && rd.snapshot.metadata.index > 0) await this.installSnapshot(rd.snapshot);
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    let after = rd.messages;
    if (rd.mustSync && after.length > 0 && this.leaderId === this.opts.memberId) {
      const early: Message[] = [];
      const late: Message[] = [];
      for (const m of after) (sendableBeforeFsync(m) ? early : late).push(m);
      if (early.length > 0) this.transport.send(early);
      after = late;
    }
    if (rd.committedEntries.length > 0) await this.applyEntries(rd.committedEntries);
    // A commit-only change needs no fsync (etcd's MustSync): it rides along with the next one.
    if (rd.mustSync) await this.storage.persist();
    if (after.length > 0) this.transport.send(after);
    this.campaignIfAlone();
    for (const rs of rd.readStates) this.confirmRead(Buffer.from(rs.requestCtx).toString('latin1'), rs.index);
    this.serveReads();
    await this.maybeSnapshot();
  }

  /** A member that is the only voter need not wait an election timeout to lead. */
  private campaignIfAlone(): void {
    const v = this.confState.voters;
    if (this.leaderId === 0n && v.length === 1 && v[0] === this.opts.memberId && this.node.status().state === 'follower') {
      this.node.campaign();
    }
  }

  private noteSoftState(lead: NodeId): void {
    if (lead === this.leaderId) return;
    this.leaderId = lead;
    this.metrics.hasLeader.set(lead === 0n ? 0 : 1);
    this.metrics.isLeader.set(lead === this.opts.memberId ? 1 : 0);
    this.opts.logger.info({ leader: lead.toString(16), term: this.term }, lead === 0n ? 'lost the leader' : 'leader elected');
    this.onLeaderChange(lead);
  }

  // ---- apply ----

  private async applyEntries(entries: readonly Entry[]): Promise<void> {
    let run: Array<{ id: string; req: LogRequest }> = [];
    let runLast = 0;
    let reapplied = false;
    for (const e of entries) {
      if (e.index <= this.appliedIndex) { // already in the store (restart, or a snapshot newer than the log)
        if (e.type === 'confChange') reapplied = this.reapplyConfChange(e) || reapplied;
        continue;
      }
      if (e.type === 'confChange') {
        await this.applyRun(run, runLast);
        run = [];
        await this.applyConfChange(e);
      } else if (e.data.length > 0) {
        run.push(decodeLogEntry(e.data));
        runLast = e.index;
      } else {
        runLast = e.index; // the leader's empty entry of its term
      }
    }
    await this.applyRun(run, runLast);
    if (reapplied) await this.storage.persist();
  }

  /** A conf change whose entry the store already applied: the core's configuration only. */
  private reapplyConfChange(e: Entry): boolean {
    const cs = this.node.applyConfChange(decodeConfChange(e.data));
    if (sameConf(cs, this.confState)) return false;
    this.confState = cs;
    this.storage.setConfState(cs);
    return true;
  }

  private async applyRun(run: Array<{ id: string; req: LogRequest }>, lastIndex: number): Promise<void> {
    if (lastIndex <= this.appliedIndex) return;
    const started = performance.now();
    const requests: ServerRequest[] = [];
    const owners: string[] = [];
    for (const { id, req } of run) {
      if ('memberUpdate' in req) {
        const m = this.members.get(req.memberUpdate.id);
        if (m) {
          this.members.upsert({ ...m, peerUrls: req.memberUpdate.peerUrls });
          if (m.id !== this.opts.memberId && this.transport.hasPeer(m.id)) this.transport.updatePeer(m.id, req.memberUpdate.peerUrls);
          await this.members.save();
        }
        this.resolvePending(id, { ok: true, result: {} as never, revision: this.store.currentRevision });
        continue;
      }
      if ('memberAttrs' in req) {
        this.members.setAttributes(req.memberAttrs);
        await this.members.save();
        this.resolvePending(id, { ok: true, result: {} as never, revision: this.store.currentRevision });
        continue;
      }
      requests.push(req);
      owners.push(id);
    }
    const { outcomes, events } = await this.apply(requests, BigInt(lastIndex));
    this.appliedIndex = lastIndex;
    this.metrics.applyBatchSeconds.observe((performance.now() - started) / 1000);
    this.metrics.proposalsApplied.inc(run.length);
    if (events.length > 0) this.onApplied(events, events[events.length - 1].kv.modRevision);
    for (let i = 0; i < owners.length; i++) this.resolvePending(owners[i], outcomes[i]);
  }

  private async applyConfChange(e: Entry): Promise<void> {
    const cc = decodeConfChange(e.data);
    const ctx = decodeMemberContext(cc.context);
    try {
      this.confState = this.node.applyConfChange(cc);
    } catch (err) {
      // Re-applied after a restart (the WAL already had the new configuration): keep going.
      this.opts.logger.warn({ err, index: e.index }, 'conf change not applied');
    }
    this.updateMembers(cc, ctx?.member);
    await this.members.save();
    this.storage.setConfState(this.confState);
    await this.storage.persist();
    await this.apply([], BigInt(e.index));
    this.appliedIndex = e.index;
    if (ctx) {
      const w = this.confWaiters.get(ctx.requestId);
      if (w) {
        this.confWaiters.delete(ctx.requestId);
        w.resolve(this.members.list());
      }
    }
    if (cc.type === 'removeNode' && cc.nodeId === this.opts.memberId) {
      this.opts.logger.warn('this member was removed from the cluster');
      setTimeout(() => this.onRemoved(), 2 * this.opts.heartbeatIntervalMs).unref();
    }
  }

  private updateMembers(cc: ConfChange, member: Member | undefined): void {
    if (cc.type === 'removeNode') {
      this.members.remove(cc.nodeId);
      this.transport.removePeer(cc.nodeId);
      return;
    }
    if (cc.type === 'promote') {
      this.members.promote(cc.nodeId);
      return;
    }
    if (member) {
      this.members.upsert({ ...member, isLearner: cc.type === 'addLearner' });
      if (member.id !== this.opts.memberId) {
        if (this.transport.hasPeer(member.id)) this.transport.updatePeer(member.id, member.peerUrls);
        else this.transport.addPeer(member.id, member.peerUrls);
      }
    }
  }

  // ---- snapshots of the log ----

  private async maybeSnapshot(): Promise<void> {
    if (this.appliedIndex - this.lastSnapshotIndex < this.opts.snapshotCount) return;
    // The store must hold everything up to the snapshot before the log behind it goes.
    await this.store.sync();
    const index = this.appliedIndex;
    const data = Buffer.from(JSON.stringify({ appliedIndex: index, members: this.members.list().map((m) => ({ ...m, id: m.id.toString() })) }));
    await this.storage.createSnapshot(index, this.confState, data);
    this.lastSnapshotIndex = index;
    const compactTo = index - this.opts.snapshotCatchUpEntries;
    if (compactTo > this.storage.firstIndex()) await this.storage.compact(compactTo);
    this.opts.logger.info({ index }, 'raft snapshot taken; log compacted');
  }

  /** The data for a MsgSnap to a follower: a fresh consistent copy of the whole store. */
  snapshotData(): AsyncIterable<Uint8Array> {
    return snapshotStream(this.store, this.opts.snapshotWorkDir, () => this.members.toFile());
  }

  /**
   * A snapshot from the leader: stores and verifies its data first, then hands the message to
   * the core, which may still refuse it (then the data is dropped at the next install or start).
   */
  async receiveSnapshot(m: Message, data: Readable): Promise<void> {
    if (this.closed || !m.snapshot) return;
    const index = m.snapshot.metadata.index;
    if (index <= this.appliedIndex) {
      this.step([m]); // nothing to install; the core answers with what it has
      return;
    }
    const snap = await receiveSnapshot(data, join(this.opts.snapshotWorkDir, `incoming-${index}`));
    if (this.received && this.received.index !== index) rmSync(this.received.snap.dir, { recursive: true, force: true });
    this.received = { index, snap };
    this.opts.logger.info({ index, bytes: snap.header.dbBytes, from: m.from.toString(16) }, 'received a snapshot from the leader');
    this.step([m]);
  }

  /** Replaces the store with the received snapshot's data, then the log with the snapshot. */
  private async installSnapshot(snap: NonNullable<Ready['snapshot']>): Promise<void> {
    const index = snap.metadata.index;
    const got = this.received;
    if (!got || got.index !== index) throw new Error(`the core accepted the snapshot at index ${index} but its data is not here`);
    this.received = null;
    await this.store.replaceWith(got.snap.dir);
    if (this.store.appliedIndex < index) {
      throw new Error(`the snapshot's data is at applied index ${this.store.appliedIndex}, behind the snapshot's index ${index}`);
    }
    this.members.replaceFrom(got.snap.header.members);
    await this.members.save();
    this.syncPeers();
    await this.storage.applySnapshot(snap);
    this.confState = snap.metadata.confState;
    this.appliedIndex = Number(this.store.appliedIndex);
    this.lastSnapshotIndex = index;
    this.onSnapshotInstalled();
    this.opts.logger.info({ index, appliedIndex: this.appliedIndex, revision: this.store.currentRevision.toString() }, 'installed the leader\'s snapshot');
    if (this.members.isRemoved(this.opts.memberId)) setTimeout(() => this.onRemoved(), 2 * this.opts.heartbeatIntervalMs).unref();
  }

  /** Makes the transport's peers the member table's (after the table was replaced wholesale). */
  private syncPeers(): void {
    const self = this.opts.memberId;
    const wanted = new Map(this.members.list().filter((m) => m.id !== self).map((m) => [m.id, m.peerUrls]));
    for (const id of this.transport.peerIds()) if (!wanted.has(id)) this.transport.removePeer(id);
    for (const [id, urls] of wanted) {
      if (this.transport.hasPeer(id)) this.transport.updatePeer(id, urls);
      else this.transport.addPeer(id, urls);
    }
  }

  /** Runs `work` between two Readies, when nothing is being applied (defragment). */
  runExclusive(work: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new CairnError('Stopped'));
    return new Promise<void>((resolve, reject) => {
      this.exclusive.push(() => work().then(resolve, reject));
      this.kick();
      this.loopAgain = true;
    });
  }

  private async runExclusiveWork(): Promise<void> {
    while (this.exclusive.length > 0) await this.exclusive.shift()!();
  }

  // ---- waiters ----

  private confirmRead(key: string, index: number): void {
    const round = this.readsByCtx.get(key);
    if (round) round.index = index;
  }

  private serveReads(): void {
    for (const round of this.readsByCtx.values()) {
      if (round.index !== undefined && round.index <= this.appliedIndex) this.finishRead(round);
    }
  }

  private finishRead(round: ReadRound, err?: Error): void {
    this.readsByCtx.delete(round.key);
    if (this.openRead === round) this.openRead = null;
    this.readsPending -= round.waiters.length;
    for (const w of round.waiters) (err ? w.reject(err) : w.resolve());
  }

  private resolvePending(id: string, o: ServerOutcome): void {
    const w = this.pending.get(id);
    if (!w) return;
    this.pending.delete(id);
    this.metrics.proposalsPending.dec();
    if (!o.ok) this.metrics.proposalsFailed.inc();
    w.resolve(o);
  }

  private failPending(id: string, e: Error): void {
    const w = this.pending.get(id);
    if (!w) return;
    this.pending.delete(id);
    this.metrics.proposalsPending.dec();
    this.metrics.proposalsFailed.inc();
    w.reject(e);
  }

  private expireWaiters(now: number): void {
    for (const [id, w] of this.pending) {
      if (w.deadline <= now) this.failPending(id, new CairnError(this.leaderId === 0n ? 'TimeoutDueToLeaderFail' : 'Timeout'));
    }
    for (const round of this.readsByCtx.values()) {
      if (round.waiters.length > 0 && round.waiters[0].deadline <= now) this.finishRead(round, new CairnError('Timeout'));
    }
    for (const [id, w] of this.confWaiters) {
      if (w.deadline <= now) {
        this.confWaiters.delete(id);
        w.reject(new CairnError('Timeout'));
      }
    }
  }

  private failAll(e: Error): void {
    for (const id of [...this.pending.keys()]) this.failPending(id, e);
    for (const round of [...this.readsByCtx.values()]) this.finishRead(round, e);
    for (const [id, w] of this.confWaiters) {
      this.confWaiters.delete(id);
      w.reject(e);
    }
  }

  private nextId(): string {
    this.seq += 1n;
    return `${this.opts.memberId.toString(16)}-${this.seq.toString(16)}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let in-flight writes finish (bounded by their deadlines), then stop.
    const until = Date.now() + Math.min(this.opts.requestTimeoutMs, 3000);
    while (this.pending.size > 0 && Date.now() < until && !this.loopFailure) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.closed = true;
    if (this.ticker) clearInterval(this.ticker);
    while (this.loopRunning) await new Promise((r) => setTimeout(r, 5));
    this.failAll(new CairnError('Stopped'));
  }
}


/** A leader's messages that carry nothing of its own unpersisted state (see handleReady). */
function sendableBeforeFsync(m: Message): boolean {
  return m.type === MessageType.App || m.type === MessageType.Heartbeat;
}

function sameConf(a: ConfState, b: ConfState): boolean {
  const eq = (x: readonly bigint[], y: readonly bigint[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.voters, b.voters) && eq(a.learners, b.learners);
}

/** Received snapshots never installed (the core refused them, or the member stopped first). */
function removeStaleIncoming(dir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith('incoming-') || n.startsWith('outgoing-')) rmSync(join(dir, n), { recursive: true, force: true });
}
