/**
 * The member list served on the peer port (GET /members), and the client a joining member
 * uses to read it (--initial-cluster-state existing asks an existing member, as etcd does).
 *
 * Owns: the JSON shape of that list — etcd's field names, IDs as hex strings because uint64
 * does not fit a JSON number — and its validation when read back. Must never: trust a list
 * it has not checked field by field, or read an answer without a size bound.
 */
import type { NodeId } from '../raft/index.js';
import type { TransportLimits } from './limits.js';
import { createPeerClient, readCappedBytes } from './peer-client.js';
import type { PeerTlsOptions } from './tls.js';
import { HEADER_CLUSTER_ID, idText, parseIdText, ROUTE_MEMBERS } from './wire.js';

export interface PeerMember {
  readonly id: NodeId;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** A member list answer is small; a megabyte holds thousands of members. */
export const MAX_MEMBERS_RESPONSE_BYTES = 1024 * 1024;

export function membersToJson(members: readonly PeerMember[]): MemberJson[] {
  return members.map((m) => ({
    id: idText(m.id), name: m.name, peerURLs: [...m.peerUrls], clientURLs: [...m.clientUrls], isLearner: m.isLearner,
  }));
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** Parses a /members answer; throws Error saying which entry is wrong. */
export function membersFromJson(value: unknown): PeerMember[] {
  if (!Array.isArray(value)) throw new Error('member list is not an array');
  return value.map((raw: unknown, i) => {
    const m = raw as Partial<MemberJson> | null;
    const id = parseIdText(m?.id);
    if (m === null || typeof m !== 'object' || id === null || id === 0n) throw new Error(`member ${i}: bad id`);
    if (typeof m.name !== 'string' || !isStringArray(m.peerURLs) || !isStringArray(m.clientURLs)) {
      throw new Error(`member ${i}: bad name or URLs`);
    }
    return { id, name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs, isLearner: m.isLearner === true };
  });
}

export interface ClusterMembers {
  readonly clusterId: bigint;
  readonly members: PeerMember[];
  /** The peer URL that answered. */
  readonly url: string;
}

/**
 * Asks each URL in turn for the cluster's members; returns the first good answer, or throws
 * an Error listing why each URL failed.
 */
export async function fetchClusterMembers(
  urls: readonly string[], opts: { tls?: PeerTlsOptions | null; limits: TransportLimits },
): Promise<ClusterMembers> {
  const problems: string[] = [];
  for (const url of urls) {
    const client = createPeerClient(url, opts.tls ?? null, opts.limits, {
      pipelining: 1, headersTimeoutMs: opts.limits.requestTimeoutMs, bodyTimeoutMs: opts.limits.requestTimeoutMs,
    });
    try {
      const res = await client.request({ path: ROUTE_MEMBERS, method: 'GET' });
      const body = await readCappedBytes(res.body, MAX_MEMBERS_RESPONSE_BYTES);
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${body.toString('utf8').slice(0, 200)}`);
      const clusterId = parseIdText(res.headers[HEADER_CLUSTER_ID]);
      if (clusterId === null) throw new Error('answer has no cluster ID');
      return { clusterId, members: membersFromJson(JSON.parse(body.toString('utf8'))), url };
    } catch (e) {
      problems.push(`${url}: ${(e as Error).message}`);
    } finally {
      client.destroy().catch(() => {});
    }
  }
  throw new Error(`could not get the member list from any peer URL (${problems.join('; ')})`);
}
