/**
 * Test scaffolding for the peer transport: members (a PeerTransport plus its peer server on
 * 127.0.0.1, port chosen by the OS) that record what they receive, and small waiting helpers.
 *
 * Owns: test helpers only, no side effects at import (node --test may load this file as a
 * test). Must never: listen on a fixed port or leave a server running after `closeAll`.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { newMessage, MessageType, type Entry, type Message, type NodeId } from '../../src/raft/index.js';
import {
  createPeerServer, PeerTransport, type PeerHandler, type PeerMember, type PeerServer,
  type PeerTlsOptions, type PeerTransportOptions, type TransportLimits,
} from '../../src/transport/index.js';

export interface ReceivedSnapshot {
  message: Message;
  bytes: number;
  sha256: string;
  maxChunkBytes: number;
}

export interface Events {
  unreachable: NodeId[];
  snapshotStatus: { id: NodeId; ok: boolean }[];
  clusterMismatch: { peer: NodeId; theirs: bigint | null }[];
  removed: NodeId[];
}

export interface TestMember {
  id: NodeId;
  transport: PeerTransport;
  server: PeerServer;
  url: string;
  received: Message[];
  snapshots: ReceivedSnapshot[];
  events: Events;
  handler: PeerHandler & { known: (id: NodeId) => boolean; snapshotHook?: (m: Message, data: Readable) => Promise<void> };
}

export interface MemberOptions {
  clusterId?: bigint;
  limits?: Partial<TransportLimits>;
  tls?: PeerTlsOptions | null;
  scheme?: 'http' | 'https';
  transport?: Partial<PeerTransportOptions>;
  port?: number;
}

/** Limits small enough that failure paths run in well under a second. */
export const FAST_LIMITS: Partial<TransportLimits> = {
  requestTimeoutMs: 1_000, connectTimeoutMs: 1_000, backoffInitialMs: 20, backoffMaxMs: 200,
};

async function hashStream(data: Readable): Promise<{ bytes: number; sha256: string; maxChunkBytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let maxChunkBytes = 0;
  for await (const chunk of data as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    maxChunkBytes = Math.max(maxChunkBytes, chunk.length);
  }
  return { bytes, sha256: hash.digest('hex'), maxChunkBytes };
}

export async function startMember(id: NodeId, opts: MemberOptions = {}): Promise<TestMember> {
  const events: Events = { unreachable: [], snapshotStatus: [], clusterMismatch: [], removed: [] };
  const received: Message[] = [];
  const snapshots: ReceivedSnapshot[] = [];
  const transport = new PeerTransport({
    clusterId: opts.clusterId ?? 0xc1a5n, memberId: id, serverVersion: 'test', tls: opts.tls ?? null,
    limits: { ...FAST_LIMITS, ...opts.limits },
    onUnreachable: (peer) => events.unreachable.push(peer),
    onSnapshotStatus: (peer, ok) => events.snapshotStatus.push({ id: peer, ok }),
    onClusterMismatch: (peer, theirs) => events.clusterMismatch.push({ peer, theirs }),
    onRemoved: (peer) => events.removed.push(peer),
    ...opts.transport,
  });
  const handler: TestMember['handler'] = {
    known: () => true,
    onMessages: (msgs) => { received.push(...msgs); },
    onSnapshot: async (m, data) => {
      if (handler.snapshotHook !== undefined) return handler.snapshotHook(m, data);
      snapshots.push({ message: m, ...(await hashStream(data)) });
    },
    members: () => [],
    isKnownMember: (peer) => handler.known(peer),
  };
  const scheme = opts.scheme ?? 'http';
  const server = await createPeerServer({
    transport, handler, tls: opts.tls ?? null, listenUrls: [`${scheme}://127.0.0.1:${opts.port ?? 0}`],
  });
  return { id, transport, server, url: server.urls[0], received, snapshots, events, handler };
}

/** Makes every member a peer of every other. */
export function connectAll(members: readonly TestMember[]): void {
  for (const a of members) for (const b of members) if (a !== b) a.transport.addPeer(b.id, [b.url]);
}

export async function closeAll(members: readonly TestMember[]): Promise<void> {
  for (const m of members) m.transport.close();
  await Promise.all(members.map((m) => m.server.close()));
}

/** Polls `predicate` every few ms until true; throws with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A MsgApp-like message whose `index` numbers it, with one entry of `entryBytes`. */
export function appMessage(from: NodeId, to: NodeId, index: number, entryBytes = 16): Message {
  const entry: Entry = { term: 1, index: index + 1, type: 'normal', data: new Uint8Array(entryBytes).fill(index & 0xff) };
  return { ...newMessage(MessageType.App, to, from, 1), index, logTerm: 1, commit: index, entries: [entry] };
}

export function snapMessage(from: NodeId, to: NodeId, index: number): Message {
  return {
    ...newMessage(MessageType.Snap, to, from, 2),
    snapshot: { metadata: { index, term: 2, confState: { voters: [from, to], learners: [] } }, data: new Uint8Array([1, 2, 3]) },
  };
}

export const noMembers: readonly PeerMember[] = [];
