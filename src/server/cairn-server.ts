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
import { computeClusterId, computeMemberId, memberDir, readIdentity, writeIdentity, type Identity } from './identity.js';
import { ServerMetrics } from './metrics.js';
import type { LeaseService } from './lease-service.js';
import { DEFAULT_ELECTION_TIMEOUT_MS, setUpLeasesAndWatches, type LeaseWatchOptions } from './lease-watch-setup.js';
import { DEFAULT_PROPOSER_LIMITS, LocalProposer, type Proposer } from './proposer.js';
import type { WatchHub } from '../watch/hub.js';
import { checkRequestSize } from './request-size.js';

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
  logger: Logger;
  /** Register Node's process metrics (off in tests that start several servers in one process). */
  processMetrics?: boolean;
  /** Election timing (minimum lease TTL, lease extension on promotion) and lease/watch limits. */
  leaseWatch?: LeaseWatchOptions;
}

export const CAIRN_VERSION = '3.4.23';
export const CLUSTER_VERSION = '3.4.0';

export class CairnServer {
  readonly metrics: ServerMetrics;
  /** Leases: grant, revoke, keep-alive, time-to-live, list (see lease-service.ts). */
  leases!: LeaseService;
  /** Every watcher of this member (see watch/hub.ts). */
  watchHub!: WatchHub;
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
    const identity = loadOrCreateIdentity(options);
    const snapDir = join(memberDir(options.dataDir), 'snap');
    mkdirSync(snapDir, { recursive: true });
    const store = MvccStore.open({ dir: snapDir, maxTxnOps: options.maxTxnOps });
    const metrics = new ServerMetrics({ processMetrics: options.processMetrics ?? true });
    const server = new CairnServer(options, identity, store, undefined as unknown as Proposer, metrics);
    const lw = setUpLeasesAndWatches(store, identity.memberId, options.leaseWatch ?? {}, {
      propose: (r) => server.proposer.propose(r), onEvents: (l) => server.onEvents(l), logger: options.logger,
    });
    server.leases = lw.leases;
    server.watchHub = lw.watchHub;
    server.proposer = new LocalProposer(store, metrics, (events, rev) => server.publish(events, rev), DEFAULT_PROPOSER_LIMITS, lw.apply);
    lw.leases.startPrimary(options.leaseWatch?.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT_MS);
    metrics.hasLeader.set(1);
    metrics.isLeader.set(1);
    options.logger.info(
      { name: identity.name, memberId: hex(identity.memberId), clusterId: hex(identity.clusterId), revision: store.currentRevision.toString() },
      'member started',
    );
    return server;
  }

  get raftTerm(): bigint {
    return 1n;
  }

  header(revision: bigint = this.store.currentRevision): ResponseHeader {
    return { clusterId: this.identity.clusterId, memberId: this.identity.memberId, revision, raftTerm: this.raftTerm };
  }

  /** Subscribes to the events of every applied write, in revision order. */
  onEvents(listener: (events: Event[], revision: bigint) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  async range(req: RangeRequest): Promise<Answer<RangeResult>> {
    this.checkOpen();
    if (!req.serializable) await this.proposer.readBarrier();
    const revision = this.store.currentRevision;
    const result = this.store.range(req);
    return { header: this.header(revision), result };
  }

  async put(req: PutRequest): Promise<Answer<PutResult>> {
    const { header, result } = await this.write({ put: req });
    return { header, result: (result as { put: PutResult }).put };
  }

  async deleteRange(req: DeleteRangeRequest): Promise<Answer<DeleteRangeResult>> {
    const { header, result } = await this.write({ deleteRange: req });
    return { header, result: (result as { deleteRange: DeleteRangeResult }).deleteRange };
  }

  async txn(req: TxnRequest): Promise<Answer<TxnResult>> {
    const { header, result } = await this.write({ txn: req });
    return { header, result: (result as { txn: TxnResult }).txn };
  }

  async compact(revision: bigint, physical: boolean): Promise<Answer<Record<string, never>>> {
    const { header } = await this.write({ compaction: { revision, physical } });
    if (physical) await this.store.compactionSettled();
    return { header, result: {} };
  }

  /** etcd's /health: true when this member can serve a linearizable read. */
  async health(): Promise<{ ok: boolean; reason?: string }> {
    if (this.closed) return { ok: false, reason: 'server stopped' };
    try {
      await this.proposer.readBarrier();
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
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
    await this.proposer.close();
    await this.store.close();
    this.options.logger.info('member stopped');
  }

  private async write(req: WriteRequest): Promise<Answer<WriteResult>> {
    this.checkOpen();
    checkRequestSize(req, this.options.maxRequestBytes);
    const outcome = await this.proposer.propose(req);
    if (!outcome.ok) throw outcome.error;
    return { header: this.header(outcome.revision), result: outcome.result as WriteResult };
  }

  private publish(events: Event[], revision: bigint): void {
    this.metrics.currentRevision.set(Number(revision));
    for (const l of this.eventListeners) l(events, revision);
  }

  private checkOpen(): void {
    if (this.closed) throw new CairnError('Stopped');
  }
}

function loadOrCreateIdentity(o: ServerOptions): Identity {
  const existing = readIdentity(o.dataDir);
  if (existing) {
    if (existing.name !== o.name) {
      o.logger.warn({ dataDirName: existing.name, flagName: o.name }, 'data dir belongs to a member of another name; keeping the data dir identity');
    }
    return existing;
  }
  const memberId = computeMemberId(o.initialAdvertisePeerUrls, o.initialClusterToken);
  const identity: Identity = { name: o.name, memberId, clusterId: computeClusterId([memberId]) };
  writeIdentity(o.dataDir, identity);
  return identity;
}

export function hex(id: bigint): string {
  return id.toString(16);
}
