/**
 * An in-process cairn member listening on 127.0.0.1 on a free port, with the lease and watch
 * knobs tests need (short election timeout so the minimum TTL is 1 s, short progress interval,
 * small stream buffers). `reopen()` closes it and starts it again on the same data dir (a
 * restart with live leases).
 *
 * Owns its member, app and temp dir. Must never listen on a fixed port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/api/app.js';
import { CairnServer } from '../../src/server/cairn-server.js';
import type { LeaseWatchOptions } from '../../src/server/lease-watch-setup.js';

export interface LocalCairnOptions {
  leaseWatch?: LeaseWatchOptions;
  sse?: AppOptions['sse'];
  watchStreams?: AppOptions['watchStreams'];
  maxRequestBytes?: number;
}

export interface LocalCairn {
  url: string;
  server: CairnServer;
  app: FastifyInstance;
  dir: string;
  /** Stop (app, then member) and start again on the same data dir and options. */
  reopen(): Promise<LocalCairn>;
  close(opts?: { keepDir?: boolean }): Promise<void>;
}

export async function startLocalCairn(opts: LocalCairnOptions = {}, dir?: string): Promise<LocalCairn> {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'cairn-watch-'));
  const logger = pino({ level: 'silent' });
  const maxRequestBytes = opts.maxRequestBytes ?? 1.5 * 1024 * 1024;
  const server = await CairnServer.start({
    name: 'local', dataDir, initialClusterToken: 'tok', initialAdvertisePeerUrls: ['http://127.0.0.1:2380'],
    advertiseClientUrls: ['http://127.0.0.1:2379'], maxTxnOps: 128, maxRequestBytes, logger, processMetrics: false,
    leaseWatch: opts.leaseWatch,
  });
  const app = await buildApp(server, { maxRequestBytes, logger, sse: opts.sse, watchStreams: opts.watchStreams });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const self: LocalCairn = {
    url: `http://127.0.0.1:${port}`, server, app, dir: dataDir,
    async reopen() {
      await self.close({ keepDir: true });
      return startLocalCairn(opts, dataDir);
    },
    async close(o = {}) {
      await app.close();
      await server.close();
      if (!o.keepDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

/** Fast lease timing for tests: election timeout 500 ms, so the minimum TTL is 1 s. */
export const FAST_LEASES: LeaseWatchOptions = {
  electionTimeoutMs: 500,
  heartbeatIntervalMs: 100,
  leaseTimers: { expiryCheckIntervalMs: 50 },
};
