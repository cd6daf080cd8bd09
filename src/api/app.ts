/**
 * Builds the HTTP face of one member: a Fastify instance with every API group registered as a
 * plugin, and no port (`listen` is the caller's). Two doors, one house: etcd's v3 JSON gateway
 * under /v3 (and /v3beta) and the plain REST face under /kv, both calling the same server.
 * The OpenAPI document is generated from the route schemas and served at /openapi.json, with
 * an interactive page at /docs.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { CairnServer } from '../server/cairn-server.js';
import { sendGatewayError } from './errors.js';
import { parseGatewayJson } from './gateway/json-body.js';
import { GATEWAY_SCHEMAS } from './gateway/schemas.js';
import { compileGatewayValidator, createGatewayAjv } from './gateway/validation.js';
import { healthRoutes } from './routes/health.js';
import { kvGatewayRoutes } from './routes/kv.js';
import { clusterGatewayRoutes } from './routes/cluster.js';
import { maintenanceGatewayRoutes } from './routes/maintenance.js';
import { leaseGatewayRoutes } from './routes/lease.js';
import { restLeaseRoutes } from './routes/rest-lease.js';
import { DEFAULT_SSE_LIMITS, restWatchRoutes, type SseLimits } from './routes/rest-watch.js';
import { DEFAULT_WATCH_STREAM_LIMITS, watchGatewayRoutes, type WatchStreamLimits } from './routes/watch.js';
import { restKvRoutes } from './routes/rest-kv.js';
import { lockGatewayRoutes } from './routes/lock.js';
import { electionGatewayRoutes } from './routes/election.js';
import { restLockRoutes } from './routes/rest-lock.js';
import { authGatewayRoutes } from './routes/auth.js';
import { resolveCaller } from './caller.js';
import { PACKAGE_VERSION } from './version.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Start answering with `Connection: close` ahead of a shutdown. */
    beginDrain(): void;
  }
}

export interface AppOptions {
  maxRequestBytes: number;
  logger?: Logger;
  /** Log one line per request (costs about a third of throughput). */
  logRequests?: boolean;
  /** Bounds of watch streams (gateway and SSE). */
  watchStreams?: Partial<WatchStreamLimits>;
  sse?: Partial<SseLimits>;
}

/** Base64 makes a gateway body 4/3 of the request; leave room for the JSON around it. */
function gatewayBodyLimitBytes(maxRequestBytes: number): number {
  return Math.ceil((maxRequestBytes * 4) / 3) + 64 * 1024;
}

export async function buildApp(server: CairnServer, opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: !opts.logRequests }),
    rewriteUrl: keepRawKeyUrl,
    bodyLimit: gatewayBodyLimitBytes(opts.maxRequestBytes),
    return503OnClosing: true,
    forceCloseConnections: false,
  }) as unknown as FastifyInstance;

  for (const s of GATEWAY_SCHEMAS) app.addSchema(s);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Cairn',
        version: PACKAGE_VERSION,
        description: "Cairn's HTTP API: etcd's v3 JSON gateway under /v3 (base64 keys and values, int64 as strings) and a plain REST face under /kv.",
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string) ?? `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Graceful stop: while draining, every answer says `Connection: close`, so clients move to a
  // new connection (or member) before the listener goes away, instead of racing an idle close.
  let draining = false;
  app.decorate('beginDrain', () => { draining = true; });
  app.addHook('onSend', async (_req, reply) => {
    if (draining) reply.header('connection', 'close');
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-allow-headers', 'accept, content-type, authorization, if-match, if-none-match, last-event-id');
    reply.header('access-control-allow-methods', 'POST, GET, OPTIONS, PUT, DELETE');
    reply.header('access-control-expose-headers', 'etag, x-cairn-revision, x-cairn-create-revision, x-cairn-mod-revision, x-cairn-version, x-cairn-lease');
  });
  app.options('*', { schema: { hide: true } }, async (_req, reply) => reply.code(204).send());
  // Every API call resolves its token before its handler, as etcd does: a bad token is refused
  // even where no permission is needed (lease grant) and even while auth is off.
  // Without an Authorization header nothing waits: the caller is resolved synchronously later.
  app.addHook('preHandler', (req, _reply, done) => {
    if (req.headers.authorization === undefined || !isApiPath(req.url)) {
      done();
      return;
    }
    resolveCaller(server, req).then(() => done(), (e: Error) => done(e));
  });

  // Watch and keep-alive streams stay open: end them when the app closes.
  const streams = new Set<{ end(): void }>();
  app.addHook('preClose', async () => { for (const s of [...streams]) s.end(); });
  for (const prefix of ['/v3', '/v3beta']) {
    await app.register(gatewayPlugin, { server, prefix, streams, app: opts });
  }
  await app.register(restKvRoutes, { server });
  await app.register(restWatchRoutes, { server, streams, limits: { ...DEFAULT_SSE_LIMITS, ...opts.sse } });
  await app.register(restLeaseRoutes, { server });
  await app.register(restLockRoutes, { server, streams, limits: { ...DEFAULT_SSE_LIMITS, ...opts.sse } });
  await app.register(healthRoutes, { server });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  installNotFound(app);
  return app;
}

async function gatewayPlugin(
  app: FastifyInstance, opts: { server: CairnServer; prefix: string; streams: Set<{ end(): void }>; app: AppOptions },
): Promise<void> {
  const ajv = createGatewayAjv();
  app.setValidatorCompiler(({ schema }) => compileGatewayValidator(ajv, schema));
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseGatewayJson(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.setErrorHandler((err, req, reply) => sendGatewayError(req, reply, err));
  // An empty body arrives without a parser run: treat it as {}.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined || req.body === null) (req as { body: unknown }).body = {};
  });
  await app.register(kvGatewayRoutes, { server: opts.server });
  await app.register(clusterGatewayRoutes, { server: opts.server });
  const { server, streams, app: o } = opts;
  await app.register(maintenanceGatewayRoutes, { server, streams });
  await app.register(leaseGatewayRoutes, { server, streams, maxStreamValueBytes: gatewayBodyLimitBytes(o.maxRequestBytes) });
  const limits = { ...DEFAULT_WATCH_STREAM_LIMITS, maxRequestBytes: o.maxRequestBytes, ...o.watchStreams };
  await app.register(watchGatewayRoutes, { server, streams, limits });
  await app.register(lockGatewayRoutes, { server });
  await app.register(electionGatewayRoutes, { server, streams });
  await app.register(authGatewayRoutes, { server });
}

const API_PREFIXES = ['/v3/', '/v3beta/', '/kv/', '/kv?', '/watch/', '/watch?', '/lease', '/lock', '/election'];

function isApiPath(url: string): boolean {
  return API_PREFIXES.some((p) => url.startsWith(p)) || url === '/kv' || url === '/watch';
}

/**
 * Keys are bytes, so a REST path may hold percent escapes that are not UTF-8 (`%ff`), which the
 * router refuses. Route on an escaped copy and keep the original for the handler to decode.
 */
function keepRawKeyUrl(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if (!(url.startsWith('/kv/') || url.startsWith('/watch/')) || !url.includes('%')) return url;
  (req as IncomingMessage & { cairnRawUrl?: string }).cairnRawUrl = url;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.replace(/%/g, '%25') + (q < 0 ? '' : url.slice(q));
}

/** etcd answers unknown paths 404 and known paths with the wrong method 405, in plain text. */
function installNotFound(app: FastifyInstance): void {
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?', 1)[0];
    const methods = ['GET', 'POST', 'PUT', 'DELETE'].filter((m) => m !== req.method && app.hasRoute({ method: m as 'GET', url: path }));
    if (methods.length > 0) {
      return reply.code(405).header('allow', methods.join(', ')).type('text/plain; charset=utf-8').send('Method Not Allowed\n');
    }
    return reply.code(404).type('text/plain; charset=utf-8').send('Not Found\n');
  });
}
