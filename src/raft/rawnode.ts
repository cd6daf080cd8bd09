/**
 * RawNode: the narrow door between the Raft state machine and its host.
 *
 * Owns: the ready/advance protocol (what has been handed to the host and not yet acknowledged),
 * the public entry points that build messages (propose, readIndex, transferLeader, ...) and the
 * validation of values that come from outside. Must never: do I/O or keep references to arrays
 * it returned in a Ready.
 */
import type { ConfChange } from './confchange.js';
import { encodeConfChange } from './confchange.js';
import { RaftError, assertIndex } from './errors.js';
import { Raft, type RaftConfig, type Status } from './raft.js';
import {
  MessageType as MT, NONE, hardStateEqual, isLocalMessageType, isResponseType, newMessage,
  type ConfState, type Entry, type HardState, type Message, type NodeId, type Ready, type SoftState,
} from './types.js';

/** What the last Ready handed out, to acknowledge on advance(). */
interface PendingReady {
  readonly lastEntryIndex: number;
  readonly lastEntryTerm: number;
  readonly snapshotIndex: number;
  readonly lastCommittedIndex: number;
  readonly committedEntries: readonly Entry[];
}

export class RawNode {
  /** The state machine itself; exposed for tests and status, not for hosts to poke. */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private pending: PendingReady | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** Advances logical time by one tick (the host calls this on its timer). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (pre-vote first when enabled). */
  campaign(): void {
    this.raft.step(newMessage(MT.Hup, this.raft.id, this.raft.id, 0));
  }

  /** Proposes one entry. Throws RaftError('ProposalDropped') when it cannot be accepted now. */
  propose(data: Uint8Array): void {
    this.proposeEntries([{ term: 0, index: 0, type: 'normal', data }]);
  }

  /** Proposes many entries in one step: they go out in one append per follower. */
  proposeBatch(datas: readonly Uint8Array[]): void {
    if (datas.length === 0) return;
    const ents = new Array<Entry>(datas.length);
    for (let i = 0; i < datas.length; i++) ents[i] = { term: 0, index: 0, type: 'normal', data: datas[i] };
    this.proposeEntries(ents);
  }

  /** Proposes a membership change. Throws ConfChangePending while the previous change is not
   * applied, InvalidConfChange when it makes no sense, ProposalDropped without a leader. */
  proposeConfChange(cc: ConfChange): void {
    this.proposeEntries([{ term: 0, index: 0, type: 'confChange', data: encodeConfChange(cc) }]);
  }

  private proposeEntries(entries: Entry[]): void {
    const m = newMessage(MT.Prop, this.raft.id, this.raft.id, 0);
    m.entries = entries;
    const err = this.raft.step(m);
    if (err !== null) throw err;
  }

  /** Applies a committed conf change entry's change; returns the new configuration, which the
   * host stores with its applied index (see Storage.initialState). */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Requests a linearizable read. `ctx` must be unique per request across the whole cluster
   * (the leader de-duplicates by it: use member id + request id); a
   * later Ready carries `{ index, requestCtx: ctx }` once leadership is confirmed, and the read
   * may run when the host has applied `index`. Throws RaftError('ReadIndexDropped') without a
   * leader. A request can also be lost silently (leader change, lost message): time out, retry.
   */
  readIndex(ctx: Uint8Array): void {
    if (ctx.length === 0) throw new RaftError('InvalidArgument', 'read index context must not be empty');
    const m = newMessage(MT.ReadIndex, this.raft.id, this.raft.id, 0);
    m.context = ctx;
    const err = this.raft.step(m);
    if (err !== null) throw err;
  }

  /** Asks the leader (directly or via this follower) to hand leadership to `to`. */
  transferLeader(to: NodeId): void {
    this.raft.step(newMessage(MT.TransferLeader, this.raft.id, to, 0));
  }

  /** The host could not deliver a message to `id`: the leader stops streaming to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(newMessage(MT.Unreachable, this.raft.id, id, 0));
  }

  /** The host finished sending a snapshot to `id` (ok) or gave up (not ok). */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const m = newMessage(MT.SnapStatus, this.raft.id, id, 0);
    m.reject = !ok;
    this.raft.step(m);
  }

  /**
   * Delivers a message from a peer. Messages for another node, responses from nodes outside
   * the configuration, and proposals the node cannot take are dropped (the sender's host times
   * out and retries). Throws RaftError for local-only types or malformed numbers.
   */
  step(m: Message): void {
    if (isLocalMessageType(m.type)) throw new RaftError('StepLocalMsg');
    validateMessage(m);
    if (m.to !== this.raft.id) return;
    if (m.term === 0 && m.type !== MT.Prop && m.type !== MT.ReadIndex) {
      throw new RaftError('InvalidArgument', `message type ${m.type} without a term`);
    }
    if (isResponseType(m.type) && !this.raft.prs.progress.has(m.from)) return;
    this.raft.step(m);
  }

  /** Whether ready() would return any work (false while a Ready awaits advance()). */
  hasReady(): boolean {
    if (this.pending !== null) return false;
    const r = this.raft;
    const log = r.log;
    if (r.hasPendingFlush() || r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (log.hasUnstable() || log.hasPendingSnapshot() || log.hasNextCommittedEntries()) return true;
    const soft = this.prevSoftState;
    if (soft.lead !== r.lead || soft.state !== r.state) return true;
    const hard = this.prevHardState;
    return hard.term !== r.term || hard.vote !== r.vote || hard.commit !== log.committed;
  }

  /**
   * The work to do now. Call advance() after doing it; calling ready() again before advance()
   * throws RaftError('ReadyContract'). Between the two, tick/step/propose remain allowed: what
   * they produce waits for the next Ready.
   */
  ready(): Ready {
    if (this.pending !== null) throw new RaftError('ReadyContract', 'ready() twice without advance()');
    const r = this.raft;
    r.flushPending();
    const soft = r.softState();
    const softChanged = soft.lead !== this.prevSoftState.lead || soft.state !== this.prevSoftState.state;
    const hard = r.hardState();
    const hardChanged = !hardStateEqual(hard, this.prevHardState);
    const entries = r.log.unstableEntries();
    const snapshot = r.log.unstable.snapshot;
    const committedEntries = r.log.nextCommittedEntries();
    const messages = r.msgs;
    r.msgs = [];
    const readStates = r.readStates;
    r.readStates = [];
    const mustSync = entries.length > 0 || snapshot !== null ||
      hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote;
    const last = entries.length > 0 ? entries[entries.length - 1] : null;
    this.pending = {
      lastEntryIndex: last === null ? 0 : last.index,
      lastEntryTerm: last === null ? 0 : last.term,
      snapshotIndex: snapshot === null ? 0 : snapshot.metadata.index,
      lastCommittedIndex: committedEntries.length > 0 ? committedEntries[committedEntries.length - 1].index : 0,
      committedEntries,
    };
    if (softChanged) this.prevSoftState = soft;
    if (hardChanged) this.prevHardState = hard;
    return {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hard : null,
      readStates, entries, snapshot, committedEntries, messages, mustSync,
    };
  }

  /** Acknowledges the last Ready: its snapshot and entries are durable, its messages sent, its
   * committed entries applied. */
  advance(): void {
    const p = this.pending;
    if (p === null) throw new RaftError('ReadyContract', 'advance() without ready()');
    this.pending = null;
    const log = this.raft.log;
    if (p.snapshotIndex > 0) {
      log.stableSnapTo(p.snapshotIndex);
      if (log.applied < p.snapshotIndex) log.applied = p.snapshotIndex;
    }
    if (p.lastEntryIndex > 0) log.stableTo(p.lastEntryIndex, p.lastEntryTerm);
    if (p.lastCommittedIndex > log.applied) log.appliedTo(p.lastCommittedIndex);
    this.raft.reduceUncommittedBytes(p.committedEntries);
    this.raft.onPersisted();
  }

  status(): Status {
    return this.raft.status();
  }
}

function validateMessage(m: Message): void {
  assertIndex(m.term, 'message term');
  assertIndex(m.index, 'message index');
  assertIndex(m.logTerm, 'message logTerm');
  assertIndex(m.commit, 'message commit');
  assertIndex(m.rejectHint, 'message rejectHint');
  if (typeof m.from !== 'bigint' || typeof m.to !== 'bigint' || m.from === NONE) {
    throw new RaftError('InvalidArgument', 'message from/to must be non-zero bigints');
  }
  if (!(m.context instanceof Uint8Array)) throw new RaftError('InvalidArgument', 'message context');
}

