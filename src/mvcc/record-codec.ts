/**
 * The byte formats of the three record kinds the store keeps, with length checks on decode.
 * Every record names the key's previous change ("prev", main 0 when none), so history is a chain
 * per key that reads and compaction follow without any index.
 *
 * - latest record (table `latest`, keyed by user key): the current version of a live key.
 *   format u8 | createRev u64 | modMain u64 | modSub u32 | version u64 | lease i64 |
 *   prevMain u64 | prevSub u32 | value
 * - version record (table `revs`, keyed by revision): one change of one key.
 *   flags u8 | createRev u64 | version u64 | lease i64 | prevMain u64 | prevSub u32 |
 *   keyLen u32 | key | value          (a tombstone has flag bit 0, zero numbers, no value)
 * - grave record (table `graveyard`, keyed by user key): a deleted key whose history remains.
 *   tombMain u64 | tombSub u32 | prevMain u64 | prevSub u32
 *
 * This module never touches LMDB and never decides semantics; it only packs and checks bytes.
 * A record that fails its checks is corruption: it throws a plain Error (not a client error).
 */
import type { Bytes, KeyValue } from './types.js';
import { asBuffer, REVISION_BYTES } from './revision.js';

export const LATEST_FORMAT_V1 = 1;
export const LATEST_HEADER_BYTES = 49;
export const VERSION_HEADER_BYTES = 41;
export const GRAVE_RECORD_BYTES = 24;
export const VERSION_FLAG_TOMBSTONE = 1;
const LATEST_PREV_OFFSET = 37;
export const VERSION_PREV_OFFSET = 25;
const KEY_LEN_OFFSET = 37;

export const EMPTY: Buffer = Buffer.alloc(0);

/** A revision as (main, sub); main 0 means "none". */
export interface RevisionRef {
  main: bigint;
  sub: number;
}

/**
 * A reusable encoding buffer for the write path: lmdb copies a value during a synchronous put,
 * so one scratch area per record kind serves every write (no allocation, no GC). What `take`
 * returns is valid only until the next `take`. DataView writes bigints several times faster
 * than Buffer.writeBigUInt64BE.
 */
export class Scratch {
  private buf: Buffer;
  private view: DataView;

  constructor(initialBytes = 4096) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  take(bytes: number): { buf: Buffer; view: DataView } {
    if (bytes > this.buf.length) {
      this.buf = Buffer.allocUnsafe(Math.max(bytes, this.buf.length * 2));
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    return { buf: this.buf.subarray(0, bytes), view: this.view };
  }
}

export interface LatestFields {
  createRevision: bigint;
  modMain: bigint;
  modSub: number;
  version: bigint;
  lease: bigint;
  prev: RevisionRef;
  value: Bytes;
}

/** Encodes into `scratch`; the result is valid until the scratch is reused. */
export function encodeLatestInto(scratch: Scratch, f: LatestFields): Buffer {
  const { buf, view } = scratch.take(LATEST_HEADER_BYTES + f.value.byteLength);
  buf[0] = LATEST_FORMAT_V1;
  view.setBigUint64(1, f.createRevision);
  view.setBigUint64(9, f.modMain);
  view.setUint32(17, f.modSub);
  view.setBigUint64(21, f.version);
  view.setBigInt64(29, f.lease);
  view.setBigUint64(LATEST_PREV_OFFSET, f.prev.main);
  view.setUint32(LATEST_PREV_OFFSET + 8, f.prev.sub);
  buf.set(f.value, LATEST_HEADER_BYTES);
  return buf;
}

export function encodeLatest(f: LatestFields): Buffer {
  return Buffer.from(encodeLatestInto(new Scratch(LATEST_HEADER_BYTES + f.value.byteLength), f));
}

function checkLatest(buf: Buffer): void {
  if (buf.length < LATEST_HEADER_BYTES || buf[0] !== LATEST_FORMAT_V1) {
    throw new Error(`mvcc: corrupt latest record (length ${buf.length}, format ${buf[0]})`);
  }
}

/** Decodes a latest record into a KeyValue; `value` shares memory with `record`. */
export function decodeLatest(key: Bytes, record: Uint8Array, keysOnly = false): KeyValue {
  const buf = asBuffer(record);
  checkLatest(buf);
  return {
    key,
    createRevision: buf.readBigUInt64BE(1),
    modRevision: buf.readBigUInt64BE(9),
    version: buf.readBigUInt64BE(21),
    value: keysOnly ? EMPTY : buf.subarray(LATEST_HEADER_BYTES),
    lease: buf.readBigInt64BE(29),
  };
}

export function latestMod(record: Buffer): RevisionRef {
  checkLatest(record);
  return { main: record.readBigUInt64BE(9), sub: record.readUInt32BE(17) };
}

export function latestPrev(record: Buffer): RevisionRef {
  checkLatest(record);
  return { main: record.readBigUInt64BE(LATEST_PREV_OFFSET), sub: record.readUInt32BE(LATEST_PREV_OFFSET + 8) };
}

export interface VersionFields {
  tombstone: boolean;
  createRevision: bigint;
  version: bigint;
  lease: bigint;
  prev: RevisionRef;
  key: Bytes;
  value: Bytes;
}

/** Encodes into `scratch`; the result is valid until the scratch is reused. */
export function encodeVersionInto(scratch: Scratch, f: VersionFields): Buffer {
  const keyLen = f.key.byteLength;
  const { buf, view } = scratch.take(VERSION_HEADER_BYTES + keyLen + f.value.byteLength);
  buf[0] = f.tombstone ? VERSION_FLAG_TOMBSTONE : 0;
  view.setBigUint64(1, f.createRevision);
  view.setBigUint64(9, f.version);
  view.setBigInt64(17, f.lease);
  view.setBigUint64(VERSION_PREV_OFFSET, f.prev.main);
  view.setUint32(VERSION_PREV_OFFSET + 8, f.prev.sub);
  view.setUint32(KEY_LEN_OFFSET, keyLen);
  buf.set(f.key, VERSION_HEADER_BYTES);
  buf.set(f.value, VERSION_HEADER_BYTES + keyLen);
  return buf;
}

export function encodeVersion(f: VersionFields): Buffer {
  return Buffer.from(encodeVersionInto(new Scratch(VERSION_HEADER_BYTES + f.key.byteLength + f.value.byteLength), f));
}

function checkVersion(buf: Buffer): number {
  if (buf.length < VERSION_HEADER_BYTES || (buf[0] & ~VERSION_FLAG_TOMBSTONE) !== 0) {
    throw new Error(`mvcc: corrupt version record (length ${buf.length})`);
  }
  const keyLen = buf.readUInt32BE(KEY_LEN_OFFSET);
  if (VERSION_HEADER_BYTES + keyLen > buf.length) {
    throw new Error(`mvcc: corrupt version record (key length ${keyLen} > record ${buf.length})`);
  }
  return keyLen;
}

export function versionIsTombstone(record: Buffer): boolean {
  checkVersion(record);
  return (record[0] & VERSION_FLAG_TOMBSTONE) !== 0;
}

export function versionPrev(record: Buffer): RevisionRef {
  checkVersion(record);
  return { main: record.readBigUInt64BE(VERSION_PREV_OFFSET), sub: record.readUInt32BE(VERSION_PREV_OFFSET + 8) };
}

/** The 12 bytes of the previous change's `revs` key (copied), or undefined for a first version. */
export function versionPrevKey(record: Buffer): Buffer | undefined {
  checkVersion(record);
  if (record.readBigUInt64BE(VERSION_PREV_OFFSET) === 0n) return undefined;
  return Buffer.from(record.subarray(VERSION_PREV_OFFSET, VERSION_PREV_OFFSET + REVISION_BYTES));
}

export function versionKey(record: Buffer): Buffer {
  const keyLen = checkVersion(record);
  return record.subarray(VERSION_HEADER_BYTES, VERSION_HEADER_BYTES + keyLen);
}

/** The KeyValue a version record describes, at `modRevision`; undefined for a tombstone. */
export function decodeVersion(record: Uint8Array, modRevision: bigint, keysOnly = false): KeyValue | undefined {
  const buf = asBuffer(record);
  const keyLen = checkVersion(buf);
  if ((buf[0] & VERSION_FLAG_TOMBSTONE) !== 0) return undefined;
  const valueStart = VERSION_HEADER_BYTES + keyLen;
  return {
    key: buf.subarray(VERSION_HEADER_BYTES, valueStart),
    createRevision: buf.readBigUInt64BE(1),
    modRevision,
    version: buf.readBigUInt64BE(9),
    value: keysOnly ? EMPTY : buf.subarray(valueStart),
    lease: buf.readBigInt64BE(17),
  };
}

export interface GraveFields {
  tomb: RevisionRef;
  prev: RevisionRef;
}

export function encodeGrave(f: GraveFields): Buffer {
  const buf = Buffer.allocUnsafe(GRAVE_RECORD_BYTES);
  buf.writeBigUInt64BE(f.tomb.main, 0);
  buf.writeUInt32BE(f.tomb.sub, 8);
  buf.writeBigUInt64BE(f.prev.main, 12);
  buf.writeUInt32BE(f.prev.sub, 20);
  return buf;
}

export function decodeGrave(record: Uint8Array): GraveFields {
  const buf = asBuffer(record);
  if (buf.length !== GRAVE_RECORD_BYTES) throw new Error(`mvcc: corrupt grave record (length ${buf.length})`);
  return {
    tomb: { main: buf.readBigUInt64BE(0), sub: buf.readUInt32BE(8) },
    prev: { main: buf.readBigUInt64BE(12), sub: buf.readUInt32BE(20) },
  };
}
