/**
 * The peer protocol on the wire: routes, headers, member-ID text, and the byte layout of a
 * message batch and of a snapshot stream.
 *
 * Owns: these layouts and their validation. Must never: accept bytes it cannot account for
 * (a short frame, a length past the end, trailing bytes, a message that fails decodeMessage);
 * every such body is refused whole, so a damaged batch is dropped, never half-stepped.
 *
 * Batch body (POST /raft/messages):
 *   [version u8 = 1] ( [length u32be] [encodeMessage frame] )*
 * Snapshot body (POST /raft/snapshot):
 *   [version u8 = 1] [length u32be] [encodeMessage frame of the MsgSnap]
 *   ( [length u32be > 0] [data] )*  [0 u32be]  [SHA-256 of all data, 32 bytes]
 * The SHA-256 trailer lets the receiver refuse a stream cut or damaged anywhere in between
 * before the host installs it; the receiver passes the data on only once the trailer matches.
 */
import { decodeMessage, isLocalMessageType, MessageType, type Message, type NodeId } from '../raft/index.js';

export const PEER_PROTOCOL_VERSION = 1;

export const ROUTE_MESSAGES = '/raft/messages';
export const ROUTE_SNAPSHOT = '/raft/snapshot';
export const ROUTE_PROBE = '/raft/probe';
export const ROUTE_MEMBERS = '/members';
/** `POST /call/<name>`: a small JSON request the host answers (lease keep-alive forwarded to the leader). */
export const ROUTE_CALL_PREFIX = '/call/';
/** A call's request and answer are small JSON documents. */
export const MAX_CALL_BYTES = 256 * 1024;

/** Request headers (sender → receiver) and response headers (receiver → sender). */
export const HEADER_CLUSTER_ID = 'x-cairn-cluster-id';
export const HEADER_FROM = 'x-cairn-from';
export const HEADER_TO = 'x-cairn-to';
export const HEADER_PEER_URLS = 'x-cairn-peer-urls';
export const HEADER_PROTOCOL = 'x-cairn-peer-protocol';
export const HEADER_SERVER_VERSION = 'x-cairn-server-version';
export const HEADER_MEMBER_ID = 'x-cairn-member-id';

export const BATCH_CONTENT_TYPE = 'application/x-cairn-raft-batch';
export const SNAPSHOT_CONTENT_TYPE = 'application/x-cairn-raft-snapshot';

export const FRAME_HEADER_BYTES = 4;
export const SNAPSHOT_DIGEST_BYTES = 32;
export const SNAPSHOT_DIGEST = 'sha256';

/** Status codes with a meaning in this protocol (the sender acts on each differently). */
export const STATUS = {
  ok: 204,
  malformed: 400,
  forbidden: 403,
  removed: 410,
  clusterMismatch: 412,
  tooLarge: 413,
  misdirected: 421,
  busy: 503,
} as const;

/** Member and cluster IDs as etcd prints them: lowercase hex without leading zeros. */
export function idText(id: bigint): string {
  return id.toString(16);
}

const ID_PATTERN = /^[0-9a-fA-F]{1,16}$/;

/** Parses an ID header; null if absent or not 1-16 hex digits. */
export function parseIdText(text: string | string[] | undefined | null): bigint | null {
  if (typeof text !== 'string' || !ID_PATTERN.test(text)) return null;
  return BigInt('0x' + text);
}

/** The body for one batch: frames are already encodeMessage output. */
export function encodeBatch(frames: readonly Uint8Array[], totalFrameBytes: number): Buffer {
  const body = Buffer.allocUnsafe(1 + frames.length * FRAME_HEADER_BYTES + totalFrameBytes);
  body[0] = PEER_PROTOCOL_VERSION;
  let pos = 1;
  for (const frame of frames) {
    body.writeUInt32BE(frame.length, pos);
    body.set(frame, pos + FRAME_HEADER_BYTES);
    pos += FRAME_HEADER_BYTES + frame.length;
  }
  return body;
}

export class WireError extends Error {}

/**
 * Decodes a batch sent by `from` to `to`. Throws WireError naming the first problem: bad
 * version or framing, a frame decodeMessage refuses, a message whose from/to differ from the
 * request's headers, a local-only message type, or a MsgSnap (snapshots have their own route).
 */
export function decodeBatch(body: Uint8Array, from: NodeId, to: NodeId): Message[] {
  if (body.length < 1 || body[0] !== PEER_PROTOCOL_VERSION) throw new WireError('batch version');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const messages: Message[] = [];
  let pos = 1;
  while (pos < body.length) {
    if (body.length - pos < FRAME_HEADER_BYTES) throw new WireError(`frame ${messages.length}: truncated length`);
    const length = view.getUint32(pos, false);
    pos += FRAME_HEADER_BYTES;
    if (length > body.length - pos) throw new WireError(`frame ${messages.length}: length ${length} past the end`);
    const m = decodeFrame(body.subarray(pos, pos + length), messages.length);
    checkRouting(m, from, to, messages.length);
    if (m.type === MessageType.Snap) throw new WireError(`frame ${messages.length}: MsgSnap outside the snapshot route`);
    messages.push(m);
    pos += length;
  }
  return messages;
}

/** decodeMessage with its error turned into a WireError that names the frame. */
export function decodeFrame(frame: Uint8Array, index: number): Message {
  try {
    // copy: the request body buffer is released after the batch; messages outlive it.
    return decodeMessage(frame, true);
  } catch (e) {
    throw new WireError(`frame ${index}: ${(e as Error).message}`);
  }
}

export function checkRouting(m: Message, from: NodeId, to: NodeId, index: number): void {
  if (m.from !== from) throw new WireError(`frame ${index}: from ${idText(m.from)} but sent by ${idText(from)}`);
  if (m.to !== to) throw new WireError(`frame ${index}: to ${idText(m.to)} but this member is ${idText(to)}`);
  if (isLocalMessageType(m.type)) throw new WireError(`frame ${index}: local message type ${m.type}`);
}

/** [length u32be] prefix for a snapshot stream frame. */
export function frameHeader(length: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  b.writeUInt32BE(length, 0);
  return b;
}
