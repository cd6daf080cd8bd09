#!/usr/bin/env node
/**
 * `cairn`: one member. Parses settings (flags, CAIRN_ and ETCD_ env vars, --config-file), opens the
 * member, serves its HTTP face on every --listen-client-urls address, and shuts down cleanly
 * on SIGTERM/SIGINT (in-flight requests finish, the store closes). Thin by design.
 */
import { readFileSync } from 'node:fs';
import { createTokenIssuer, type TokenIssuer } from '../server/auth-service.js';
import { pino, type Logger } from 'pino';
import { buildApp } from '../api/app.js';
import { DEFAULT_CLIENT_CONNECTION_LIMITS, listenClients } from '../api/listeners.js';
import { PACKAGE_VERSION } from '../api/version.js';
import { ConfigError, loadServerConfig, urlText, type Config } from '../config/index.js';
import { CAIRN_VERSION, CLUSTER_VERSION, CairnServer } from '../server/cairn-server.js';
import { DataDirError } from '../server/identity.js';
import { notifySystemdReady } from '../server/systemd-notify.js';
import { clientCertificateCheck, httpsServerOptions, loadTlsMaterial, TlsSetupError, type TlsMaterial } from '../server/tls-material.js';

async function main(): Promise<number> {
  let loaded;
  try {
    loaded = loadServerConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`cairn: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text);
    return 0;
  }
  if (loaded.kind === 'version') {
    process.stdout.write(`cairn Version: ${PACKAGE_VERSION}\netcd API Version: ${CAIRN_VERSION}\netcd Cluster Version: ${CLUSTER_VERSION}\nNode Version: ${process.version}\n`);
    return 0;
  }
  const config = loaded.config;
  const logger = pino({ level: pinoLevel(config.logLevel), base: { name: config.name } });
  for (const w of loaded.warnings) logger.warn(w);
  return serve(config, logger);
}

/** --auth-token and --auth-token-ttl as the member's token issuer (JWT keys read from their files). */
function tokenIssuer(config: Config): TokenIssuer {
  const t = config.authToken;
  if (t.kind === 'simple') return createTokenIssuer({ kind: 'simple', ttlMs: config.authTokenTtlSeconds * 1000 });
  const read = (f: string | null) => (f === null ? null : readFileSync(f));
  return createTokenIssuer({ kind: 'jwt', algorithm: t.signMethod, privateKey: read(t.privKeyFile), publicKey: read(t.pubKeyFile), ttlMs: t.ttlMs });
}

function pinoLevel(level: string): string {
  return level === 'panic' ? 'fatal' : level;
}

let fatalReason: string | null = null;

/** How long a stopping member keeps answering (with `Connection: close`) before it closes. */
const DRAIN_GRACE_MS = 300;

/** Both sides' TLS material (files read, auto-TLS certificates made), or a message why not. */
async function loadTls(config: Config, logger: Logger): Promise<{ client: TlsMaterial | null; peer: TlsMaterial | null }> {
  const hostsOf = (urls: readonly URL[]) => urls.map((u) => u.hostname);
  const client = await loadTlsMaterial('client', config.clientTls, config, config.dataDir,
    hostsOf([...config.listenClientUrls, ...config.advertiseClientUrls]), logger);
  const peer = await loadTlsMaterial('peer', config.peerTls, config, config.dataDir,
    hostsOf([...config.listenPeerUrls, ...config.initialAdvertisePeerUrls]), logger);
  return { client, peer };
}

async function serve(config: Config, logger: Logger): Promise<number> {
  let issuer: TokenIssuer;
  try {
    issuer = tokenIssuer(config);
  } catch (e) {
    // An unreadable key file or a key of the wrong kind: say which, and stop before serving.
    logger.fatal(`--auth-token: ${(e as Error).message}`);
    return 1;
  }
  let server: CairnServer;
  let tls;
  try {
    tls = await loadTls(config, logger);
  } catch (e) {
    if (e instanceof TlsSetupError) {
      logger.fatal(e.message);
      process.stderr.write(`cairn: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    server = await CairnServer.start({
      name: config.name,
      dataDir: config.dataDir,
      initialClusterToken: config.initialClusterToken,
      initialAdvertisePeerUrls: config.initialAdvertisePeerUrls.map(urlText),
      advertiseClientUrls: config.advertiseClientUrls.map(urlText),
      maxTxnOps: config.maxTxnOps,
      maxRequestBytes: config.maxRequestBytes,
      quotaBackendBytes: config.quotaBackendBytes,
      logger,
      peerTls: tls.peer,
      leaseWatch: { electionTimeoutMs: config.electionTimeoutMs, heartbeatIntervalMs: config.heartbeatIntervalMs },
      auth: { issuer },
      cluster: {
        initialCluster: config.initialCluster.map((m) => ({ name: m.name, peerUrls: m.peerUrls.map(urlText) })),
        initialClusterState: config.initialClusterState,
        listenPeerUrls: config.listenPeerUrls.map((u) => urlText(u).replace('//localhost:', '//127.0.0.1:')),
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        electionTimeoutMs: config.electionTimeoutMs,
        snapshotCount: config.snapshotCount,
        snapshotCatchUpEntries: config.snapshotCatchUpEntries,
      },
      onFatal: (reason) => {
        fatalReason = reason;
        process.kill(process.pid, 'SIGTERM');
      },
    });
  } catch (e) {
    if (e instanceof DataDirError) {
      logger.fatal(e.message);
      return 1;
    }
    throw e;
  }
  const app = await buildApp(server, { maxRequestBytes: config.maxRequestBytes, logger });
  const listener = await listenClients(app, config.listenClientUrls, tls.client === null ? null : httpsServerOptions(tls.client), {
    ...DEFAULT_CLIENT_CONNECTION_LIMITS, maxConcurrentStreams: config.maxConcurrentStreams,
  }, tls.client === null ? null : clientCertificateCheck(tls.client));
  logger.info({ listenClientUrls: config.listenClientUrls.map(String) }, 'serving client requests');
  notifySystemdReady(logger);
  await waitForSignal(logger);
  app.beginDrain();
  await new Promise((r) => setTimeout(r, DRAIN_GRACE_MS));
  // The app first: it ends the open watch and keep-alive streams, so the listeners can close.
  await app.close();
  await listener.close();
  await server.close();
  if (fatalReason) {
    process.stderr.write(`cairn: ${fatalReason}\n`);
    return 1;
  }
  return 0;
}

function waitForSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`cairn: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
