/**
 * PeerTransport: this member's side of the peer network. The host hands it the messages of
 * each Ready; it encodes them, sends one batch per peer per call over pipelined keep-alive
 * connections, streams snapshots on their own connections, and tells the host what failed.
 *
 * Owns: the peer table (ID → URLs → sender), snapshot uploads in flight, the identity headers
 * on every request, and turning refusals into host callbacks (onUnreachable,
 * onSnapshotStatus, onClusterMismatch, onRemoved). Must never: block or throw from send(),
 * retry a lost message, talk to client URLs, or hold anything without a limit (limits.ts).
 *
 * Callbacks run on the event loop, never inside send(), and an exception in one is logged
 * and swallowed: a bug in the host's handler must not wedge the transport.
 */
import {
  encodeMessage, MESSAGE_TYPE_NAMES, MessageType, type Message, type NodeId,
} from '../raft/index.js';
import { resolveLimits, type TransportLimits } from './limits.js';
import { SILENT_LOGGER, RateLimitedLog, type TransportLogger } from './logger.js';
import { classifyStatus, createPeerClient, readCappedBytes, type Outcome } from './peer-client.js';
import { PeerSender, type PeerSenderStats, type SenderContext } from './peer-sender.js';
import { uploadSnapshot, type SnapshotData } from './snapshot-sender.js';
import type { PeerTlsOptions } from './tls.js';
import {
  HEADER_CLUSTER_ID, HEADER_FROM, HEADER_PEER_URLS, HEADER_PROTOCOL, HEADER_SERVER_VERSION,
  HEADER_TO, idText, MAX_CALL_BYTES, parseIdText, PEER_PROTOCOL_VERSION, ROUTE_CALL_PREFIX, ROUTE_PROBE, SNAPSHOT_CONTENT_TYPE,
} from './wire.js';
import type { Client } from 'undici';

/** A peer call that did not get a 2xx answer: `status` (0 when no answer came) and the peer's text. */
export class PeerCallError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface PeerTransportOptions {
  readonly clusterId: bigint;
  readonly memberId: NodeId;
  /** This member's advertised peer URLs, sent with every request (for the peer's logs). */
  readonly peerUrls?: readonly string[];
  readonly serverVersion?: string;
  readonly logger?: TransportLogger;
  /** Needed to dial https:// peer URLs (client certificate and trusted CA). */
  readonly tls?: PeerTlsOptions | null;
  readonly limits?: Partial<TransportLimits>;
  /** A peer could not be reached or refused us: call node.reportUnreachable(id). */
  readonly onUnreachable?: (id: NodeId) => void;
  /** A snapshot send finished: call node.reportSnapshot(id, ok). */
  readonly onSnapshotStatus?: (id: NodeId, ok: boolean) => void;
  /** A peer answered that it belongs to another cluster (null: it did not say which). */
  readonly onClusterMismatch?: (peer: NodeId, theirClusterId: bigint | null) => void;
  /** A peer answered that this member was removed from the cluster: the host should stop. */
  readonly onRemoved?: (byPeer: NodeId) => void;
  /** Opens the data of the snapshot a MsgSnap in send() refers to. Without it, a MsgSnap is
   * sent with no data beyond what its own `snapshot.data` carries. */
  readonly openSnapshotData?: (message: Message) => SnapshotData | Promise<SnapshotData>;
}

export interface ProbeResult {
  readonly memberId: NodeId;
  readonly clusterId: bigint;
  readonly serverVersion: string;
  readonly protocolVersion: number;
  readonly roundTripMs: number;
}

export interface TransportStats {
  readonly peers: ReadonlyMap<NodeId, PeerSenderStats>;
  /** Messages for a peer not in the table, or for this member itself. */
  readonly droppedUnroutable: number;
  readonly snapshotsSent: number;
  readonly snapshotsFailed: number;
}

/** Most bytes of a probe answer read. */
const MAX_PROBE_BYTES = 4096;
const LOG_INTERVAL_MS = 10_000;

/** Validates and normalises a peer URL to `scheme://host:port`; throws on anything else. */
export function normalisePeerUrl(text: string): string {
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`peer URL ${text}: scheme must be http or https`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '') {
    throw new Error(`peer URL ${text}: must be scheme://host:port with no path, query or credentials`);
  }
  return url.origin;
}

export class PeerTransport {
  readonly clusterId: bigint;
  readonly memberId: NodeId;
  readonly serverVersion: string;
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
  private readonly tls: PeerTlsOptions | null;
  private readonly opts: PeerTransportOptions;
  private readonly peers = new Map<NodeId, PeerSender>();
  private readonly snapshots = new Map<NodeId, AbortController>();
  /** One keep-alive connection per peer for calls (created on the first call, closed with the peer). */
  private readonly callClients = new Map<NodeId, { url: string; client: Client }>();
  private readonly context: SenderContext;
  private readonly rateLog = new RateLimitedLog(LOG_INTERVAL_MS);
  private counters = { droppedUnroutable: 0, snapshotsSent: 0, snapshotsFailed: 0 };
  private removedReported = false;
  private closed = false;

  constructor(opts: PeerTransportOptions) {
    if (opts.memberId === 0n || opts.clusterId === 0n) throw new RangeError('member ID and cluster ID must be non-zero');
    this.opts = opts;
    this.clusterId = opts.clusterId;
    this.memberId = opts.memberId;
    this.serverVersion = opts.serverVersion ?? 'unknown';
    this.limits = resolveLimits(opts.limits);
    this.logger = opts.logger ?? SILENT_LOGGER;
    this.tls = opts.tls ?? null;
    this.context = {
      memberId: this.memberId, limits: this.limits, logger: this.logger, tls: this.tls,
      baseHeaders: Object.freeze(this.identityHeaders()), nowMs: () => performance.now(),
      peerFailed: (peer, outcome) => this.peerFailed(peer, outcome),
    };
  }

  private identityHeaders(): Record<string, string> {
    return {
      [HEADER_CLUSTER_ID]: idText(this.clusterId),
      [HEADER_FROM]: idText(this.memberId),
      [HEADER_PROTOCOL]: String(PEER_PROTOCOL_VERSION),
      [HEADER_SERVER_VERSION]: this.serverVersion,
      [HEADER_PEER_URLS]: (this.opts.peerUrls ?? []).join(','),
    };
  }

  /** Adds a peer (or replaces its URLs). Throws on a bad URL or on this member's own ID. */
  addPeer(id: NodeId, peerUrls: readonly string[]): void {
    if (id === this.memberId) throw new RangeError(`cannot add this member (${idText(id)}) as its own peer`);
    if (id === 0n) throw new RangeError('peer ID must be non-zero');
    const urls = peerUrls.map(normalisePeerUrl);
    if (urls.length === 0) throw new RangeError(`peer ${idText(id)} needs at least one peer URL`);
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      existing.updateUrls(urls);
      return;
    }
    this.peers.set(id, new PeerSender(id, urls, this.context));
    this.logger.info({ peer: idText(id), urls }, 'added peer');
  }

  updatePeer(id: NodeId, peerUrls: readonly string[]): void {
    if (!this.peers.has(id)) throw new RangeError(`no peer ${idText(id)} to update`);
    this.addPeer(id, peerUrls);
  }

  /** Forgets a peer: its queue is dropped and its connection and snapshot upload closed. */
  removePeer(id: NodeId): void {
    this.dropCallClient(id);
    this.peers.get(id)?.close();
    this.peers.delete(id);
    this.snapshots.get(id)?.abort(new Error('peer removed'));
    this.logger.info({ peer: idText(id) }, 'removed peer');
  }

  hasPeer(id: NodeId): boolean {
    return this.peers.has(id);
  }

  peerIds(): NodeId[] {
    return [...this.peers.keys()];
  }

  /**
   * Sends the messages of one Ready: one batch per destination peer (more only past
   * maxBatchBytes), queued behind batches already in flight. MsgSnap goes to sendSnapshot.
   * Never blocks, never throws; what cannot be sent is dropped and counted.
   */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const touched = new Set<PeerSender>();
    for (const m of messages) {
      try {
        this.route(m, touched);
      } catch (e) {
        this.rateLog.maybe('encode', (suppressed) => this.logger.error(
          { peer: idText(m.to), type: MESSAGE_TYPE_NAMES[m.type], err: (e as Error).message, suppressed }, 'could not encode a raft message'));
      }
    }
    for (const sender of touched) sender.flush();
  }

  private route(m: Message, touched: Set<PeerSender>): void {
    if (m.type === MessageType.Snap) {
      const open = this.opts.openSnapshotData;
      this.sendSnapshot(m.to, m, open === undefined ? () => emptyData() : () => open(m));
      return;
    }
    const sender = this.peers.get(m.to);
    if (sender === undefined || m.to === this.memberId) {
      this.counters.droppedUnroutable++;
      this.rateLog.maybe(`unroutable-${m.to}`, (suppressed) => this.logger.warn(
        { peer: idText(m.to), type: MESSAGE_TYPE_NAMES[m.type], suppressed }, 'dropped a raft message for an unknown peer'));
      return;
    }
    sender.enqueue(encodeMessage(m));
    touched.add(sender);
  }

  /**
   * Streams a snapshot to `to` on its own connection; the outcome goes to onSnapshotStatus.
   * One upload per peer at a time: a MsgSnap for a peer that is already receiving one is
   * dropped (the upload under way reports for both, since Raft waits for one status).
   */
  sendSnapshot(to: NodeId, message: Message, openData: () => SnapshotData | Promise<SnapshotData>): void {
    const sender = this.peers.get(to);
    if (sender === undefined || this.closed) {
      this.counters.droppedUnroutable++;
      this.callback(() => this.opts.onSnapshotStatus?.(to, false));
      return;
    }
    if (this.snapshots.has(to)) {
      this.logger.debug({ peer: idText(to) }, 'snapshot already being sent to this peer: dropped the new MsgSnap');
      return;
    }
    const controller = new AbortController();
    this.snapshots.set(to, controller);
    const headers = { ...this.context.baseHeaders, [HEADER_TO]: idText(to), 'content-type': SNAPSHOT_CONTENT_TYPE };
    const index = message.snapshot?.metadata.index ?? 0;
    this.logger.info({ peer: idText(to), index, url: sender.currentUrl }, 'sending snapshot');
    uploadSnapshot({
      url: sender.currentUrl, tls: this.tls, limits: this.limits, headers, message, openData,
      signal: controller.signal, nowMs: this.context.nowMs,
    }).then((result) => {
      if (this.snapshots.get(to) === controller) this.snapshots.delete(to);
      const ok = result.outcome?.kind === 'ok';
      if (ok) this.counters.snapshotsSent++;
      else this.counters.snapshotsFailed++;
      const fields = { peer: idText(to), index, dataBytes: result.dataBytes, status: statusOf(result.outcome), why: result.error || undefined };
      if (ok) this.logger.info(fields, 'sent snapshot');
      else this.logger.warn(fields, 'snapshot send failed');
      if (!ok && result.outcome?.kind !== 'dropped') this.peerFailed(to, result.outcome);
      this.callback(() => this.opts.onSnapshotStatus?.(to, ok));
    });
  }

  /**
   * A small JSON request to a peer's host (PeerHandler.onCall), on a kept connection to its
   * current peer URL, answered within `timeoutMs`. Throws PeerCallError on a refusal or no answer.
   */
  async call(id: NodeId, name: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const sender = this.peers.get(id);
    if (sender === undefined || this.closed) throw new PeerCallError(0, `no peer ${idText(id)}`);
    const url = sender.currentUrl;
    let kept = this.callClients.get(id);
    if (kept === undefined || kept.url !== url) {
      this.dropCallClient(id);
      kept = { url, client: createPeerClient(url, this.tls, this.limits, { pipelining: 1, headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs }) };
      this.callClients.set(id, kept);
    }
    let res;
    try {
      res = await kept.client.request({
        path: ROUTE_CALL_PREFIX + name, method: 'POST', signal: AbortSignal.timeout(timeoutMs),
        headers: { ...this.context.baseHeaders, [HEADER_TO]: idText(id), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (e) {
      throw new PeerCallError(0, `call ${name} to ${idText(id)}: ${(e as Error).message}`);
    }
    const answer = await readCappedBytes(res.body, MAX_CALL_BYTES);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const outcome = classifyStatus(res.statusCode, res.headers);
      if (outcome.kind === 'failed' && (outcome.reason === 'clusterMismatch' || outcome.reason === 'removed')) this.peerFailed(id, outcome);
      throw new PeerCallError(res.statusCode, answer.toString('utf8').trim());
    }
    return JSON.parse(answer.toString('utf8')) as unknown;
  }

  private dropCallClient(id: NodeId): void {
    const kept = this.callClients.get(id);
    this.callClients.delete(id);
    kept?.client.destroy().catch(() => {});
  }

  /** Asks a peer for its identity and version over a fresh connection. */
  async probe(id: NodeId): Promise<ProbeResult> {
    const sender = this.peers.get(id);
    if (sender === undefined) throw new RangeError(`no peer ${idText(id)}`);
    const startMs = performance.now();
    const client = createPeerClient(sender.currentUrl, this.tls, this.limits, {
      pipelining: 1, headersTimeoutMs: this.limits.requestTimeoutMs, bodyTimeoutMs: this.limits.requestTimeoutMs,
    });
    try {
      const res = await client.request({ path: ROUTE_PROBE, method: 'GET', headers: this.context.baseHeaders });
      const body = await readCappedBytes(res.body, MAX_PROBE_BYTES);
      const outcome = classifyStatus(res.statusCode, res.headers);
      if (outcome.kind !== 'ok') throw new Error(`probe of ${idText(id)}: HTTP ${res.statusCode}: ${body.toString('utf8').trim()}`);
      return parseProbe(body, performance.now() - startMs);
    } finally {
      client.destroy().catch(() => {});
    }
  }

  stats(): TransportStats {
    const peers = new Map<NodeId, PeerSenderStats>();
    for (const [id, sender] of this.peers) peers.set(id, sender.stats());
    return { peers, ...this.counters };
  }

  /** Stops everything; further sends are ignored. */
  close(): void {
    this.closed = true;
    for (const sender of this.peers.values()) sender.close();
    for (const controller of this.snapshots.values()) controller.abort(new Error('transport closed'));
    for (const id of [...this.callClients.keys()]) this.dropCallClient(id);
    this.peers.clear();
  }

  /** One failure of a peer (a connection given up, a refusal): tell the host. */
  private peerFailed(peer: NodeId, outcome: Outcome | null): void {
    if (outcome?.kind === 'failed' && outcome.reason === 'clusterMismatch') {
      const theirs = outcome.theirClusterId;
      this.rateLog.maybe(`mismatch-${peer}`, (suppressed) => this.logger.error(
        { peer: idText(peer), theirClusterId: theirs === null ? null : idText(theirs), ourClusterId: idText(this.clusterId), suppressed },
        'peer belongs to another cluster (cluster ID mismatch)'));
      this.callback(() => this.opts.onClusterMismatch?.(peer, theirs));
    }
    if (outcome?.kind === 'failed' && outcome.reason === 'removed' && !this.removedReported) {
      this.removedReported = true;
      this.logger.error({ peer: idText(peer) }, 'this member has been removed from the cluster');
      this.callback(() => this.opts.onRemoved?.(peer));
    }
    this.callback(() => this.opts.onUnreachable?.(peer));
  }

  /** Runs a host callback on a later turn (not after close()); its errors are logged, never
   * thrown at us. */
  private callback(fn: () => void): void {
    queueMicrotask(() => {
      if (this.closed) return;
      try {
        fn();
      } catch (e) {
        this.logger.error({ err: (e as Error)?.message ?? String(e) }, 'transport callback threw');
      }
    });
  }
}

function statusOf(outcome: Outcome | null): number | undefined {
  return outcome !== null && outcome.kind !== 'ok' ? outcome.status : undefined;
}

async function* emptyData(): AsyncGenerator<Uint8Array> {}

function parseProbe(body: Buffer, roundTripMs: number): ProbeResult {
  const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const memberId = parseIdText(json.memberId as string);
  const clusterId = parseIdText(json.clusterId as string);
  if (memberId === null || clusterId === null) throw new Error('probe answer without member or cluster ID');
  return {
    memberId, clusterId, roundTripMs,
    serverVersion: String(json.serverVersion ?? ''), protocolVersion: Number(json.protocolVersion ?? 0),
  };
}
