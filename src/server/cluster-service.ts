/**
 * etcd's Cluster and (part of the) Maintenance services over the Raft member: member list, add,
 * remove, update, promote; status; leader transfer. Membership changes go through the log one
 * at a time and are answered once applied here. etcd's preconditions are checked first, with
 * etcd's errors (unknown member, peer URL already used, promoting a voter or a learner that has
 * not caught up).
 *
 * Never changes the member table itself: only applying the log does.
 */
import { CairnError } from '../errors/errors.js';
import type { MvccStore } from '../mvcc/store.js';
import { computeMemberId } from './identity.js';
import type { Member, MembershipTable } from './membership.js';
import type { RaftMember } from './raft-member.js';

/** etcd allows one learner at a time (maxLearners). */
const MAX_LEARNERS = 1;
/** A learner may be promoted once it has 90% of the leader's log (etcd's readyPercent). */
const LEARNER_READY_FRACTION = 0.9;

export interface MemberStatus {
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  isLearner: boolean;
  dbSizeBytes: number;
  dbSizeInUseBytes: number;
}

export class ClusterService {
  constructor(
    private readonly member: RaftMember,
    private readonly members: MembershipTable,
    private readonly store: MvccStore,
    private readonly clusterToken: string,
  ) {}

  list(): Member[] {
    return this.members.list();
  }

  async add(peerUrls: string[], isLearner: boolean): Promise<{ member: Member; members: Member[] }> {
    checkUrls(peerUrls);
    for (const m of this.members.list()) {
      if (m.peerUrls.some((u) => peerUrls.includes(u))) throw new CairnError('PeerURLExist');
    }
    if (isLearner && this.members.list().filter((m) => m.isLearner).length >= MAX_LEARNERS) throw new CairnError('TooManyLearners');
    const id = computeMemberId(peerUrls, this.clusterToken, Date.now());
    if (this.members.get(id)) throw new CairnError('MemberExist');
    const member: Member = { id, name: '', peerUrls, clientUrls: [], isLearner };
    const members = await this.member.changeMembership(isLearner ? 'addLearner' : 'addNode', member);
    return { member, members };
  }

  async remove(id: bigint): Promise<Member[]> {
    const m = this.members.get(id);
    if (!m) throw new CairnError('MemberNotFound');
    return this.member.changeMembership('removeNode', m);
  }

  async update(id: bigint, peerUrls: string[]): Promise<Member[]> {
    checkUrls(peerUrls);
    const m = this.members.get(id);
    if (!m) throw new CairnError('MemberNotFound');
    for (const o of this.members.list()) {
      if (o.id !== id && o.peerUrls.some((u) => peerUrls.includes(u))) throw new CairnError('PeerURLExist');
    }
    return this.member.updateMemberUrls(id, peerUrls);
  }

  async promote(id: bigint): Promise<Member[]> {
    const m = this.members.get(id);
    if (!m) throw new CairnError('MemberNotFound');
    if (!m.isLearner) throw new CairnError('MemberNotLearner');
    // Only the leader knows how far the learner got; a follower lets the change through the log
    // (etcd forwards the request to the leader instead; Cairn's forwarding is the log itself).
    const status = this.member.status();
    if (status.lead === status.id) {
      const progress = status.progress.get(id);
      if (!progress || progress.match < status.lastIndex * LEARNER_READY_FRACTION) throw new CairnError('LearnerNotReady');
    }
    return this.member.changeMembership('promote', m);
  }

  status(): MemberStatus {
    const s = this.member.status();
    return {
      leader: this.member.leader,
      raftIndex: BigInt(s.commit),
      raftTerm: BigInt(s.term),
      raftAppliedIndex: this.member.applied,
      isLearner: this.member.isLearner,
      dbSizeBytes: this.store.dbSizeBytes(),
      dbSizeInUseBytes: this.store.dbSizeInUseBytes(),
    };
  }

  transferLeadership(to: bigint): void {
    const s = this.member.status();
    if (s.lead !== s.id) throw new CairnError('NotLeader');
    if (to === s.id) return; // already the leader: etcd answers this as done
    const target = this.members.get(to);
    if (!target || target.isLearner || to === s.id) throw new CairnError('BadLeaderTransferee');
    this.member.transferLeadership(to);
  }
}

function checkUrls(urls: string[]): void {
  if (urls.length === 0) throw new CairnError('MemberBadURLs');
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new CairnError('MemberBadURLs');
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.port && !parsed.host) throw new CairnError('MemberBadURLs');
  }
}
