/** An in-process member with its Fastify app (no port): tests call it through `inject`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { CairnServer } from '../../src/server/cairn-server.js';

export interface Fixture {
  app: FastifyInstance;
  server: CairnServer;
  dir: string;
  /** POST a gateway call; returns status and parsed JSON. */
  gw(path: string, body: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
export const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

export async function startFixture(opts: { maxRequestBytes?: number; maxTxnOps?: number } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-api-'));
  const logger = pino({ level: 'silent' });
  const maxRequestBytes = opts.maxRequestBytes ?? 1.5 * 1024 * 1024;
  const server = await CairnServer.start({
    name: 't', dataDir: dir, initialClusterToken: 'tok', initialAdvertisePeerUrls: ['http://127.0.0.1:2380'],
    advertiseClientUrls: ['http://127.0.0.1:2379'], maxTxnOps: opts.maxTxnOps ?? 128, maxRequestBytes, logger, processMetrics: false,
  });
  const app = await buildApp(server, { maxRequestBytes, logger });
  await app.ready();
  return {
    app, server, dir,
    async gw(path, body) {
      const r = await app.inject({ method: 'POST', url: path, payload: typeof body === 'string' ? body : JSON.stringify(body) });
      let json: unknown;
      try { json = r.json(); } catch { json = r.body; }
      return { status: r.statusCode, json };
    },
    async close() {
      await app.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
