/**
 * The Raft state machine: elections (pre-vote, check-quorum, leader stickiness), replication
 * with per-follower flow control, the commit rule, snapshots, ReadIndex, membership and leader
 * transfer. Driven only by step(message) and tick(); everything it wants done is left in
 * `msgs`, `readStates` and the log for RawNode to hand to the host as a Ready.
 *
 * Owns: term, vote, role, leader, the log's commit index, progress of followers, pending reads.
 * Must never: do I/O, read a clock, use Math.random, await, or import `node:` — the same inputs
 * always produce the same outputs, which is what makes the simulator's seeds replayable.
 */
import { decodeConfChange, confChangeProblem, applyToConfState, type ConfChange } from './confchange.js';
import { RaftError, assertIndex, isRaftError } from './errors.js';
import { Inflights } from './inflights.js';
import { RaftLog, TERM_COMPACTED, TERM_UNAVAILABLE } from './log.js';
import { Progress, ProgressTracker } from './progress.js';
import { ReadOnly } from './readonly.js';
import type { Storage } from './storage.js';
import {
  EMPTY_BYTES, EMPTY_ENTRIES, MessageType as MT, NONE, entrySizeBytes, isEmptySnapshot, newMessage,
  type ConfState, type Entry, type HardState, type Message, type NodeId, type ReadState,
  type SoftState, type StateType,
} from './types.js';

export interface RaftConfig {
  /** This member's ID (non-zero uint64). */
  id: NodeId;
  storage: Storage;
  /** Seeded source of [0, 1) floats for election timeouts: the core never uses Math.random. */
  random: () => number;
  /** Ticks without hearing from a leader before campaigning; randomized in [e, 2e). Default 10. */
  electionTick?: number;
  /** Ticks between leader heartbeats. Default 1. */
  heartbeatTick?: number;
  /** Last index the host applied before a restart: entries up to it are not handed out again. */
  applied?: number;
  /** Bytes of entries in one append message (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsgBytes?: number;
  /** Append messages in flight to one follower in replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Bytes in flight to one follower; default unlimited (only the message count bounds it). */
  maxInflightBytes?: number;
  /** Payload bytes the leader accepts into its log before they commit; more are dropped. */
  maxUncommittedEntriesBytes?: number;
  /** Bytes of committed entries handed out per Ready. Default 64 MiB. */
  maxCommittedBytesPerReady?: number;
  /** Reads waiting for a heartbeat quorum, or for the first commit of a term. Default 4096. */
  maxPendingReadIndexRequests?: number;
  /** Messages waiting in the outbox before forwarded proposals and reads are refused. */
  maxOutboxMessages?: number;
  /** Leader steps down when it has not heard from a quorum for an election timeout. Default true. */
  checkQuorum?: boolean;
  /** Campaign with a pre-vote round first, so a rejoining node cannot depose a leader. Default true. */
  preVote?: boolean;
}

export const DEFAULTS = {
  electionTick: 10,
  heartbeatTick: 1,
  maxSizePerMsgBytes: 1 << 20,
  maxInflightMsgs: 256,
  maxInflightBytes: Infinity,
  maxUncommittedEntriesBytes: 64 << 20,
  maxCommittedBytesPerReady: 64 << 20,
  maxPendingReadIndexRequests: 4096,
  maxOutboxMessages: 65536,
} as const;

/** Context marking votes of a leader transfer: they bypass leader stickiness. */
export const CAMPAIGN_TRANSFER: Uint8Array = new Uint8Array([0x43, 0x54]); // "CT"

type CampaignType = 'preElection' | 'election' | 'transfer';

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function voteRespType(t: MT): MT {
  return t === MT.PreVote ? MT.PreVoteResp : MT.VoteResp;
}

export interface PeerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: string;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  readonly inflightMsgs: number;
}

export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly lead: NodeId;
  readonly state: StateType;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly leadTransferee: NodeId;
  readonly confState: ConfState;
  /** Leader only: its view of every member (itself included); empty map otherwise. */
  readonly progress: ReadonlyMap<NodeId, PeerStatus>;
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = 'follower';
  isLearner = false;
  readonly log: RaftLog;
  readonly prs = new ProgressTracker();
  /** Outbox, drained by each Ready. */
  msgs: Message[] = [];
  /** Confirmed reads, drained by each Ready. */
  readStates: ReadState[] = [];
  private readOnly: ReadOnly;
  private pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  leadTransferee: NodeId = NONE;
  /** Index of the last conf change proposed; no new one until the host applied it. */
  private pendingConfIndex = 0;
  private uncommittedBytes = 0;
  /** Entries or a new commit index await a broadcast: done once per Ready, which batches every
   * proposal that arrived since the last one into a single append per follower. */
  private appendsPending = false;
  /** Reads await a heartbeat round: one round per Ready confirms all of them. */
  private heartbeatPending = false;
  private readonly random: () => number;
  private readonly maxSizePerMsgBytes: number;
  private readonly maxInflightMsgs: number;
  private readonly maxInflightBytes: number;
  private readonly maxUncommittedEntriesBytes: number;
  private readonly maxPendingReadIndexRequests: number;
  private readonly maxOutboxMessages: number;

  constructor(c: RaftConfig) {
    if (typeof c.id !== 'bigint' || c.id <= 0n) throw new RaftError('InvalidArgument', 'id must be a non-zero bigint');
    this.id = c.id;
    this.random = c.random;
    this.electionTimeout = c.electionTick ?? DEFAULTS.electionTick;
    this.heartbeatTimeout = c.heartbeatTick ?? DEFAULTS.heartbeatTick;
    if (!(this.heartbeatTimeout > 0) || !(this.electionTimeout > this.heartbeatTimeout)) {
      throw new RaftError('InvalidArgument', 'need 0 < heartbeatTick < electionTick');
    }
    this.checkQuorum = c.checkQuorum ?? true;
    this.preVote = c.preVote ?? true;
    this.maxSizePerMsgBytes = c.maxSizePerMsgBytes ?? DEFAULTS.maxSizePerMsgBytes;
    this.maxInflightMsgs = c.maxInflightMsgs ?? DEFAULTS.maxInflightMsgs;
    this.maxInflightBytes = c.maxInflightBytes ?? DEFAULTS.maxInflightBytes;
    this.maxUncommittedEntriesBytes = c.maxUncommittedEntriesBytes ?? DEFAULTS.maxUncommittedEntriesBytes;
    this.maxPendingReadIndexRequests = c.maxPendingReadIndexRequests ?? DEFAULTS.maxPendingReadIndexRequests;
    this.maxOutboxMessages = c.maxOutboxMessages ?? DEFAULTS.maxOutboxMessages;
    if (!(this.maxInflightMsgs >= 1)) throw new RaftError('InvalidArgument', 'maxInflightMsgs must be >= 1');
    this.readOnly = new ReadOnly(this.maxPendingReadIndexRequests);
    this.log = new RaftLog(c.storage, c.maxCommittedBytesPerReady ?? DEFAULTS.maxCommittedBytesPerReady);
    const { hardState, confState } = c.storage.initialState();
    this.switchToConfState(confState);
    this.loadHardState(hardState);
    if (c.applied !== undefined && c.applied > 0) {
      assertIndex(c.applied, 'applied');
      this.log.appliedTo(c.applied);
    }
    this.becomeFollower(this.term, NONE);
  }

  private loadHardState(hs: HardState): void {
    assertIndex(hs.term, 'hardState.term');
    assertIndex(hs.commit, 'hardState.commit');
    if (hs.term === 0 && hs.commit === 0 && hs.vote === NONE) return;
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RaftError('InvalidArgument', `hardState.commit ${hs.commit} out of range [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  // ---------------------------------------------------------------- roles

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
    this.leadTransferee = NONE;
    this.prs.resetVotes();
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.prs.progress) {
      const fresh = this.newProgress(next, pr.isLearner);
      if (id === this.id) fresh.match = this.log.persistedIndex();
      this.prs.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly(this.maxPendingReadIndexRequests);
    this.pendingReadIndexMessages = [];
    this.appendsPending = false;
    this.heartbeatPending = false;
  }

  private newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, isLearner, new Inflights(this.maxInflightMsgs, this.maxInflightBytes));
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
  }

  private becomePreCandidate(): void {
    if (this.state === 'leader') throw new Error('raft: invalid transition leader -> preCandidate');
    // Neither the term nor the vote changes: a pre-vote round must leave no trace if it fails.
    this.prs.resetVotes();
    this.lead = NONE;
    this.state = 'preCandidate';
  }

  private becomeCandidate(): void {
    if (this.state === 'leader') throw new Error('raft: invalid transition leader -> candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
  }

  private becomeLeader(): void {
    if (this.state === 'follower') throw new Error('raft: invalid transition follower -> leader');
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    const self = this.prs.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // An entry of our own term: committing it commits everything before it (Figure 8 rule),
    // and until it commits we refuse reads and conf changes (pendingConfIndex covers it).
    const index = this.log.lastIndex() + 1;
    this.log.append([{ term: this.term, index, type: 'normal', data: EMPTY_BYTES }]);
    this.pendingConfIndex = index;
    this.appendsPending = true;
  }

  promotable(): boolean {
    return this.prs.isVoter(this.id) && !this.log.hasPendingSnapshot();
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(newMessage(MT.Hup, this.id, this.id, 0));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage(MT.CheckQuorum, this.id, this.id, 0));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === 'leader' && this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage(MT.Beat, this.id, this.id, 0));
    }
  }

  // ---------------------------------------------------------------- step

  /** Processes one message. Returns an error value when a local proposal or read is refused. */
  step(m: Message): RaftError | null {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return null;
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m);
      return null;
    }
    switch (m.type) {
      case MT.Hup:
        this.hup(this.preVote ? 'preElection' : 'election');
        return null;
      case MT.Vote:
      case MT.PreVote:
        this.handleVoteRequest(m);
        return null;
    }
    switch (this.state) {
      case 'leader': return this.stepLeader(m);
      case 'follower': return this.stepFollower(m);
      default: return this.stepCandidate(m);
    }
  }

  /** A message from a later term. Returns false when it must be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === MT.Vote || m.type === MT.PreVote) {
      const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
      // Leader stickiness: while we hear from a leader, a vote request cannot disrupt it.
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
      if (!force && inLease) return false;
    }
    if (m.type === MT.PreVote) return true; // a pre-vote never changes our term
    if (m.type === MT.PreVoteResp && !m.reject) return true; // the term is bumped on winning
    const isLeaderMsg = m.type === MT.App || m.type === MT.Heartbeat || m.type === MT.Snap;
    this.becomeFollower(m.term, isLeaderMsg ? m.from : NONE);
    return true;
  }

  /** A message from an earlier term. */
  private stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === MT.Heartbeat || m.type === MT.App)) {
      // A stale leader, or we advanced our term while partitioned and cannot rejoin because
      // check-quorum/pre-vote stop our votes from raising the others' terms: answering with our
      // term makes the stale leader step down and an election sort it out.
      this.msgs.push(newMessage(MT.AppResp, m.from, this.id, this.term));
    } else if (m.type === MT.PreVote) {
      this.msgs.push(this.voteRejection(m));
    }
  }

  private handleVoteRequest(m: Message): void {
    const canVote = this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MT.PreVote && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // The grant carries the request's term so a pre-candidate (asking for term + 1) counts it.
      this.msgs.push(newMessage(voteRespType(m.type), m.from, this.id, m.term));
      if (m.type === MT.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.msgs.push(this.voteRejection(m));
    }
  }

  /** A vote refusal that also carries our commit index and its term (see learnCommit). */
  private voteRejection(m: Message): Message {
    const resp = newMessage(voteRespType(m.type), m.from, this.id, this.term);
    resp.reject = true;
    resp.commit = this.log.committed;
    resp.logTerm = this.log.termOrZero(this.log.committed);
    return resp;
  }

  /**
   * Adopts a peer's commit index from a vote refusal when our log holds the same entry at that
   * index: by log matching our prefix is then identical to the peer's, and committed.
   * Why: a removed leader may be the only one who knows its removal committed; it can neither
   * lead nor (having a longer log) vote for the others, so without this the rest of the
   * cluster would keep counting it and could never elect a leader again.
   */
  private learnCommit(m: Message): void {
    if (m.commit <= this.log.committed || m.logTerm === 0 || m.commit > this.log.lastIndex()) return;
    if (this.log.term(m.commit) === m.logTerm) this.log.commitTo(m.commit);
  }

  // ---------------------------------------------------------------- elections

  private hup(t: CampaignType): void {
    if (this.state === 'leader' || !this.promotable()) return;
    // A committed but unapplied conf change may change who votes: wait until it is applied.
    if (this.hasUnappliedConfChanges()) return;
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    let lo = this.log.applied + 1;
    const hi = this.log.committed + 1;
    lo = Math.max(lo, this.log.firstIndex());
    while (lo < hi) {
      const ents = this.log.slice(lo, hi, this.maxSizePerMsgBytes);
      for (const e of ents) if (e.type === 'confChange') return true;
      lo += ents.length;
    }
    return false;
  }

  private campaign(t: CampaignType): void {
    let voteType: MT;
    let term: number;
    if (t === 'preElection') {
      this.becomePreCandidate();
      voteType = MT.PreVote;
      term = this.term + 1; // the term we would campaign for
    } else {
      this.becomeCandidate();
      voteType = MT.Vote;
      term = this.term;
    }
    this.prs.recordVote(this.id, true);
    if (this.prs.tallyVotes().result === 'won') {
      // A single voter wins at once.
      if (t === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.prs.voters) {
      if (id === this.id) continue;
      const m = newMessage(voteType, id, this.id, term);
      m.index = lastIndex;
      m.logTerm = lastTerm;
      if (t === 'transfer') m.context = CAMPAIGN_TRANSFER;
      this.msgs.push(m);
    }
  }

  private pollVote(m: Message): void {
    this.prs.recordVote(m.from, !m.reject);
    const { result } = this.prs.tallyVotes();
    if (result === 'won') {
      if (this.state === 'preCandidate') this.campaign('election');
      else this.becomeLeader();
    } else if (result === 'lost') {
      // Back to follower in our (unchanged, for pre-vote) term; wait out a fresh timeout.
      this.becomeFollower(this.term, NONE);
    }
  }

  private stepCandidate(m: Message): RaftError | null {
    const myRespType = this.state === 'preCandidate' ? MT.PreVoteResp : MT.VoteResp;
    switch (m.type) {
      case MT.Prop: return new RaftError('ProposalDropped', 'no leader');
      case MT.ReadIndex: return new RaftError('ReadIndexDropped', 'no leader');
      case MT.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return null;
      case MT.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return null;
      case MT.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return null;
      case MT.PreVoteResp:
      case MT.VoteResp:
        if (m.reject) this.learnCommit(m);
        if (m.type === myRespType) this.pollVote(m);
        return null;
      case MT.TransferLeader: return null;
      default: return null;
    }
  }

  // ---------------------------------------------------------------- follower

  private stepFollower(m: Message): RaftError | null {
    switch (m.type) {
      case MT.Prop:
        if (this.lead === NONE) return new RaftError('ProposalDropped', 'no leader');
        if (this.msgs.length >= this.maxOutboxMessages) return new RaftError('ProposalDropped', 'outbox full');
        this.msgs.push({ ...m, to: this.lead });
        return null;
      case MT.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return null;
      case MT.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return null;
      case MT.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return null;
      case MT.TransferLeader:
        if (this.lead !== NONE) this.msgs.push({ ...m, to: this.lead, term: this.term });
        return null;
      case MT.TimeoutNow:
        // A transfer skips pre-vote: the leader asked for it, there is no partition to fear.
        this.hup('transfer');
        return null;
      case MT.ReadIndex:
        if (this.lead === NONE) return new RaftError('ReadIndexDropped', 'no leader');
        if (this.msgs.length >= this.maxOutboxMessages) return new RaftError('ReadIndexDropped', 'outbox full');
        this.msgs.push({ ...m, to: this.lead });
        return null;
      case MT.ReadIndexResp:
        this.readStates.push({ index: m.index, requestCtx: m.context });
        return null;
      case MT.PreVoteResp:
      case MT.VoteResp:
        if (m.reject) this.learnCommit(m);
        return null;
      default:
        return null;
    }
  }

  private handleAppendEntries(m: Message): void {
    const resp = newMessage(MT.AppResp, m.from, this.id, this.term);
    if (m.index < this.log.committed) {
      resp.index = this.log.committed;
      this.msgs.push(resp);
      return;
    }
    const last = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last >= 0) {
      resp.index = last;
      this.msgs.push(resp);
      return;
    }
    // Reject with a hint: the last index whose term is ≤ the leader's term at m.index, so the
    // leader can skip a whole conflicting term per round trip instead of one entry.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    resp.index = m.index;
    resp.reject = true;
    resp.rejectHint = hint.index;
    resp.logTerm = hint.term;
    this.msgs.push(resp);
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, commit), so this never commits past what we share with it;
    // a commit beyond our last index would mean the leader's view of us is wrong: ignore it.
    if (m.commit <= this.log.lastIndex()) this.log.commitTo(m.commit);
    const resp = newMessage(MT.HeartbeatResp, m.from, this.id, this.term);
    resp.context = m.context;
    this.msgs.push(resp);
  }

  private handleSnapshot(m: Message): void {
    const resp = newMessage(MT.AppResp, m.from, this.id, this.term);
    resp.index = m.snapshot !== null && this.restore(m.snapshot) ? this.log.lastIndex() : this.log.committed;
    this.msgs.push(resp);
  }

  /** Installs a leader's snapshot; false when it is not newer than what we have committed. */
  private restore(s: NonNullable<Message['snapshot']>): boolean {
    const { index, term, confState } = s.metadata;
    if (isEmptySnapshot(s) || index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // We already hold the snapshot's last entry: just fast-forward the commit.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.switchToConfState(confState);
    return true;
  }

  // ---------------------------------------------------------------- leader

  private stepLeader(m: Message): RaftError | null {
    switch (m.type) {
      case MT.Beat:
        this.bcastHeartbeat();
        return null;
      case MT.CheckQuorum:
        if (!this.prs.quorumActive(this.id)) this.becomeFollower(this.term, NONE);
        for (const [id, pr] of this.prs.progress) pr.recentActive = id === this.id;
        return null;
      case MT.Prop: return this.leaderPropose(m);
      case MT.ReadIndex: return this.leaderReadIndex(m);
    }
    const pr = this.prs.progress.get(m.from);
    if (pr === undefined) return null;
    switch (m.type) {
      case MT.AppResp: this.handleAppendResponse(m, pr); break;
      case MT.HeartbeatResp: this.handleHeartbeatResponse(m, pr); break;
      case MT.SnapStatus:
        if (pr.state !== 'snapshot') break;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Success: wait for the follower's answer to the snapshot; failure: for a heartbeat.
        pr.msgAppFlowPaused = true;
        break;
      case MT.Unreachable:
        if (pr.state === 'replicate') pr.becomeProbe();
        break;
      case MT.TransferLeader: this.handleTransferLeader(m, pr); break;
    }
    return null;
  }

  private leaderPropose(m: Message): RaftError | null {
    if (m.entries.length === 0) return new RaftError('InvalidArgument', 'empty proposal');
    if (!this.prs.progress.has(this.id)) return new RaftError('ProposalDropped', 'removed from the cluster');
    if (this.leadTransferee !== NONE) return new RaftError('ProposalDropped', 'leader transfer in progress');
    let ents = m.entries;
    for (let i = 0; i < ents.length; i++) {
      if (ents[i].type !== 'confChange') continue;
      const err = this.checkConfChange(ents[i]);
      if (err === null) {
        this.pendingConfIndex = this.log.lastIndex() + i + 1;
        continue;
      }
      if (m.from === this.id) return err;
      // A forwarded batch: drop just the change, keep the batch's other entries.
      if (ents === m.entries) ents = ents.slice();
      (ents as Entry[])[i] = { term: 0, index: 0, type: 'normal', data: EMPTY_BYTES };
    }
    return this.appendProposals(ents) ? null : new RaftError('ProposalDropped', 'too many uncommitted bytes');
  }

  private checkConfChange(e: Entry): RaftError | null {
    if (this.pendingConfIndex > this.log.applied) return new RaftError('ConfChangePending');
    let cc: ConfChange;
    try {
      cc = decodeConfChange(e.data);
    } catch {
      return new RaftError('InvalidConfChange', 'undecodable');
    }
    const problem = confChangeProblem(this.prs.confState(), cc);
    return problem === null ? null : new RaftError('InvalidConfChange', problem);
  }

  /** Gives proposals our term and the next indexes and appends them; false when the
   * uncommitted-bytes bound refuses them (at least one batch always fits into an empty log). */
  private appendProposals(props: readonly Entry[]): boolean {
    let payload = 0;
    for (let i = 0; i < props.length; i++) payload += props[i].data.length;
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + payload > this.maxUncommittedEntriesBytes) return false;
    this.uncommittedBytes += payload;
    let index = this.log.lastIndex();
    const term = this.term;
    const ents = new Array<Entry>(props.length);
    for (let i = 0; i < props.length; i++) {
      ents[i] = { term, index: ++index, type: props[i].type, data: props[i].data };
    }
    this.log.append(ents);
    this.appendsPending = true;
    return true;
  }

  /** Called as committed entries are handed to the host: their bytes no longer count. */
  reduceUncommittedBytes(ents: readonly Entry[]): void {
    if (this.uncommittedBytes === 0) return;
    let payload = 0;
    for (let i = 0; i < ents.length; i++) payload += ents[i].data.length;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - payload);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  private leaderReadIndex(m: Message): RaftError | null {
    if (m.context.length === 0) return new RaftError('InvalidArgument', 'read index needs a request context');
    if (!this.committedEntryInCurrentTerm()) {
      // Our commit index may lag what was committed before (by a previous leader, or by us
      // before a restart: commit-only hard state changes are not synced) until our own first
      // entry commits. This holds for a single voter too, unlike etcd's shortcut.
      if (this.pendingReadIndexMessages.length >= this.maxPendingReadIndexRequests) {
        return new RaftError('ReadIndexDropped', 'too many pending reads');
      }
      this.pendingReadIndexMessages.push(m);
      return null;
    }
    return this.queueReadIndex(m);
  }

  private queueReadIndex(m: Message): RaftError | null {
    if (this.prs.voters.length === 1 && this.prs.isVoter(this.id)) {
      // Alone: nobody else can commit anything, so no heartbeat round is needed.
      this.respondReadIndex(m, this.log.committed);
      return null;
    }
    if (this.readOnly.full()) return new RaftError('ReadIndexDropped', 'too many pending reads');
    this.readOnly.addRequest(this.log.committed, m);
    this.readOnly.recvAck(this.id, m.context);
    this.heartbeatPending = true;
    return null;
  }

  private respondReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.context });
      return;
    }
    const resp = newMessage(MT.ReadIndexResp, req.from, this.id, this.term);
    resp.index = index;
    resp.context = req.context;
    this.msgs.push(resp);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const waiting = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of waiting) this.queueReadIndex(m);
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.maybeSendAppend(m.from, pr, true);
      }
      return;
    }
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot') {
      if (pr.match + 1 >= this.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    } else {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) this.onCommitAdvanced();
    // Stream what the window allows: bounded by maxInflightMsgs.
    while (this.maybeSendAppend(m.from, pr, false)) { /* keep sending */ }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.msgs.push(newMessage(MT.TimeoutNow, m.from, this.id, this.term));
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    // The follower is alive; if an append was lost the window may be full of ghosts.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex() || pr.state === 'probe') this.maybeSendAppend(m.from, pr, true);
    if (m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === null || this.prs.countVoters(acks) < this.prs.quorum()) return;
    for (const rs of this.readOnly.advance(m.context)) this.respondReadIndex(rs.req, rs.index);
  }

  private handleTransferLeader(m: Message, pr: Progress): void {
    const target = m.from;
    if (pr.isLearner) return;
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === target) return;
      this.leadTransferee = NONE;
    }
    if (target === this.id) return;
    // The transfer must finish within one election timeout or it is abandoned (tickHeartbeat).
    this.electionElapsed = 0;
    this.leadTransferee = target;
    if (pr.match === this.log.lastIndex()) {
      this.msgs.push(newMessage(MT.TimeoutNow, target, this.id, this.term));
    } else {
      this.maybeSendAppend(target, pr, true);
    }
  }

  private maybeCommit(): boolean {
    return this.log.maybeCommit(this.prs.committedIndex(), this.term);
  }

  private onCommitAdvanced(): void {
    this.appendsPending = true; // followers learn the new commit index with the next append
    this.releasePendingReadIndexMessages();
  }

  /** The host made our entries durable: as leader, that is our own acknowledgement. */
  onPersisted(): void {
    if (this.state !== 'leader') return;
    const self = this.prs.progress.get(this.id);
    if (self !== undefined && self.maybeUpdate(this.log.persistedIndex()) && this.maybeCommit()) {
      this.onCommitAdvanced();
    }
  }

  /** Sends the appends and heartbeats accumulated since the last Ready. */
  flushPending(): void {
    if (this.state === 'leader') {
      if (this.appendsPending) this.bcastAppend();
      if (this.heartbeatPending) this.bcastHeartbeat();
    }
    this.appendsPending = false;
    this.heartbeatPending = false;
  }

  hasPendingFlush(): boolean {
    return this.state === 'leader' && (this.appendsPending || this.heartbeatPending);
  }

  private bcastAppend(): void {
    for (const [id, pr] of this.prs.progress) {
      if (id !== this.id) this.maybeSendAppend(id, pr, true);
    }
  }

  private bcastHeartbeat(): void {
    this.heartbeatPending = false;
    const ctx = this.readOnly.lastPendingRequestCtx() ?? EMPTY_BYTES;
    for (const [id, pr] of this.prs.progress) {
      if (id === this.id) continue;
      const m = newMessage(MT.Heartbeat, id, this.id, this.term);
      m.commit = Math.min(pr.match, this.log.committed);
      m.context = ctx;
      this.msgs.push(m);
    }
  }

  /** Sends `to` the entries after its `next` (or a snapshot when they are compacted). Returns
   * whether a message went out; with sendIfEmpty false, only a message carrying entries. */
  private maybeSendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    if (pr.next > this.log.lastIndex() + 1) pr.next = this.log.lastIndex() + 1;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === TERM_UNAVAILABLE) throw new Error(`raft: term of ${prevIndex} unavailable`);
    let ents: readonly Entry[] = EMPTY_ENTRIES;
    if (prevTerm === TERM_COMPACTED) return this.maybeSendSnapshot(to, pr);
    try {
      ents = this.log.entriesFrom(pr.next, this.maxSizePerMsgBytes);
    } catch (e) {
      if (isRaftError(e, 'Compacted')) return this.maybeSendSnapshot(to, pr);
      throw e;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    const m = newMessage(MT.App, to, this.id, this.term);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = ents;
    m.commit = this.log.committed;
    let bytes = 0;
    for (let i = 0; i < ents.length; i++) bytes += entrySizeBytes(ents[i]);
    pr.sentEntries(ents.length, bytes, ents.length > 0 ? ents[ents.length - 1].index : prevIndex);
    this.msgs.push(m);
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // Only to a follower we heard from lately: snapshots are expensive to send into the void.
    if (!pr.recentActive) return false;
    let snap;
    try {
      snap = this.log.snapshot();
    } catch (e) {
      if (isRaftError(e, 'SnapshotTemporarilyUnavailable')) return false;
      throw e;
    }
    if (isEmptySnapshot(snap)) throw new Error('raft: log compacted but storage has no snapshot');
    const m = newMessage(MT.Snap, to, this.id, this.term);
    m.snapshot = snap;
    pr.becomeSnapshot(snap.metadata.index);
    this.msgs.push(m);
    return true;
  }

  // ---------------------------------------------------------------- membership

  /** Rebuilds progress for a configuration, keeping the progress of members that stay. */
  private switchToConfState(cs: ConfState): void {
    const next = this.log.lastIndex() + 1;
    const keep = new Set<NodeId>([...cs.voters, ...cs.learners]);
    for (const id of [...this.prs.progress.keys()]) if (!keep.has(id)) this.prs.progress.delete(id);
    const place = (id: NodeId, isLearner: boolean): void => {
      const pr = this.prs.progress.get(id);
      if (pr !== undefined) {
        pr.isLearner = isLearner;
        return;
      }
      const fresh = this.newProgress(next, isLearner);
      // A new member counts as active, or check-quorum could depose the leader that added it.
      fresh.recentActive = true;
      if (id === this.id) fresh.match = this.log.persistedIndex();
      this.prs.progress.set(id, fresh);
    };
    for (const id of cs.voters) place(id, false);
    for (const id of cs.learners) place(id, true);
    this.prs.refreshVoters();
    this.isLearner = cs.learners.includes(this.id);
  }

  /** Applies a committed conf change (the host calls this while applying its entry). */
  applyConfChange(cc: ConfChange): ConfState {
    const cs = applyToConfState(this.prs.confState(), cc);
    this.switchToConfState(cs);
    if (this.state !== 'leader') return cs;
    if (!this.prs.isVoter(this.id)) {
      // Removed (or demoted) leader: first tell the others the commit index that covers the
      // change (else they may still count us in their quorum), then step down so the
      // remaining voters elect a successor.
      this.bcastAppend();
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.maybeCommit()) this.onCommitAdvanced();
    this.appendsPending = true; // probe new members without waiting for the next proposal
    if (this.leadTransferee !== NONE && !this.prs.isVoter(this.leadTransferee)) this.leadTransferee = NONE;
    return cs;
  }

  status(): Status {
    const progress = new Map<NodeId, PeerStatus>();
    if (this.state === 'leader') {
      for (const [id, pr] of this.prs.progress) {
        progress.set(id, {
          match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive,
          isLearner: pr.isLearner, inflightMsgs: pr.inflights.length,
        });
      }
    }
    return {
      id: this.id, term: this.term, vote: this.vote, lead: this.lead, state: this.state,
      commit: this.log.committed, applied: this.log.applied, lastIndex: this.log.lastIndex(),
      leadTransferee: this.leadTransferee, confState: this.prs.confState(), progress,
    };
  }
}
