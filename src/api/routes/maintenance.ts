/**
 * etcd's Maintenance calls that touch the store itself: alarm (list, activate, deactivate),
 * defragment, and snapshot (a consistent copy of the member's store streamed as etcd's gateway
 * streams a SnapshotResponse: `{"result":{header, remaining_bytes, blob}}` lines, blob base64).
 * Translate and delegate only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ALARM_TYPES, type AlarmType } from '../../server/alarms.js';
import type { CairnServer } from '../../server/cairn-server.js';
import { enumIn, headerOut, type Json } from '../gateway/kv-codec.js';
import { enumField, int64Field } from '../gateway/schemas.js';
import { GatewayStream } from '../gateway/stream.js';
import { uint64In } from './cluster.js';
import { callerOf } from '../caller.js';

const tags = ['maintenance (etcd gateway)'];
const obj = (properties: Record<string, unknown>) => ({ type: ['object', 'null'], properties });
const anyOut = { 200: { type: 'object', additionalProperties: true } };
const uint64 = (d: string) => ({ ...int64Field(d), pattern: '^[0-9]+$', 'x-go-type': 'uint64' });

/** Bytes of the store per snapshot message (before base64). */
export const SNAPSHOT_CHUNK_BYTES = 64 * 1024;
/** Unsent snapshot bytes a slow client may hold in the socket's buffer before the copy waits. */
const MAX_SNAPSHOT_BUFFERED_BYTES = 4 * 1024 * 1024;

/** etcd's AlarmRequest_AlarmAction names, by number; Cairn's actions in the same order. */
const ACTION_NAMES = ['GET', 'ACTIVATE', 'DEACTIVATE'];
const ACTIONS = { GET: 'get', ACTIVATE: 'activate', DEACTIVATE: 'deactivate' } as const;

export async function maintenanceGatewayRoutes(app: FastifyInstance, opts: { server: CairnServer; streams: Set<{ end(): void }> }): Promise<void> {
  const { server } = opts;

  app.post('/maintenance/alarm', {
    schema: {
      tags, summary: 'List, activate or deactivate alarms (NOSPACE is raised past --quota-backend-bytes)',
      body: obj({
        action: enumField('etcdserverpb.AlarmRequest_AlarmAction', ACTION_NAMES, 'What to do.'),
        memberID: uint64('Member ID (0 with GET: every member).'),
        alarm: enumField('etcdserverpb.AlarmType', [...ALARM_TYPES], 'Which alarm.'),
      }),
      response: anyOut,
    },
  }, async (req) => {
    const b = (req.body ?? {}) as Json;
    const action = ACTIONS[enumIn(b.action, ACTION_NAMES) as keyof typeof ACTIONS];
    const alarm = enumIn<AlarmType>(b.alarm, ALARM_TYPES);
    const { result } = await server.alarm(action, uint64In(b.memberID), alarm);
    // etcd 3.4 answers alarm calls without a header.
    const out: Json = {};
    if (result.length > 0) out.alarms = result.map((a) => ({ memberID: a.memberId.toString(), alarm: a.alarm }));
    return out;
  });

  app.post('/maintenance/defragment', {
    schema: { tags, summary: "Rewrite this member's data file without free pages", body: obj({}), response: anyOut },
  }, async (req) => {
    server.auth.checkMaintenanceAdmin(callerOf(server, req));
    return { header: headerOut((await server.defragment()).header) };
  });

  app.post('/maintenance/snapshot', {
    schema: {
      tags, summary: "Stream a consistent copy of this member's store (cairnctl snapshot save)",
      description: 'A stream of `{"result":{header, remaining_bytes, blob}}` lines; the blobs, concatenated, are the snapshot file ' +
        '(Cairn\'s format: magic, header, LMDB data file, SHA-256), restored with `cairnctl snapshot restore`.',
      body: obj({}),
    },
  }, (req, reply) => snapshotStreamRoute(req, reply, opts));
}

function snapshotStreamRoute(req: FastifyRequest, reply: FastifyReply, opts: { server: CairnServer; streams: Set<{ end(): void }> }): void {
  try {
    opts.server.auth.checkMaintenanceAdmin(callerOf(opts.server, req));
  } catch (e) {
    // etcd's gateway words a refused server stream this way (not as a unary error).
    const message = (e as Error).message;
    void reply.code(500).send({ error: { grpc_code: 2, http_code: 500, message, http_status: 'Internal Server Error' } });
    return;
  }
  reply.hijack();
  const stream = new GatewayStream(req.raw, reply.raw, MAX_SNAPSHOT_BUFFERED_BYTES);
  opts.streams.add(stream);
  stream.onClose(() => opts.streams.delete(stream));
  void (async () => {
    try {
      const { totalBytes, chunks } = await opts.server.snapshot();
      let remaining = totalBytes;
      let pending = Buffer.alloc(0);
      const send = (b: Buffer) => {
        remaining -= b.length;
        stream.send({ header: headerOut(opts.server.header()), remaining_bytes: String(remaining), blob: b.toString('base64') });
      };
      for await (const chunk of chunks) {
        if (stream.isEnded) break;
        pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
        while (pending.length >= SNAPSHOT_CHUNK_BYTES) {
          send(pending.subarray(0, SNAPSHOT_CHUNK_BYTES));
          pending = pending.subarray(SNAPSHOT_CHUNK_BYTES);
        }
        if (stream.backedUp && !stream.isEnded) await new Promise<void>((resolve) => { stream.onDrain(resolve); stream.onClose(resolve); });
      }
      if (pending.length > 0 && !stream.isEnded) send(pending);
      if (!stream.isEnded && remaining !== 0) throw new Error(`snapshot stream ended with ${remaining} bytes unsent`);
      stream.end();
    } catch (e) {
      stream.fail(e);
    }
  })();
}
