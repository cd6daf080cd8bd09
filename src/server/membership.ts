/**
 * The member table: who is in the cluster (id, name, peer and client URLs, learner or voter)
 * and who was removed. Changed only by applying committed log entries (conf changes and
 * attribute publications), kept in memory and written atomically to `member/members.json`
 * after every change, so a restart knows the table before it replays the log.
 *
 * Must never diverge between members: only apply() paths change it, in log order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonDurably } from './durable-file.js';

export interface MemberAttributes {
  id: bigint;
  name: string;
  clientUrls: string[];
}

export interface Member {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface MembersFile {
  version: 1;
  members: Array<{ id: string; name: string; peerUrls: string[]; clientUrls: string[]; isLearner: boolean }>;
  removed: string[];
}

/** What a conf change entry carries in its context: the member as it is added or updated. */
export interface MemberContext {
  requestId: string;
  member: Member;
}

export class MembershipTable {
  private readonly members = new Map<bigint, Member>();
  private readonly removedIds = new Set<bigint>();

  constructor(private readonly path: string) {}

  static load(memberDir: string): MembershipTable {
    const t = new MembershipTable(join(memberDir, 'members.json'));
    if (existsSync(t.path)) {
      const f = JSON.parse(readFileSync(t.path, 'utf8')) as MembersFile;
      if (f.version !== 1) throw new Error(`${t.path}: unknown members file version ${String(f.version)}`);
      for (const m of f.members) t.members.set(BigInt(m.id), { ...m, id: BigInt(m.id) });
      for (const id of f.removed) t.removedIds.add(BigInt(id));
    }
    return t;
  }

  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  isRemoved(id: bigint): boolean {
    return this.removedIds.has(id);
  }

  byPeerUrl(url: string): Member | undefined {
    return this.list().find((m) => m.peerUrls.includes(url));
  }

  upsert(m: Member): void {
    const old = this.members.get(m.id);
    // Attributes published by the member itself (name, client URLs) survive later updates.
    this.members.set(m.id, { ...m, name: m.name || old?.name || '', clientUrls: m.clientUrls.length ? m.clientUrls : old?.clientUrls ?? [] });
    this.removedIds.delete(m.id);
  }

  remove(id: bigint): void {
    this.members.delete(id);
    this.removedIds.add(id);
  }

  setAttributes(a: MemberAttributes): void {
    const m = this.members.get(a.id);
    if (m) this.members.set(a.id, { ...m, name: a.name, clientUrls: a.clientUrls });
  }

  promote(id: bigint): void {
    const m = this.members.get(id);
    if (m) this.members.set(id, { ...m, isLearner: false });
  }

  /** The whole table as written to members.json (also what a Raft snapshot carries). */
  toFile(): MembersFile {
    return {
      version: 1,
      members: this.list().map((m) => ({ ...m, id: m.id.toString() })),
      removed: [...this.removedIds].map(String),
    };
  }

  /** Replaces the whole table (installing a Raft snapshot); the caller saves. */
  replaceFrom(f: MembersFile): void {
    if (f.version !== 1) throw new Error(`unknown members table version ${String(f.version)}`);
    this.members.clear();
    this.removedIds.clear();
    for (const m of f.members) this.members.set(BigInt(m.id), { ...m, id: BigInt(m.id) });
    for (const id of f.removed) this.removedIds.add(BigInt(id));
  }

  async save(): Promise<void> {
    await writeJsonDurably(this.path, this.toFile());
  }
}

export function encodeMemberContext(c: MemberContext): Uint8Array {
  return Buffer.from(JSON.stringify({ requestId: c.requestId, member: { ...c.member, id: c.member.id.toString() } }));
}

export function decodeMemberContext(b: Uint8Array): MemberContext | undefined {
  if (b.length === 0) return undefined;
  const o = JSON.parse(Buffer.from(b).toString('utf8')) as { requestId: string; member: Member & { id: string } };
  return { requestId: o.requestId, member: { ...o.member, id: BigInt(o.member.id) } };
}
