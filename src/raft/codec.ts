/**
 * Compact binary encoding of Raft messages (for the peer transport) and of entries and hard
 * state (which the WAL may reuse).
 *
 * Owns: the byte layouts below and their validation on decode. Must never: accept bytes it
 * cannot fully account for — truncated input, unknown versions or types, numbers beyond 2^53
 * and trailing garbage all throw RaftError('CorruptData'), so a damaged message is dropped
 * rather than stepped.
 *
 * Layout (version 1), numbers as unsigned LEB128 varints unless noted:
 *   message  = [1][type u8][to u64be][from u64be] term logTerm index commit rejectHint
 *              [flags u8: 1=reject 2=snapshot] ctxLen ctx count entry* snapshot?
 *   entry    = term index [type u8: 0 normal, 1 confChange] dataLen data
 *   snapshot = index term nVoters (u64be)* nLearners (u64be)* dataLen data
 *   hardState= [1] term [vote u64be] commit
 */
import { RaftError } from './errors.js';
import {
  MESSAGE_TYPE_NAMES, type ConfState, type Entry, type HardState, type Message, type MessageType,
  type NodeId, type Snapshot,
} from './types.js';

const CODEC_VERSION = 1;
const FLAG_REJECT = 1;
const FLAG_SNAPSHOT = 2;
/** Refuse counts that cannot be real, before allocating for them. */
const MAX_DECODE_COUNT = 1 << 24;

function varintBytes(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

class Writer {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  u8(n: number): void {
    this.buf[this.pos++] = n;
  }

  u64(n: bigint): void {
    this.view.setBigUint64(this.pos, n, false);
    this.pos += 8;
  }

  varint(n: number): void {
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** Reads from `buf`; byte fields come out as views into it. With `copy`, `buf` is first copied
 * once, so the decoded value owns one private buffer instead of one allocation per field. */
class Reader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  pos = 0;

  constructor(buf: Uint8Array, copy: boolean) {
    this.buf = copy ? buf.slice() : buf;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RaftError('CorruptData', 'truncated');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, false);
    this.pos += 8;
    return v;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 128) {
        if (!Number.isSafeInteger(result)) throw new RaftError('CorruptData', 'number beyond 2^53');
        return result;
      }
      scale *= 128;
    }
    throw new RaftError('CorruptData', 'varint too long');
  }

  count(): number {
    const n = this.varint();
    if (n > MAX_DECODE_COUNT || n > this.buf.length - this.pos) throw new RaftError('CorruptData', 'count');
    return n;
  }

  bytes(): Uint8Array {
    const n = this.varint();
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new RaftError('CorruptData', 'trailing bytes');
  }
}

function entryBytes(e: Entry): number {
  return varintBytes(e.term) + varintBytes(e.index) + 1 + varintBytes(e.data.length) + e.data.length;
}

function writeEntry(w: Writer, e: Entry): void {
  w.varint(e.term);
  w.varint(e.index);
  w.u8(e.type === 'normal' ? 0 : 1);
  w.bytes(e.data);
}

function readEntry(r: Reader): Entry {
  const term = r.varint();
  const index = r.varint();
  const t = r.u8();
  if (t > 1) throw new RaftError('CorruptData', `entry type ${t}`);
  return { term, index, type: t === 0 ? 'normal' : 'confChange', data: r.bytes() };
}

function snapshotBytes(s: Snapshot): number {
  const { index, term, confState } = s.metadata;
  return varintBytes(index) + varintBytes(term) +
    varintBytes(confState.voters.length) + 8 * confState.voters.length +
    varintBytes(confState.learners.length) + 8 * confState.learners.length +
    varintBytes(s.data.length) + s.data.length;
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  w.varint(s.metadata.index);
  w.varint(s.metadata.term);
  w.varint(s.metadata.confState.voters.length);
  for (const id of s.metadata.confState.voters) w.u64(id);
  w.varint(s.metadata.confState.learners.length);
  for (const id of s.metadata.confState.learners) w.u64(id);
  w.bytes(s.data);
}

function readIds(r: Reader): NodeId[] {
  const n = r.count();
  const ids = new Array<NodeId>(n);
  for (let i = 0; i < n; i++) ids[i] = r.u64();
  return ids;
}

function readSnapshot(r: Reader): Snapshot {
  const index = r.varint();
  const term = r.varint();
  const confState: ConfState = { voters: readIds(r), learners: readIds(r) };
  return { metadata: { index, term, confState }, data: r.bytes() };
}

function messageBytes(m: Message): number {
  let size = 2 + 16 + varintBytes(m.term) + varintBytes(m.logTerm) + varintBytes(m.index) +
    varintBytes(m.commit) + varintBytes(m.rejectHint) + 1 +
    varintBytes(m.context.length) + m.context.length + varintBytes(m.entries.length);
  for (let i = 0; i < m.entries.length; i++) size += entryBytes(m.entries[i]);
  if (m.snapshot !== null) size += snapshotBytes(m.snapshot);
  return size;
}

export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer(messageBytes(m));
  w.u8(CODEC_VERSION);
  w.u8(m.type);
  w.u64(m.to);
  w.u64(m.from);
  w.varint(m.term);
  w.varint(m.logTerm);
  w.varint(m.index);
  w.varint(m.commit);
  w.varint(m.rejectHint);
  w.u8((m.reject ? FLAG_REJECT : 0) | (m.snapshot !== null ? FLAG_SNAPSHOT : 0));
  w.bytes(m.context);
  w.varint(m.entries.length);
  for (let i = 0; i < m.entries.length; i++) writeEntry(w, m.entries[i]);
  if (m.snapshot !== null) writeSnapshot(w, m.snapshot);
  return w.buf;
}

/**
 * Decodes a message. With `copy` (the default) the message's byte fields are views into one
 * private copy of `bytes`; without it they are views into `bytes` itself, which the caller
 * must then never reuse (fine for a buffer received from the network and then dropped).
 */
export function decodeMessage(bytes: Uint8Array, copy = true): Message {
  const r = new Reader(bytes, copy);
  if (r.u8() !== CODEC_VERSION) throw new RaftError('CorruptData', 'message version');
  const type = r.u8();
  if (type >= MESSAGE_TYPE_NAMES.length) throw new RaftError('CorruptData', `message type ${type}`);
  const to = r.u64();
  const from = r.u64();
  const term = r.varint();
  const logTerm = r.varint();
  const index = r.varint();
  const commit = r.varint();
  const rejectHint = r.varint();
  const flags = r.u8();
  if (flags > (FLAG_REJECT | FLAG_SNAPSHOT)) throw new RaftError('CorruptData', 'message flags');
  const context = r.bytes();
  const n = r.count();
  const entries = new Array<Entry>(n);
  for (let i = 0; i < n; i++) entries[i] = readEntry(r);
  const snapshot = (flags & FLAG_SNAPSHOT) !== 0 ? readSnapshot(r) : null;
  r.end();
  return {
    type: type as MessageType, to, from, term, logTerm, index, entries, commit, snapshot,
    reject: (flags & FLAG_REJECT) !== 0, rejectHint, context,
  };
}

export function encodeEntry(e: Entry): Uint8Array {
  const w = new Writer(1 + entryBytes(e));
  w.u8(CODEC_VERSION);
  writeEntry(w, e);
  return w.buf;
}

export function decodeEntry(bytes: Uint8Array, copy = true): Entry {
  const r = new Reader(bytes, copy);
  if (r.u8() !== CODEC_VERSION) throw new RaftError('CorruptData', 'entry version');
  const e = readEntry(r);
  r.end();
  return e;
}

export function encodeHardState(hs: HardState): Uint8Array {
  const w = new Writer(1 + varintBytes(hs.term) + 8 + varintBytes(hs.commit));
  w.u8(CODEC_VERSION);
  w.varint(hs.term);
  w.u64(hs.vote);
  w.varint(hs.commit);
  return w.buf;
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const r = new Reader(bytes, true);
  if (r.u8() !== CODEC_VERSION) throw new RaftError('CorruptData', 'hard state version');
  const term = r.varint();
  const vote = r.u64();
  const commit = r.varint();
  r.end();
  return { term, vote, commit };
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new Writer(1 + snapshotBytes(s));
  w.u8(CODEC_VERSION);
  writeSnapshot(w, s);
  return w.buf;
}

export function decodeSnapshot(bytes: Uint8Array, copy = true): Snapshot {
  const r = new Reader(bytes, copy);
  if (r.u8() !== CODEC_VERSION) throw new RaftError('CorruptData', 'snapshot version');
  const s = readSnapshot(r);
  r.end();
  return s;
}
