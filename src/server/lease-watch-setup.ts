/**
 * Wiring of the lease, auth and watch parts into one member: opens the lease and auth tables in
 * the store's environment, restores the lessor and the auth state from them, builds the apply function the proposer uses (KV
 * writes and lease requests in log order), the lease service and the watch hub. Kept apart from
 * cairn-server.ts so the member's class stays a list of operations.
 *
 * Must never start expiring leases before the proposer exists (the caller starts the primary).
 */
import type { Logger } from 'pino';
import { Lessor, minLeaseTtlSec } from '../lease/lessor.js';
import type { MvccStore } from '../mvcc/store.js';
import { WRITE_TXN_FLAGS } from '../mvcc/tables.js';
import type { Event } from '../mvcc/types.js';
import { WatchHub, type WatchHubLimits } from '../watch/hub.js';
import { serialApplier } from './lease-apply.js';
import { LeaseService, type LeaseTimers } from './lease-service.js';
import { LEASE_TABLE_NAME, LmdbLeaseTable } from './lease-table-lmdb.js';
import { ALARM_TABLE_NAME, AlarmTable } from './alarms.js';
import type { BatchApply } from './proposer.js';
import type { ServerOutcome, ServerRequest } from './requests.js';
import type { AuthStore } from '../auth/auth-store.js';
import { AUTH_TABLE_NAME, LmdbAuthTable } from './auth-table-lmdb.js';

/** etcd's defaults: --election-timeout 1000, --heartbeat-interval 100. */
export const DEFAULT_ELECTION_TIMEOUT_MS = 1_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 100;

export interface LeaseWatchOptions {
  electionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  leaseCheckpointIntervalMs?: number;
  leaseTimers?: Partial<LeaseTimers>;
  watchLimits?: Partial<WatchHubLimits>;
}

export interface LeaseWatchParts {
  lessor: Lessor;
  leases: LeaseService;
  apply: BatchApply;
  watchHub: WatchHub;
  /** Reloads the lessor, the alarms and the auth state from their tables (after the store was replaced by a snapshot). */
  reloadFromStore: () => void;
  alarms: AlarmTable;
}

export function setUpLeasesAndWatches(
  store: MvccStore,
  memberId: bigint,
  opts: LeaseWatchOptions,
  deps: {
    propose: (r: ServerRequest) => Promise<ServerOutcome>;
    onEvents: (listener: (events: Event[], revision: bigint) => void) => () => void;
    logger: Logger;
    /** Loaded from its table here; the apply step keeps it and its table in step. */
    auth: AuthStore;
  },
): LeaseWatchParts {
  const electionTimeoutMs = opts.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT_MS;
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const table = new LmdbLeaseTable(store.openTable(LEASE_TABLE_NAME));
  const lessor = new Lessor({
    minTtlSec: minLeaseTtlSec(electionTimeoutMs, heartbeatIntervalMs),
    checkpointIntervalMs: opts.leaseCheckpointIntervalMs,
  });
  lessor.restore(table.loadAll());
  const leases = new LeaseService(lessor, {
    propose: deps.propose,
    keysOfLease: (id) => store.keysOfLease(id),
    currentRevision: () => store.currentRevision,
    logger: deps.logger,
  }, memberId, opts.leaseTimers);
  const watchHub = new WatchHub(store, deps.onEvents, opts.watchLimits);
  // One LMDB write transaction per applied batch, with the store's own flags (its runs nest).
  const transaction = <T>(fn: () => T): T => store.env.transactionSync(fn, WRITE_TXN_FLAGS) as T;
  const alarms = new AlarmTable(store.openTable(ALARM_TABLE_NAME));
  const authTable = new LmdbAuthTable(store.openTable(AUTH_TABLE_NAME));
  deps.auth.load(authTable);
  const reloadFromStore = () => {
    lessor.replaceAll(table.loadAll());
    alarms.reload();
    deps.auth.load(authTable);
  };
  const auth = { store: deps.auth, table: authTable };
  return { lessor, leases, apply: serialApplier(store, lessor, table, transaction, { alarms, auth }), watchHub, reloadFromStore, alarms };
}
