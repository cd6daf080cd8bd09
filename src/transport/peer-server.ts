/**
 * The peer listener: one HTTP(S) server per --listen-peer-urls address, serving
 *   POST /raft/messages  a batch → handler.onMessages (in arrival order per connection)
 *   POST /raft/snapshot  a stream → handler.onSnapshot; answered once the host stored it
 *   GET  /raft/probe     liveness, identity and version (JSON)
 *   GET  /members        the member list for a joining member (JSON)
 *   POST /call/<name>    a small JSON request → handler.onCall (JSON answer; CallError → its status)
 *
 * Owns: checking who is talking (cluster ID 412, target member 421, removed member 410,
 * certificate CN/hostname 403, protocol version 400) and bounding what they send (413, 400,
 * 503). Must never: crash on any input, read a body without a bound, or step a batch that
 * did not decode whole.
 *
 * Why plain node:http and not Fastify: the bodies are binary and the snapshot body is a
 * stream the host consumes directly, which Fastify would need custom content-type parsers to
 * leave alone; there are four fixed routes and no JSON schemas to check; and the message
 * route is the hottest path in the cluster, where Fastify's per-request hooks and reply
 * machinery are pure overhead. Fastify remains the client-facing server in src/api.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import type { Message, NodeId } from '../raft/index.js';
import type { TransportLimits } from './limits.js';
import { RateLimitedLog, type TransportLogger } from './logger.js';
import { membersToJson, type PeerMember } from './members.js';
import { readIncomingSnapshot } from './snapshot-receiver.js';
import { peerCertificateProblem, serverTlsOptions, type PeerTlsOptions } from './tls.js';
import {
  decodeBatch, HEADER_CLUSTER_ID, HEADER_FROM, HEADER_MEMBER_ID, HEADER_PEER_URLS, HEADER_PROTOCOL,
  HEADER_SERVER_VERSION, HEADER_TO, idText, MAX_CALL_BYTES, parseIdText, PEER_PROTOCOL_VERSION, ROUTE_CALL_PREFIX, ROUTE_MEMBERS,
  ROUTE_MESSAGES, ROUTE_PROBE, ROUTE_SNAPSHOT, STATUS, WireError,
} from './wire.js';

/** What the host does with what peers send. */
export interface PeerHandler {
  /** A decoded batch, in the order sent; step each into the RawNode. May return a promise
   * (the answer, and so the sender's pipeline, waits for it: natural backpressure). */
  onMessages(messages: Message[], from: NodeId): void | Promise<void>;
  /** A MsgSnap and its data. Install only after `data` ended cleanly (it errors instead if
   * damaged); resolve once stored, then step the message. */
  onSnapshot(message: Message, data: Readable, from: NodeId): Promise<void>;
  /** The member list served on GET /members. */
  members(): readonly PeerMember[];
  /** False for a sender that must not talk to this cluster any more (removed): answered 410. */
  isKnownMember?(id: NodeId): boolean;
  /** A peer's call (PeerTransport.call): resolve with the JSON answer, or throw a CallError. */
  onCall?(name: string, body: unknown, from: NodeId): Promise<unknown>;
}

/** A call's refusal, with the status the caller sees (its message is the answer's text). */
export class CallError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Who this member is, as the server needs it (PeerTransport provides it). */
export interface PeerServerIdentity {
  readonly clusterId: bigint;
  readonly memberId: NodeId;
  readonly serverVersion: string;
  readonly limits: TransportLimits;
  readonly logger: TransportLogger;
}

export interface PeerServerOptions {
  readonly transport: PeerServerIdentity;
  readonly handler: PeerHandler;
  readonly listenUrls: readonly (string | URL)[];
  readonly tls?: PeerTlsOptions | null;
}

export interface PeerServerStats {
  receivedMessages: number;
  receivedBatches: number;
  receivedSnapshots: number;
  refusedRequests: number;
}

export interface PeerServer {
  /** The URLs actually listened on (port 0 replaced by the port the OS chose). */
  readonly urls: readonly string[];
  stats(): PeerServerStats;
  close(): Promise<void>;
}

/** A request head is tiny; refusing slow heads early frees the connection. */
const HEADERS_TIMEOUT_MS = 10_000;
const LOG_INTERVAL_MS = 10_000;

class Refusal extends Error {
  constructor(readonly status: number, message: string, readonly closeConnection = false) {
    super(message);
  }
}

interface Sender {
  readonly from: NodeId;
}

class PeerRequestHandler {
  readonly counters: PeerServerStats = { receivedMessages: 0, receivedBatches: 0, receivedSnapshots: 0, refusedRequests: 0 };
  /** Per connection, the delivery of the previous batch: keeps pipelined batches in order. */
  private readonly deliveries = new WeakMap<Socket, Promise<void>>();
  private incomingSnapshots = 0;
  private readonly rateLog = new RateLimitedLog(LOG_INTERVAL_MS);

  constructor(private readonly id: PeerServerIdentity, private readonly handler: PeerHandler, private readonly tls: PeerTlsOptions | null) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader(HEADER_CLUSTER_ID, idText(this.id.clusterId));
    res.setHeader(HEADER_MEMBER_ID, idText(this.id.memberId));
    res.setHeader(HEADER_SERVER_VERSION, this.id.serverVersion);
    this.route(req, res).catch((e: unknown) => this.fail(req, res, e));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    this.checkCertificate(req);
    if (req.method === 'POST' && path === ROUTE_MESSAGES) return this.messages(req, res, this.checkSender(req));
    if (req.method === 'POST' && path === ROUTE_SNAPSHOT) return this.snapshot(req, res, this.checkSender(req));
    if (req.method === 'GET' && path === ROUTE_PROBE) return this.probe(req, res);
    if (req.method === 'GET' && path === ROUTE_MEMBERS) return this.members(res);
    if (req.method === 'POST' && path.startsWith(ROUTE_CALL_PREFIX)) return this.call(req, res, this.checkSender(req), path.slice(ROUTE_CALL_PREFIX.length));
    throw new Refusal(404, `no peer route ${req.method ?? ''} ${path}`);
  }

  private checkCertificate(req: IncomingMessage): void {
    if (this.tls === null || !('encrypted' in req.socket)) return;
    const problem = peerCertificateProblem(req.socket as TLSSocket, this.tls);
    if (problem !== null) throw new Refusal(STATUS.forbidden, `peer certificate refused: ${problem}`, true);
  }

  /** The identity checks every raft request passes before its body is read. */
  private checkSender(req: IncomingMessage): Sender {
    const protocol = req.headers[HEADER_PROTOCOL];
    if (protocol !== String(PEER_PROTOCOL_VERSION)) {
      throw new Refusal(STATUS.malformed, `unsupported peer protocol version ${String(protocol)} (this member speaks ${PEER_PROTOCOL_VERSION})`, true);
    }
    this.checkCluster(req, true);
    const from = parseIdText(req.headers[HEADER_FROM]);
    if (from === null || from === 0n) throw new Refusal(STATUS.malformed, `missing or bad ${HEADER_FROM} header`, true);
    const to = parseIdText(req.headers[HEADER_TO]);
    if (to !== this.id.memberId) {
      throw new Refusal(STATUS.misdirected, `member ID mismatch (request is for ${String(req.headers[HEADER_TO])}, this member is ${idText(this.id.memberId)})`, true);
    }
    if (this.handler.isKnownMember !== undefined && !this.handler.isKnownMember(from)) {
      throw new Refusal(STATUS.removed, `member removed: ${idText(from)} is not a member of cluster ${idText(this.id.clusterId)}`, true);
    }
    return { from };
  }

  private checkCluster(req: IncomingMessage, required: boolean): void {
    const header = req.headers[HEADER_CLUSTER_ID];
    if (header === undefined && !required) return;
    const theirs = parseIdText(header);
    if (theirs !== this.id.clusterId) {
      throw new Refusal(STATUS.clusterMismatch, `cluster ID mismatch (got ${String(header)} want ${idText(this.id.clusterId)})`, true);
    }
  }

  private async messages(req: IncomingMessage, res: ServerResponse, sender: Sender): Promise<void> {
    const body = readBoundedBody(req, this.id.limits.maxBatchBytes);
    body.catch(() => {}); // awaited below, maybe after it fails: not an unhandled rejection
    const previous = this.deliveries.get(req.socket) ?? Promise.resolve();
    const delivered = previous.then(async () => {
      const messages = decodeBatch(await body, sender.from, this.id.memberId);
      await this.handler.onMessages(messages, sender.from);
      this.counters.receivedMessages += messages.length;
      this.counters.receivedBatches++;
    });
    this.deliveries.set(req.socket, delivered.catch(() => {}));
    await delivered;
    res.writeHead(STATUS.ok).end();
  }

  private async snapshot(req: IncomingMessage, res: ServerResponse, sender: Sender): Promise<void> {
    if (this.incomingSnapshots >= this.id.limits.maxConcurrentIncomingSnapshots) {
      throw new Refusal(STATUS.busy, `already receiving ${this.incomingSnapshots} snapshots`, true);
    }
    this.incomingSnapshots++;
    try {
      const incoming = await readIncomingSnapshot(req, sender.from, this.id.memberId, this.id.limits);
      let streamError: Error | null = null;
      incoming.data.on('error', (e: Error) => { streamError = e; });
      // A sender that gives up must wake a host waiting on data it has not read yet.
      req.once('close', () => {
        if (!req.complete) incoming.data.destroy(new WireError('the sender closed the snapshot stream before its end'));
      });
      await this.handler.onSnapshot(incoming.message, incoming.data, sender.from).catch((e: unknown) => {
        throw streamError ?? e;
      });
      if (streamError !== null) throw streamError;
      this.counters.receivedSnapshots++;
      // The host may stop reading early (it already has this snapshot): close, do not drain.
      if (!incoming.data.readableEnded) res.setHeader('connection', 'close');
      incoming.data.destroy();
      res.writeHead(STATUS.ok).end();
    } finally {
      this.incomingSnapshots--;
    }
  }

  private probe(req: IncomingMessage, res: ServerResponse): void {
    this.checkCluster(req, false);
    sendJson(res, {
      memberId: idText(this.id.memberId), clusterId: idText(this.id.clusterId),
      serverVersion: this.id.serverVersion, protocolVersion: PEER_PROTOCOL_VERSION,
    });
  }

  private async call(req: IncomingMessage, res: ServerResponse, sender: Sender, name: string): Promise<void> {
    const onCall = this.handler.onCall;
    if (onCall === undefined) throw new Refusal(404, `no peer call ${name}`);
    const raw = await readBoundedBody(req, MAX_CALL_BYTES);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new Refusal(STATUS.malformed, `call ${name}: the body is not JSON`);
    }
    let answer: unknown;
    try {
      answer = await onCall.call(this.handler, name, body, sender.from);
    } catch (e) {
      if (e instanceof CallError) throw new Refusal(e.status, e.message);
      throw e;
    }
    sendJson(res, answer ?? null);
  }

  private members(res: ServerResponse): void {
    sendJson(res, membersToJson(this.handler.members()));
  }

  /** Turns an error into an answer; never throws. */
  private fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    this.counters.refusedRequests++;
    const refusal = e instanceof Refusal ? e
      : e instanceof WireError ? new Refusal(STATUS.malformed, `malformed request: ${e.message}`, true)
      : new Refusal(500, `internal error: ${(e as Error)?.message ?? String(e)}`, true);
    const peer = String(req.headers[HEADER_FROM] ?? req.socket.remoteAddress ?? '?');
    this.rateLog.maybe(`${peer}-${refusal.status}`, (suppressed) => this.id.logger.warn(
      { peer, peerUrls: req.headers[HEADER_PEER_URLS], path: req.url, status: refusal.status, why: refusal.message, suppressed },
      'refused a peer request'));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Unread body bytes would be parsed as the next request: close instead of draining.
    if (refusal.closeConnection || !req.complete) res.setHeader('connection', 'close');
    res.writeHead(refusal.status, { 'content-type': 'text/plain; charset=utf-8' }).end(refusal.message + '\n');
  }
}

function sendJson(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/** The whole body, or a 413 Refusal as soon as it passes `maxBytes` (even before reading
 * when Content-Length says so). */
async function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new Refusal(STATUS.tooLarge, `batch of ${declared} bytes is larger than maxBatchBytes (${maxBytes})`, true);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new Refusal(STATUS.tooLarge, `batch larger than maxBatchBytes (${maxBytes})`, true);
    parts.push(chunk);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
}

function listenOn(server: Server, url: URL): Promise<string> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const address = server.address();
      const actualPort = typeof address === 'object' && address !== null ? address.port : port;
      resolve(`${url.protocol}//${url.hostname}:${actualPort}`);
    });
  });
}

function buildServer(url: URL, tls: PeerTlsOptions | null, limits: TransportLimits, onRequest: (req: IncomingMessage, res: ServerResponse) => void): Server {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`peer listen URL ${url.href}: scheme must be http or https`);
  if (url.protocol === 'https:' && tls === null) throw new Error(`peer listen URL ${url.href} is https but no peer TLS certificate was given`);
  const server = url.protocol === 'https:'
    ? createHttpsServer(serverTlsOptions(tls as PeerTlsOptions), onRequest)
    : createHttpServer(onRequest);
  // No whole-request deadline: a snapshot upload may take long; idle sockets are what we bound.
  server.requestTimeout = 0;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = limits.serverIdleTimeoutMs;
  server.timeout = limits.serverIdleTimeoutMs;
  return server;
}

/** Starts listening on every URL; if one fails, closes the others and throws. */
export async function createPeerServer(opts: PeerServerOptions): Promise<PeerServer> {
  const tls = opts.tls ?? null;
  const requests = new PeerRequestHandler(opts.transport, opts.handler, tls);
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => requests.handle(req, res);
  const servers: Server[] = [];
  const urls: string[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    })));
  };
  try {
    for (const raw of opts.listenUrls) {
      const url = typeof raw === 'string' ? new URL(raw) : raw;
      const server = buildServer(url, tls, opts.transport.limits, onRequest);
      urls.push(await listenOn(server, url));
      servers.push(server);
    }
  } catch (e) {
    await close();
    throw e;
  }
  opts.transport.logger.info({ urls }, 'listening for peers');
  return { urls, stats: () => ({ ...requests.counters }), close };
}
