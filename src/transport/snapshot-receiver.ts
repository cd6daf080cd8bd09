/**
 * Reads a snapshot stream (layout in wire.ts) from a request body: the MsgSnap message first,
 * then the data as a Readable the host consumes at its own pace.
 *
 * Owns: parsing and checking the stream — frame sizes, total size, the SHA-256 trailer, no
 * trailing bytes. Must never: buffer more than one frame, or end the data stream cleanly
 * before the trailer has matched. A damaged or cut stream makes the data Readable emit an
 * error instead of 'end', so a host that installs only after a clean end never installs it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { MessageType, type Message, type NodeId } from '../raft/index.js';
import type { TransportLimits } from './limits.js';
import {
  checkRouting, decodeFrame, FRAME_HEADER_BYTES, PEER_PROTOCOL_VERSION, SNAPSHOT_DIGEST,
  SNAPSHOT_DIGEST_BYTES, WireError,
} from './wire.js';

/** Pulls exact byte counts out of a stream of arbitrary chunks. */
class ChunkReader {
  private pending: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.chunks.next();
    if (next.done === true) {
      this.done = true;
      return false;
    }
    this.pending = this.pending.length === 0 ? next.value : Buffer.concat([this.pending, next.value]);
    return true;
  }

  /** Exactly `n` bytes (n ≤ one frame), or WireError if the stream ends first. */
  async exact(n: number, what: string): Promise<Buffer> {
    while (this.pending.length < n) {
      if (!(await this.fill())) throw new WireError(`snapshot stream cut short in ${what}`);
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  /** Between 1 and `max` bytes, without copying when a chunk already holds them. */
  async some(max: number, what: string): Promise<Buffer> {
    if (this.pending.length === 0 && !(await this.fill())) throw new WireError(`snapshot stream cut short in ${what}`);
    const out = this.pending.subarray(0, max);
    this.pending = this.pending.subarray(out.length);
    return out;
  }

  async atEnd(): Promise<boolean> {
    while (this.pending.length === 0) {
      if (!(await this.fill())) return true;
    }
    return false;
  }
}

export interface IncomingSnapshot {
  readonly message: Message;
  /** The data; errors (never ends) if the stream is damaged, cut or too large. */
  readonly data: Readable;
}

/** Reads and checks the head of the stream; the data follows lazily as `data` is read. */
export async function readIncomingSnapshot(
  body: AsyncIterable<Buffer>, from: NodeId, to: NodeId, limits: TransportLimits,
): Promise<IncomingSnapshot> {
  const reader = new ChunkReader(body[Symbol.asyncIterator]());
  const version = await reader.exact(1, 'version');
  if (version[0] !== PEER_PROTOCOL_VERSION) throw new WireError(`snapshot stream version ${version[0]}`);
  const length = (await reader.exact(FRAME_HEADER_BYTES, 'message length')).readUInt32BE(0);
  if (length > limits.maxBatchBytes) throw new WireError(`snapshot message of ${length} bytes is larger than maxBatchBytes`);
  const message = decodeFrame(await reader.exact(length, 'message'), 0);
  checkRouting(message, from, to, 0);
  if (message.type !== MessageType.Snap || message.snapshot === null) {
    throw new WireError(`snapshot stream starts with message type ${message.type}, not MsgSnap`);
  }
  const data = Readable.from(snapshotData(reader, limits), { objectMode: false, highWaterMark: limits.snapshotChunkBytes });
  return { message, data };
}

async function* snapshotData(reader: ChunkReader, limits: TransportLimits): AsyncGenerator<Buffer> {
  const hash = createHash(SNAPSHOT_DIGEST);
  let totalBytes = 0;
  for (;;) {
    const length = (await reader.exact(FRAME_HEADER_BYTES, 'chunk length')).readUInt32BE(0);
    if (length === 0) break;
    if (length > limits.snapshotChunkBytes) throw new WireError(`snapshot chunk of ${length} bytes is larger than snapshotChunkBytes`);
    totalBytes += length;
    if (totalBytes > limits.maxSnapshotBytes) throw new WireError(`snapshot larger than maxSnapshotBytes (${limits.maxSnapshotBytes})`);
    for (let left = length; left > 0;) {
      const piece = await reader.some(left, 'chunk');
      hash.update(piece);
      left -= piece.length;
      // Held back until the trailer matches? No: chunks may be large in total; the consumer
      // gets them now, and 'end' (not data) is what certifies the whole stream.
      yield piece;
    }
  }
  const digest = await reader.exact(SNAPSHOT_DIGEST_BYTES, 'checksum');
  if (!hash.digest().equals(digest)) throw new WireError('snapshot checksum mismatch');
  if (!(await reader.atEnd())) throw new WireError('bytes after the snapshot checksum');
}
