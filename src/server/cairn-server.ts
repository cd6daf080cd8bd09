/**
 * One Cairn member. Owns the store, the proposer (the write seam) and the member's identity,
 * and offers the operations the API layer calls: each returns the result with the response
 * header `{clusterId, memberId, revision, raftTerm}`. Validation that etcd does before a
 * request enters the log (txn size, duplicate keys) happens here; everything else is the store's.
 *
 * Knows nothing of HTTP. Never answers a write that is not durable.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CairnError } from '../errors/errors.js';
import { MvccStore } from '../mvcc/store.js';
import type {
  DeleteRangeRequest, DeleteRangeResult, Event, PutRequest, PutResult, RangeRequest, RangeResult,
  TxnRequest, TxnResult, WriteRequest, WriteResult,
} from '../mvcc/types.js';
import { memberDir, type Identity } from './identity.js';
import { ServerMetrics } from './metrics.js';
import type { LeaseService } from './lease-service.js';
import { setUpLeasesAndWatches, type LeaseWatchOptions } from './lease-watch-setup.js';
import type { BatchApply, Proposer } from './proposer.js';
import { CallError, createPeerServer, PeerCallError, PeerTransport, type PeerServer, type PeerTlsOptions } from '../transport/index.js';
import type { TimeToLiveResult } from './lease-service.js';
import { prepareMember, type InitialMember } from './cluster-bootstrap.js';
import type { MembershipTable } from './membership.js';
import { RaftMember } from './raft-member.js';
import { ClusterService } from './cluster-service.js';
import type { WalStorage } from './raft-storage.js';
import type { WatchHub } from '../watch/hub.js';
import { checkRequestSize } from './request-size.js';
import { LockService } from './concurrency/lock-service.js';
import { ElectionService } from './concurrency/election-service.js';
import { dataCostBytes } from './lease-apply.js';
import { finishSnapshotRestore } from './snapshot-restore.js';
import { snapshotStream, streamBytesOf, type SnapshotSummary } from './snapshot-stream.js';
import type { AlarmMember, AlarmTable, AlarmType } from './alarms.js';
import { AuthStore } from '../auth/auth-store.js';
import { SimpleTokens } from '../auth/tokens.js';
import type { ScryptCost } from '../auth/password.js';
import { AuthService, type TokenIssuer } from './auth-service.js';
import type { RequestCaller } from './requests.js';

/** The data file's size is sampled at most this often for the quota check. */
const DB_SIZE_SAMPLE_MS = 100;
/** etcd's default --quota-backend-bytes, for a server started without one (cairn passes the flag's). */
const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

export interface Answer<T> {
  header: ResponseHeader;
  result: T;
}

export interface ServerOptions {
  name: string;
  dataDir: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string[];
  advertiseClientUrls: string[];
  maxTxnOps: number;
  maxRequestBytes: number;
  /** Past this data file size, writes that add data raise NOSPACE (etcd's --quota-backend-bytes; default 2 GiB). */
  quotaBackendBytes?: number;
  logger: Logger;
  /** Register Node's process metrics (off in tests that start several servers in one process). */
  processMetrics?: boolean;
  /** Election timing (minimum lease TTL, lease extension on promotion) and lease/watch limits. */
  leaseWatch?: LeaseWatchOptions;
  /** Replication: who the founding members are and the Raft timing. */
  cluster?: ClusterOptions;
  /** Tokens (default: simple, 300 s after last use, as etcd) and the password hash cost. */
  auth?: { issuer?: TokenIssuer; scryptCost?: ScryptCost };
  /** Called when the member must stop for good (removed from the cluster, wrong cluster). */
  onFatal?: (reason: string) => void;
  /** Peer TLS (--peer-* flags, see tls-material.ts): used by the peer listener, by every
   * connection to other members, and by a joining member asking for the member list. */
  peerTls?: PeerTlsOptions | null;
}

export interface ClusterOptions {
  /** Default: this member alone. */
  initialCluster?: InitialMember[];
  initialClusterState?: 'new' | 'existing';
  /** Default none: no peer listener (a single member in a test). */
  listenPeerUrls?: string[];
  heartbeatIntervalMs?: number;
  electionTimeoutMs?: number;
  snapshotCount?: number;
  /** Log entries kept behind a raft snapshot (default 5000, as etcd). */
  snapshotCatchUpEntries?: number;
  requestTimeoutMs?: number;
}

export const CAIRN_VERSION = '3.4.23';
/** etcd's --auth-token-ttl default: a simple token lapses 300 s after its last use. */
export const DEFAULT_AUTH_TOKEN_TTL_MS = 300_000;
export const CLUSTER_VERSION = '3.4.0';

export class CairnServer {
  readonly metrics: ServerMetrics;
  /** Leases: grant, revoke, keep-alive, time-to-live, list (see lease-service.ts). */
  leases!: LeaseService;
  /** Users, roles, tokens and permission checks (see auth-service.ts). */
  auth!: AuthService;
  /** Every watcher of this member (see watch/hub.ts). */
  watchHub!: WatchHub;
  /** etcd's v3lock and v3election services, on this member's txn, range and watch hub. */
  readonly locks: LockService = new LockService(this);
  readonly elections: ElectionService = new ElectionService(this);
  private reloadFromStore: () => void = () => {};
  /** The cluster's alarms (NOSPACE, CORRUPT), as applied from the log. */
  alarms!: AlarmTable;
  private dbSizeSample = { atMs: 0, bytes: 0 };
  private raisingNoSpace = false;
  private readonly eventListeners = new Set<(events: Event[], revision: bigint) => void>();
  private closed = false;

  private constructor(
    readonly options: ServerOptions,
    readonly identity: Identity,
    readonly store: MvccStore,
    private proposer: Proposer,
    metrics: ServerMetrics,
  ) {
    this.metrics = metrics;
  }

  static async start(options: ServerOptions): Promise<CairnServer> {
    const c = options.cluster ?? {};
    const logger = options.logger;
    await finishSnapshotRestore(options.dataDir, c.initialClusterState ?? 'new', logger);
    const prepared = await prepareMember({
      name: options.name, dataDir: options.dataDir,
      initialCluster: c.initialCluster ?? [{ name: options.name, peerUrls: options.initialAdvertisePeerUrls }],
      initialClusterState: c.initialClusterState ?? 'new', initialClusterToken: options.initialClusterToken,
      initialAdvertisePeerUrls: options.initialAdvertisePeerUrls, advertiseClientUrls: options.advertiseClientUrls,
      peerTls: options.peerTls ?? null,
    }, logger);
    const identity = prepared.identity;
    const snapDir = join(memberDir(options.dataDir), 'snap');
    mkdirSync(snapDir, { recursive: true });
    const store = MvccStore.open({ dir: snapDir, maxTxnOps: options.maxTxnOps });
    const metrics = new ServerMetrics({ processMetrics: options.processMetrics ?? true });
    const server = new CairnServer(options, identity, store, undefined as unknown as Proposer, metrics);
    const issuer: TokenIssuer = options.auth?.issuer ?? { kind: 'simple', tokens: new SimpleTokens({ ttlMs: DEFAULT_AUTH_TOKEN_TTL_MS }) };
    const authStore = new AuthStore(issuer.kind === 'simple' ? issuer.tokens : null);
    const lw = setUpLeasesAndWatches(store, identity.memberId, options.leaseWatch ?? {}, {
      propose: (r) => server.proposer.propose(r), onEvents: (l) => server.onEvents(l), logger, auth: authStore,
    });
    server.auth = new AuthService(authStore, issuer, {
      propose: (r) => server.proposer.propose(r), readBarrier: () => server.proposer.readBarrier(),
      header: (r) => server.header(r), scryptCost: options.auth?.scryptCost,
    });
    server.leases = lw.leases;
    server.reloadFromStore = lw.reloadFromStore;
    server.alarms = lw.alarms;
    server.watchHub = lw.watchHub;
    await server.startReplication(prepared.storage, prepared.members, lw.apply, c);
    logger.info(
      { name: identity.name, memberId: hex(identity.memberId), clusterId: hex(identity.clusterId), revision: store.currentRevision.toString() },
      'member started',
    );
    return server;
  }

  /** The Raft member under the propose seam, the peer transport and the peer listener. */
  private async startReplication(storage: WalStorage, members: MembershipTable, apply: BatchApply, c: ClusterOptions): Promise<void> {
    const { logger } = this.options;
    const self = this.identity.memberId;
    const electionTimeoutMs = c.electionTimeoutMs ?? 1000;
    const fatal = (reason: string) => {
      logger.fatal(reason);
      this.options.onFatal?.(reason);
    };
    const transport = new PeerTransport({
      clusterId: this.identity.clusterId, memberId: self, peerUrls: this.options.initialAdvertisePeerUrls, logger,
      serverVersion: CAIRN_VERSION, tls: this.options.peerTls ?? null,
      onUnreachable: (id) => this.member.node.reportUnreachable(id),
      onSnapshotStatus: (id, ok) => this.member.node.reportSnapshot(id, ok),
      openSnapshotData: () => this.member.snapshotData(),
      onClusterMismatch: (peer, theirs) => this.clusterMismatch(peer, theirs, electionTimeoutMs, fatal),
      onRemoved: () => fatal('this member has been removed from the cluster; stopping'),
    });
    for (const m of members.list()) if (m.id !== self) transport.addPeer(m.id, m.peerUrls);
    this.transport = transport;
    this.member = new RaftMember({
      memberId: self, heartbeatIntervalMs: c.heartbeatIntervalMs ?? 100, electionTimeoutMs,
      snapshotCount: c.snapshotCount ?? 10_000, snapshotCatchUpEntries: c.snapshotCatchUpEntries ?? 5_000,
      snapshotWorkDir: join(memberDir(this.options.dataDir), 'snap'), requestTimeoutMs: c.requestTimeoutMs ?? 7_000, logger,
    }, this.store, storage, transport, members, this.metrics, apply, (events, rev) => this.publish(events, rev));
    this.storage = storage;
    this.members = members;
    this.proposer = this.member;
    this.member.onLeaderChange = (lead) => {
      if (lead === self) this.leases.startPrimary(electionTimeoutMs);
      else this.leases.stop();
    };
    this.cluster = new ClusterService(this.member, members, this.store, this.options.initialClusterToken);
    this.member.onSnapshotInstalled = () => this.afterStoreReplaced();
    this.member.onRemoved = () => fatal('this member has been removed from the cluster; stopping');
    if ((c.listenPeerUrls ?? []).length > 0) {
      this.peerServer = await createPeerServer({
        transport, listenUrls: c.listenPeerUrls!, tls: this.options.peerTls ?? null,
        handler: {
          onMessages: (msgs) => this.member.step(msgs),
          onSnapshot: (m, data) => this.member.receiveSnapshot(m, data),
          members: () => this.members.list(),
          isKnownMember: (id) => !this.members.isRemoved(id),
          onCall: (name, body) => this.answerPeerCall(name, body),
        },
      });
    }
    this.leases.forwardTo({
      keepAlive: async (id) => BigInt((await this.callLeader('lease.keepAlive', { id: id.toString() }) as { ttl: string }).ttl),
      timeToLive: async (id, keys) => {
        const r = await this.callLeader('lease.timeToLive', { id: id.toString(), keys }) as { ttl: string; granted: string; keys: string[] };
        return { id, ttlSec: BigInt(r.ttl), grantedTtlSec: BigInt(r.granted), keys: r.keys.map((k) => Buffer.from(k, 'base64')) };
      },
    });
    this.member.start();
    this.member.publishAttributes(this.options.name, this.options.advertiseClientUrls).catch((e: Error) => {
      logger.warn({ err: e }, 'could not publish this member\'s attributes');
    });
  }

  member!: RaftMember;
  cluster!: ClusterService;
  transport!: PeerTransport;
  storage!: WalStorage;
  members!: MembershipTable;
  peerServer: PeerServer | null = null;

  /** The peer listener's addresses (after start). */
  get peerUrls(): string[] {
    return this.peerServer ? [...this.peerServer.urls] : [];
  }

  get raftTerm(): bigint {
    return this.member.raftTerm;
  }

  header(revision: bigint = this.store.currentRevision): ResponseHeader {
    return { clusterId: this.identity.clusterId, memberId: this.identity.memberId, revision, raftTerm: this.raftTerm };
  }

  /** Subscribes to the events of every applied write, in revision order. */
  onEvents(listener: (events: Event[], revision: bigint) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** `caller` (a client's request): READ on the range, checked here after the read point. */
  async range(req: RangeRequest, caller?: RequestCaller): Promise<Answer<RangeResult>> {
    this.checkOpen();
    if (!req.serializable) await this.proposer.readBarrier();
    this.auth.checkRead(caller, req.key, req.rangeEnd);
    const revision = this.store.currentRevision;
    const result = this.store.range(req);
    return { header: this.header(revision), result };
  }

  /** Writes with a `caller` are checked when they apply, in log order. */
  async put(req: PutRequest, caller?: RequestCaller): Promise<Answer<PutResult>> {
    const { header, result } = await this.write({ put: req }, caller);
    return { header, result: (result as { put: PutResult }).put };
  }

  async deleteRange(req: DeleteRangeRequest, caller?: RequestCaller): Promise<Answer<DeleteRangeResult>> {
    const { header, result } = await this.write({ deleteRange: req }, caller);
    return { header, result: (result as { deleteRange: DeleteRangeResult }).deleteRange };
  }

  async txn(req: TxnRequest, caller?: RequestCaller): Promise<Answer<TxnResult>> {
    const { header, result } = await this.write({ txn: req }, caller);
    return { header, result: (result as { txn: TxnResult }).txn };
  }

  async compact(revision: bigint, physical: boolean): Promise<Answer<Record<string, never>>> {
    const { header } = await this.write({ compaction: { revision, physical } });
    if (physical) await this.store.compactionSettled();
    return { header, result: {} };
  }

  /** Moves leadership to `to` and waits (up to two election timeouts) until it has it. */
  async moveLeader(to: bigint): Promise<void> {
    this.cluster.transferLeadership(to);
    const deadline = Date.now() + 2 * (this.options.cluster?.electionTimeoutMs ?? 1000) + 1000;
    while (this.member.leader !== to) {
      if (Date.now() > deadline) throw new CairnError('Timeout');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** etcd's /health: true when this member can serve a linearizable read. */
  async health(): Promise<{ ok: boolean; reason?: string }> {
    if (this.closed) return { ok: false, reason: 'server stopped' };
    if (this.member && this.member.leader === 0n) return { ok: false, reason: 'etcdserver: no leader' };
    // A linearizable read point, bounded: a member cut off from its quorum answers false quickly
    // instead of holding the probe for the whole request timeout.
    const limitMs = 2 * (this.options.cluster?.electionTimeoutMs ?? 1000);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.proposer.readBarrier(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new CairnError('Timeout')), limitMs); }),
      ]);
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Brings gauges that are cheap to read but not worth updating per write up to date. */
  refreshGauges(): void {
    this.metrics.dbTotalSizeBytes.set(this.store.dbSizeBytes());
    this.metrics.currentRevision.set(Number(this.store.currentRevision));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchHub.close();
    this.leases.stop();
    await this.peerServer?.close();
    await this.member.close();
    await this.transport.close();
    await this.storage.close();
    await this.store.close();
    this.options.logger.info('member stopped');
  }

  /**
   * etcd's Maintenance.Alarm: GET lists this cluster's alarms; ACTIVATE and DEACTIVATE go through
   * the log and answer the alarms raised or cleared.
   */
  async alarm(action: 'get' | 'activate' | 'deactivate', memberId: bigint, alarm: AlarmType): Promise<Answer<AlarmMember[]>> {
    this.checkOpen();
    if (action === 'get') {
      await this.proposer.readBarrier();
      return { header: this.header(), result: this.alarms.list() };
    }
    const outcome = await this.proposer.propose({ alarm: { action, memberId, alarm } });
    if (!outcome.ok) throw outcome.error;
    return { header: this.header(outcome.revision), result: (outcome.result as { alarm: { alarms: AlarmMember[] } }).alarm.alarms };
  }

  /**
   * Rewrites this member's data file without free pages (etcd's defragment: local to the member,
   * not through the log). Runs between two applies: the copy and the swap see no write.
   */
  async defragment(): Promise<Answer<Record<string, never>>> {
    this.checkOpen();
    const before = this.store.dbSizeBytes();
    const dir = join(memberDir(this.options.dataDir), 'snap', `defrag-${process.pid}`);
    await this.member.runExclusive(async () => {
      await this.store.copyTo(dir, true);
      await this.store.replaceWith(dir);
    });
    this.dbSizeSample.atMs = 0;
    this.options.logger.info({ beforeBytes: before, afterBytes: this.store.dbSizeBytes() }, 'defragmented the data file');
    return { header: this.header(), result: {} };
  }

  /**
   * A consistent copy of this member's whole store for `/v3/maintenance/snapshot`, in the format of
   * snapshot-stream.ts with a summary (revision, keys, hash) for `cairnctl snapshot status`.
   * Resolves once the copy is taken, with its total length.
   */
  async snapshot(): Promise<{ totalBytes: number; chunks: AsyncIterable<Uint8Array> }> {
    this.checkOpen();
    const describe = async (copyDir: string): Promise<SnapshotSummary> => {
      const copy = MvccStore.open({ dir: copyDir });
      try {
        const revision = copy.currentRevision;
        const totalKeys = Number(copy.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), countOnly: true }).count);
        return { revision: revision.toString(), totalKeys, hash: copy.hashKV(revision).hash };
      } finally {
        await copy.close();
      }
    };
    const it = snapshotStream(this.store, join(memberDir(this.options.dataDir), 'snap'), () => this.members.toFile(), describe)[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new Error('snapshot: the stream produced nothing');
    const totalBytes = streamBytesOf(first.value);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        yield first.value as Uint8Array;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      } finally {
        await it.return?.(undefined);
      }
    }
    return { totalBytes, chunks: chunks() };
  }

  /** Peers that answered "another cluster" lately: peer → when (ms). */
  private readonly mismatchedPeers = new Map<bigint, number>();

  /**
   * A peer answered that it belongs to another cluster. Both sides see the same refusal, so who
   * is wrong is decided by numbers: a member without a leader that cannot reach a quorum of its
   * voters without the refusing peers is the odd one out (a data dir of another cluster, or a
   * wrong --initial-cluster-token) and stops, naming both cluster IDs. A member with a leader, or
   * one refused by a minority, only logs it (the transport rate-limits that): a stale member
   * must never stop the healthy cluster.
   */
  private clusterMismatch(peer: bigint, theirs: bigint | null, electionTimeoutMs: number, fatal: (reason: string) => void): void {
    const now = Date.now();
    this.mismatchedPeers.set(peer, now);
    for (const [id, at] of this.mismatchedPeers) if (now - at > 5 * electionTimeoutMs) this.mismatchedPeers.delete(id);
    const voters = this.member.node.status().confState.voters;
    const refusing = voters.filter((id) => this.mismatchedPeers.has(id)).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    if (this.member.leader !== 0n || voters.length - refusing >= quorum) return;
    fatal(`peer ${peer.toString(16)} belongs to cluster ${theirs?.toString(16) ?? '(unknown)'}, but this data dir belongs to cluster ${this.identity.clusterId.toString(16)}, and ${refusing} of ${voters.length} voters refuse this member: refusing to run in another cluster (wrong --data-dir or --initial-cluster-token?)`);
  }

  /**
   * A request only the leader can answer (lease keep-alive and time-to-live), sent to it over the
   * peer network; retried across elections until the request timeout. Answered here instead if
   * this member became the primary meanwhile.
   */
  private async callLeader(name: string, body: unknown): Promise<unknown> {
    const deadline = Date.now() + (this.options.cluster?.requestTimeoutMs ?? 7_000);
    for (;;) {
      this.checkOpen();
      if (this.leases.lessor.isPrimary) return this.answerPeerCall(name, body);
      const leader = this.member.leader;
      if (leader !== 0n && leader !== this.identity.memberId) {
        try {
          return await this.transport.call(leader, name, body, Math.max(1, deadline - Date.now()));
        } catch (e) {
          // 503: it is not the primary (any more); 0: no answer. Both may pass with an election.
          if (!(e instanceof PeerCallError) || (e.status !== 503 && e.status !== 0)) throw e;
        }
      }
      if (Date.now() >= deadline) throw new CairnError(leader === 0n ? 'NoLeader' : 'Timeout');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** What the leader answers to another member's call (see callLeader). */
  private async answerPeerCall(name: string, body: unknown): Promise<unknown> {
    const b = (body ?? {}) as { id?: unknown; keys?: unknown };
    if (typeof b.id !== 'string' || !/^-?[0-9]{1,20}$/.test(b.id)) throw new CallError(400, `call ${name}: id must be a decimal string`);
    if (!this.leases.lessor.isPrimary) throw new CallError(503, 'not the primary lessor');
    const id = BigInt(b.id);
    if (name === 'lease.keepAlive') return { ttl: (await this.leases.keepAliveHere(id)).result.ttlSec.toString() };
    if (name === 'lease.timeToLive') {
      const r: TimeToLiveResult = this.leases.timeToLiveHere(id, b.keys === true).result;
      return { ttl: r.ttlSec.toString(), granted: r.grantedTtlSec.toString(), keys: r.keys.map((k) => Buffer.from(k).toString('base64')) };
    }
    throw new CallError(404, `no peer call ${name}`);
  }

  /** Refuses a write that would take the data file past the quota, and raises NOSPACE (as etcd). */
  private checkQuota(req: WriteRequest): void {
    const cost = dataCostBytes(req);
    if (cost === 0) return;
    const quota = this.options.quotaBackendBytes || DEFAULT_QUOTA_BACKEND_BYTES;
    const now = Date.now();
    if (now - this.dbSizeSample.atMs > DB_SIZE_SAMPLE_MS) this.dbSizeSample = { atMs: now, bytes: this.store.dbSizeBytes() };
    if (this.dbSizeSample.bytes + cost < quota) return;
    const raised = this.alarms.list().some((a) => a.memberId === this.identity.memberId && a.alarm === 'NOSPACE');
    if (!raised && !this.raisingNoSpace) {
      // One activation in flight at a time: a burst of refused writes proposes it once.
      this.raisingNoSpace = true;
      this.options.logger.warn({ dbSizeBytes: this.dbSizeSample.bytes, quotaBackendBytes: quota }, 'database space exceeded: raising the NOSPACE alarm');
      this.proposer.propose({ alarm: { action: 'activate', memberId: this.identity.memberId, alarm: 'NOSPACE' } })
        .catch((e: Error) => { this.options.logger.warn({ err: e }, 'could not raise the NOSPACE alarm'); })
        .finally(() => { this.raisingNoSpace = false; });
    }
    throw new CairnError('NoSpace');
  }

  private async write(req: WriteRequest, caller?: RequestCaller): Promise<Answer<WriteResult>> {
    this.checkOpen();
    checkRequestSize(req, this.options.maxRequestBytes);
    this.checkQuota(req);
    const outcome = await this.proposer.propose(caller ? { ...req, caller } : req);
    if (!outcome.ok) throw outcome.error;
    return { header: this.header(outcome.revision), result: outcome.result as WriteResult };
  }

  /** The store's data was replaced wholesale (a leader's snapshot): reload what derives from it. */
  private afterStoreReplaced(): void {
    this.reloadFromStore();
    this.watchHub.resync();
    this.metrics.currentRevision.set(Number(this.store.currentRevision));
  }

  private publish(events: Event[], revision: bigint): void {
    this.metrics.currentRevision.set(Number(revision));
    for (const l of this.eventListeners) l(events, revision);
  }

  private checkOpen(): void {
    if (this.closed) throw new CairnError('Stopped');
  }
}

export function hex(id: bigint): string {
  return id.toString(16);
}
