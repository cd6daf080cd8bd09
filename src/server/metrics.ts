/**
 * The member's Prometheus metrics. Names follow etcd's where the meaning is the same, so
 * dashboards and alerts written for etcd keep working. One registry per server instance
 * (tests run several in one process). Updating a metric must stay O(1): these sit on the
 * write path.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly proposalsCommitted: Counter;
  readonly proposalsApplied: Counter;
  readonly proposalsFailed: Counter;
  readonly proposalsPending: Gauge;
  readonly applyBatchSeconds: Histogram;
  readonly hasLeader: Gauge;
  readonly isLeader: Gauge;
  readonly dbTotalSizeBytes: Gauge;
  readonly currentRevision: Gauge;

  constructor(opts: { processMetrics: boolean }) {
    const registers = [this.registry];
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.proposalsCommitted = new Counter({ name: 'etcd_server_proposals_committed_total', help: 'The total number of consensus proposals committed.', registers });
    this.proposalsApplied = new Counter({ name: 'etcd_server_proposals_applied_total', help: 'The total number of consensus proposals applied.', registers });
    this.proposalsFailed = new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers });
    this.proposalsPending = new Gauge({ name: 'etcd_server_proposals_pending', help: 'The current number of pending proposals to commit.', registers });
    this.applyBatchSeconds = new Histogram({
      name: 'cairn_server_apply_batch_duration_seconds',
      help: 'Time to apply one batch of committed entries and make it durable.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.hasLeader = new Gauge({ name: 'etcd_server_has_leader', help: 'Whether or not a leader exists. 1 is existence, 0 is not.', registers });
    this.isLeader = new Gauge({ name: 'etcd_server_is_leader', help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.', registers });
    this.dbTotalSizeBytes = new Gauge({ name: 'etcd_mvcc_db_total_size_in_bytes', help: 'Total size of the underlying database physically allocated in bytes.', registers });
    this.currentRevision = new Gauge({ name: 'etcd_debugging_mvcc_current_revision', help: 'The current revision of store.', registers });
  }
}
