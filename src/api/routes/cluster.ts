/**
 * etcd's Cluster service on the gateway (/v3/cluster/member/...) and the Maintenance calls that
 * need the Raft member: status, move-leader, hash and hashkv. Translate and delegate only.
 * Member IDs are uint64: JSON strings out, number or string in.
 */
import type { FastifyInstance } from 'fastify';
import { CairnError } from '../../errors/errors.js';
import { callerOf } from '../caller.js';
import type { CairnServer } from '../../server/cairn-server.js';
import type { Member } from '../../server/membership.js';
import { CAIRN_VERSION } from '../../server/cairn-server.js';
import { boolIn, headerOut, int64In, type Json } from '../gateway/kv-codec.js';
import { boolField, int64Field } from '../gateway/schemas.js';

const tags = ['cluster (etcd gateway)'];
const uint64 = (d: string) => ({ ...int64Field(d), pattern: '^[0-9]+$', 'x-go-type': 'uint64' });
const urlList = { type: ['array', 'null'], items: { type: 'string' }, 'x-go-type': '[]string' };
const obj = (properties: Record<string, unknown>) => ({ type: ['object', 'null'], properties });
const anyOut = { 200: { type: 'object', additionalProperties: true } };

export function memberOut(m: Member): Json {
  const o: Json = { ID: m.id.toString(), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls };
  if (!m.name) delete o.name;
  if (m.clientUrls.length === 0) delete o.clientURLs;
  if (m.isLearner) o.isLearner = true;
  return o;
}

function clusterHeader(server: CairnServer): Json {
  const h = headerOut(server.header());
  delete h.revision; // etcd's member responses carry no revision
  return h;
}

/** A uint64 member ID, given as a JSON number or string. */
export function uint64In(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  const n = BigInt(v as string | number);
  if (n < 0n || n >= 1n << 64n) throw new CairnError('BadRequest', `json: cannot unmarshal number ${String(v)} into Go value of type uint64`);
  return n;
}
const idOf = (b: unknown): bigint => uint64In((b as Json | null)?.ID);
const urlsOf = (b: unknown): string[] => (((b as Json | null)?.peerURLs as string[] | null) ?? []);

export async function clusterGatewayRoutes(app: FastifyInstance, opts: { server: CairnServer }): Promise<void> {
  const { server } = opts;
  const c = () => server.cluster;
  const members = () => c().list().map(memberOut);

  app.post('/cluster/member/list', { schema: { tags, summary: 'List members', body: obj({ linearizable: boolField('') }), response: anyOut } },
    async () => ({ header: clusterHeader(server), members: members() }));

  app.post('/cluster/member/add', {
    schema: { tags, summary: 'Add a member (voter or learner)', body: obj({ peerURLs: urlList, isLearner: boolField('Add as a non-voting learner.') }), response: anyOut },
  }, async (req) => {
    const { member } = await c().add(urlsOf(req.body), boolIn((req.body as Json | null)?.isLearner));
    return { header: clusterHeader(server), member: memberOut(member), members: members() };
  });

  app.post('/cluster/member/remove', { schema: { tags, summary: 'Remove a member', body: obj({ ID: uint64('Member ID.') }), response: anyOut } },
    async (req) => { await c().remove(idOf(req.body)); return { header: clusterHeader(server), members: members() }; });

  app.post('/cluster/member/update', {
    schema: { tags, summary: "Change a member's peer URLs", body: obj({ ID: uint64('Member ID.'), peerURLs: urlList }), response: anyOut },
  }, async (req) => { await c().update(idOf(req.body), urlsOf(req.body)); return { header: clusterHeader(server), members: members() }; });

  app.post('/cluster/member/promote', { schema: { tags, summary: 'Promote a learner to a voter', body: obj({ ID: uint64('Member ID.') }), response: anyOut } },
    async (req) => { await c().promote(idOf(req.body)); return { header: clusterHeader(server), members: members() }; });

  app.post('/maintenance/status', { schema: { tags: ['maintenance (etcd gateway)'], summary: "This member's status", body: obj({}), response: anyOut } }, async () => {
    const s = c().status();
    const o: Json = {
      header: headerOut(server.header()), version: CAIRN_VERSION, dbSize: String(s.dbSizeBytes), leader: s.leader.toString(),
      raftIndex: s.raftIndex.toString(), raftTerm: s.raftTerm.toString(), raftAppliedIndex: s.raftAppliedIndex.toString(),
      dbSizeInUse: String(s.dbSizeInUseBytes),
    };
    // As etcd: each raised alarm, in protobuf's text form.
    const errors = server.alarms.list().map((a) => `memberID:${a.memberId} alarm:${a.alarm} `);
    if (errors.length > 0) o.errors = errors;
    if (s.isLearner) o.isLearner = true;
    return o;
  });

  app.post('/maintenance/transfer-leadership', {
    schema: { tags: ['maintenance (etcd gateway)'], summary: 'Move leadership to another voter (etcdctl move-leader)', body: obj({ targetID: uint64('Target member ID.') }), response: anyOut },
  }, async (req) => {
    server.auth.checkMaintenanceAdmin(callerOf(server, req));
    await server.moveLeader(uint64In((req.body as Json | null)?.targetID));
    return { header: headerOut(server.header()) };
  });

  app.post('/maintenance/hash', { schema: { tags: ['maintenance (etcd gateway)'], summary: 'Hash of the whole key space', body: obj({}), response: anyOut } }, async (req) => {
    server.auth.checkMaintenanceAdmin(callerOf(server, req));
    const h = server.store.hashKV(0n);
    return { header: headerOut(server.header()), hash: h.hash };
  });

  app.post('/maintenance/hashkv', {
    schema: { tags: ['maintenance (etcd gateway)'], summary: 'Hash of the key space up to a revision', body: obj({ revision: int64Field('0: the current revision.') }), response: anyOut },
  }, async (req) => {
    server.auth.checkMaintenanceAdmin(callerOf(server, req));
    const h = server.store.hashKV(int64In((req.body as Json | null)?.revision));
    return { header: headerOut(server.header()), hash: h.hash, compact_revision: h.compactRevision.toString() };
  });
}
