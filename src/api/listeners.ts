/**
 * The client listeners of one member: one node:http or node:https server per
 * --listen-client-urls address, each handing its requests to the Fastify app (`app.routing`),
 * with the bounds that keep a hostile or broken client from tying up the member.
 *
 * Owns: TLS on the client port (with --client-cert-auth a client without a certificate signed
 * by --trusted-ca-file is refused in the handshake, before any HTTP), the per-connection
 * bounds below, and closing the listeners. Must never: route or answer API requests itself
 * (beyond the one refusal of a connection over its stream limit), or read a body.
 *
 * Why raw servers and not `app.listen`: one member may listen on http and https URLs at once,
 * and the bounds are set on the node server, which Fastify would create once for one scheme.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { CairnError } from '../errors/errors.js';
import { gatewayErrorBody } from './errors.js';

export interface ClientConnectionLimits {
  /** A request head must arrive whole within this (slowloris: a trickled head is cut). */
  readonly headersTimeoutMs: number;
  /** A unary request's body must arrive whole within this; the streaming routes (watch,
   * lease keep-alive), whose bodies stay open by design, are exempt. */
  readonly bodyTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Requests in flight at once on one connection (pipelined HTTP/1.1 requests, open
   * streams): etcd's --max-concurrent-streams. Past it the request is answered 429 with
   * `etcdserver: too many requests` and the connection is closed. */
  readonly maxConcurrentStreams: number;
}

export const DEFAULT_CLIENT_CONNECTION_LIMITS: ClientConnectionLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  // Fastify's default (what the member used before): longer than clients' idle timeouts, so
  // the client, not the member, closes an idle connection and no request races that close.
  keepAliveTimeoutMs: 72_000,
  maxConcurrentStreams: 128,
});

/** How often node checks the header deadline (its default, 30 s, would let a slow head live
 * three times its limit). */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

/** After close() starts, connections still busy (a stream the app did not end) get this long. */
const CLOSE_GRACE_MS = 2_000;

/** Routes whose request body is a long-lived stream. */
const STREAMING_PATH = /^\/v3(beta)?\/(watch|lease\/keepalive)\/?(\?|$)/;

export interface ClientListener {
  /** The URLs actually listened on (port 0 replaced by the chosen port). */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

export function bindHost(url: URL): string {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' ? '127.0.0.1' : host;
}

function defaultPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

class ConnectionGuard {
  /** The responses not yet closed on each connection, in arrival order. */
  private readonly open = new WeakMap<Socket, Set<ServerResponse>>();

  constructor(private readonly limits: ClientConnectionLimits) {}

  /** False when the request was refused here (already answered). */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const pending = this.pendingOn(req.socket);
    pending.add(res);
    res.once('close', () => pending.delete(res));
    if (pending.size > this.limits.maxConcurrentStreams) {
      const err = new CairnError('TooManyRequests');
      res.writeHead(err.httpStatus, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify(gatewayErrorBody(err.grpcCode, err.message)));
      return false;
    }
    if (!STREAMING_PATH.test(req.url ?? '/')) this.bodyDeadline(req);
    return true;
  }

  /**
   * Node emits 'close' only on the response that holds the socket; pipelined responses queued
   * behind it never hear that the client left, and a watch stream among them would live on.
   * When the connection closes, every response still open on it is closed as well.
   */
  private pendingOn(socket: Socket): Set<ServerResponse> {
    let pending = this.open.get(socket);
    if (pending === undefined) {
      const set = new Set<ServerResponse>();
      pending = set;
      this.open.set(socket, set);
      socket.once('close', () => {
        for (const res of [...set]) res.emit('close');
        set.clear();
      });
    }
    return pending;
  }

  private bodyDeadline(req: IncomingMessage): void {
    if (req.complete) return;
    const timer = setTimeout(() => {
      if (!req.complete) req.socket.destroy();
    }, this.limits.bodyTimeoutMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    req.once('end', clear);
    req.once('close', clear);
  }
}

/** A rule on the client's certificate beyond the CA (--client-cert-allowed-hostname): why it
 * is refused, or null. A refused client's connection is closed before any request is read. */
export type CertificateCheck = (socket: TLSSocket) => string | null;

function buildServer(
  url: URL, tls: HttpsServerOptions | null, check: CertificateCheck | null, limits: ClientConnectionLimits,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const base = { connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS, headersTimeout: limits.headersTimeoutMs, requestTimeout: 0 };
  let server: Server;
  if (url.protocol === 'https:') {
    if (tls === null) throw new Error(`client URL ${url.href} is https but no TLS certificate was given`);
    server = createHttpsServer({ ...tls, ...base }, onRequest);
    if (check !== null) {
      server.on('secureConnection', (socket: TLSSocket) => {
        if (check(socket) !== null) socket.destroy();
      });
    }
  } else {
    server = createHttpServer(base, onRequest);
  }
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  return server;
}

function listenOn(server: Server, url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: bindHost(url), port: defaultPort(url) }, () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : defaultPort(url);
      resolve(`${url.protocol}//${url.hostname}:${port}`);
    });
  });
}

/**
 * Serves `app` on every URL (the app must be ready); if one cannot listen, closes the others
 * and throws. `tls` is needed for https URLs.
 */
export async function listenClients(
  app: FastifyInstance, listenUrls: readonly URL[], tls: HttpsServerOptions | null,
  limits: ClientConnectionLimits = DEFAULT_CLIENT_CONNECTION_LIMITS, check: CertificateCheck | null = null,
): Promise<ClientListener> {
  await app.ready();
  const guard = new ConnectionGuard(limits);
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (guard.admit(req, res)) app.routing(req, res);
  };
  const servers: Server[] = [];
  const urls: string[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
      const force = setTimeout(() => s.closeAllConnections(), CLOSE_GRACE_MS);
      s.close(() => {
        clearTimeout(force);
        resolve();
      });
      s.closeIdleConnections();
    })));
  };
  try {
    for (const url of listenUrls) {
      const server = buildServer(url, tls, check, limits, onRequest);
      servers.push(server);
      urls.push(await listenOn(server, url));
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { urls, close };
}
