/**
 * Starting a member's replication state: a restart takes identity, membership and log from the
 * data dir (the --initial-* flags are ignored, as in etcd); a founding member of a new cluster
 * writes the founding log (one addNode conf change per member, sorted by id, so every founder
 * writes the same bytes); a member joining an existing cluster asks a peer for the member list
 * and starts with an empty log that the leader fills.
 *
 * Must never start a member whose data dir belongs to another cluster, or overwrite a log.
 */
import type { Logger } from 'pino';
import { encodeConfChange, type Entry } from '../raft/index.js';
import { fetchClusterMembers, resolveLimits, type PeerTlsOptions } from '../transport/index.js';
import { computeClusterId, computeMemberId, DataDirError, memberDir, readIdentity, writeIdentity, type Identity } from './identity.js';
import { encodeMemberContext, MembershipTable, type Member } from './membership.js';
import { WalStorage } from './raft-storage.js';

export interface InitialMember {
  name: string;
  peerUrls: string[];
}

export interface ClusterStartOptions {
  name: string;
  dataDir: string;
  initialCluster: InitialMember[];
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  initialAdvertisePeerUrls: string[];
  advertiseClientUrls: string[];
  /** For https peer URLs: the member list is read with the peer certificate. */
  peerTls?: PeerTlsOptions | null;
}

export interface PreparedMember {
  identity: Identity;
  members: MembershipTable;
  storage: WalStorage;
  /** True on the very first start of this data dir. */
  fresh: boolean;
}

function walLogger(logger: Logger) {
  return { info: (o: object, m?: string) => logger.info(o, m), warn: (o: object, m?: string) => logger.warn(o, m) };
}

export async function prepareMember(o: ClusterStartOptions, logger: Logger): Promise<PreparedMember> {
  const dir = memberDir(o.dataDir);
  const existing = readIdentity(o.dataDir);
  if (existing) {
    const storage = await WalStorage.open(dir, walLogger(logger));
    if (existing.name !== o.name) logger.warn({ dataDirName: existing.name, flagName: o.name }, 'data dir belongs to a member of another name; keeping the data dir identity');
    return { identity: existing, members: MembershipTable.load(dir), storage, fresh: false };
  }
  if (o.initialClusterState === 'new') return bootstrapNewCluster(o, dir, logger);
  return joinExistingCluster(o, dir, logger);
}

async function bootstrapNewCluster(o: ClusterStartOptions, dir: string, logger: Logger): Promise<PreparedMember> {
  const founders: Member[] = o.initialCluster.map((m) => ({
    id: computeMemberId(m.peerUrls, o.initialClusterToken), name: m.name, peerUrls: m.peerUrls, clientUrls: [], isLearner: false,
  }));
  founders.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const memberId = computeMemberId(o.initialAdvertisePeerUrls, o.initialClusterToken);
  if (!founders.some((m) => m.id === memberId)) {
    throw new DataDirError(`--initial-cluster does not list this member's --initial-advertise-peer-urls ${o.initialAdvertisePeerUrls.join(',')}`);
  }
  const identity: Identity = { name: o.name, memberId, clusterId: computeClusterId(founders.map((m) => m.id)) };
  const storage = await WalStorage.open(dir, walLogger(logger));
  if (!storage.isEmpty()) {
    await storage.close();
    throw new DataDirError(`data dir ${o.dataDir} holds a raft log but no member identity; refusing to overwrite it`);
  }
  const entries: Entry[] = founders.map((m, i) => ({
    term: 1, index: i + 1, type: 'confChange',
    data: encodeConfChange({ type: 'addNode', nodeId: m.id, context: encodeMemberContext({ requestId: 'bootstrap', member: m }) }),
  }));
  storage.append(entries);
  storage.setHardState({ term: 1, vote: 0n, commit: entries.length });
  await storage.persist();
  writeIdentity(o.dataDir, identity);
  logger.info({ members: founders.map((m) => `${m.name}=${m.id.toString(16)}`), clusterId: identity.clusterId.toString(16) }, 'bootstrapped a new cluster');
  return { identity, members: MembershipTable.load(dir), storage, fresh: true };
}

async function joinExistingCluster(o: ClusterStartOptions, dir: string, logger: Logger): Promise<PreparedMember> {
  const own = new Set(o.initialAdvertisePeerUrls);
  const peerUrls = o.initialCluster.filter((m) => !m.peerUrls.some((u) => own.has(u))).flatMap((m) => m.peerUrls);
  if (peerUrls.length === 0) throw new DataDirError('--initial-cluster-state existing needs the other members in --initial-cluster');
  let cluster;
  try {
    cluster = await fetchClusterMembers(peerUrls, { tls: o.peerTls ?? null, limits: resolveLimits() });
  } catch (e) {
    throw new DataDirError(`cannot join the existing cluster: ${(e as Error).message}`);
  }
  const me = cluster.members.find((m) => m.peerUrls.some((u) => own.has(u)));
  if (!me) {
    throw new DataDirError(`this member (${[...own].join(',')}) is not in the cluster ${cluster.clusterId.toString(16)}; add it first with "member add"`);
  }
  const identity: Identity = { name: o.name, memberId: me.id, clusterId: cluster.clusterId };
  const storage = await WalStorage.open(dir, walLogger(logger));
  const members = MembershipTable.load(dir);
  for (const m of cluster.members) members.upsert({ ...m, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls] });
  await members.save();
  writeIdentity(o.dataDir, identity);
  logger.info({ memberId: me.id.toString(16), clusterId: cluster.clusterId.toString(16), from: cluster.url }, 'joining an existing cluster');
  return { identity, members, storage, fresh: true };
}

