/**
 * The byte formats of the three record kinds the store keeps, with length checks on decode.
 *
 * - latest record (table `latest`, keyed by user key): the current version of a live key.
 *   format u8 | keyId u64 | createRev u64 | modMain u64 | modSub u32 | version u64 | lease i64 | value
 * - version record (table `revs`, keyed by revision): one change of one key, as history.
 *   flags u8 | keyId u64 | createRev u64 | version u64 | lease i64 | prevMain u64 | prevSub u32 |
 *   keyLen u32 | key | value
 *   (a tombstone has flags bit 0 set, zero numbers and no value; prev is the key's previous
 *   change, main 0 when none, so compaction finds it without a seek)
 * - grave record (table `graveyard`, keyed by user key): a deleted key whose history remains.
 *   keyId u64 | tombMain u64 | tombSub u32
 *
 * This module never touches LMDB and never decides semantics; it only packs and checks bytes.
 * A record that fails its checks is corruption: it throws a plain Error (not a client error).
 */
import type { Bytes, KeyValue } from './types.js';
import { asBuffer } from './revision.js';

export const LATEST_FORMAT_V1 = 1;
export const LATEST_HEADER_BYTES = 45;
export const VERSION_HEADER_BYTES = 49;
const KEY_LEN_OFFSET = 45;
export const PREV_REVISION_OFFSET = 33;
export const GRAVE_RECORD_BYTES = 20;
export const VERSION_FLAG_TOMBSTONE = 1;
/** Offset of the keyId inside latest and version records (same in both). */
export const KEY_ID_OFFSET = 1;

export interface LatestFields {
  keyId: bigint;
  createRevision: bigint;
  modMain: bigint;
  modSub: number;
  version: bigint;
  lease: bigint;
  value: Bytes;
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

/** Encodes into `scratch`; the result is valid until the scratch is reused. */
export function encodeLatestInto(scratch: Scratch, f: LatestFields): Buffer {
  const { buf, view } = scratch.take(LATEST_HEADER_BYTES + f.value.byteLength);
  buf[0] = LATEST_FORMAT_V1;
  view.setBigUint64(1, f.keyId);
  view.setBigUint64(9, f.createRevision);
  view.setBigUint64(17, f.modMain);
  view.setUint32(25, f.modSub);
  view.setBigUint64(29, f.version);
  view.setBigInt64(37, f.lease);
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
    createRevision: buf.readBigUInt64BE(9),
    modRevision: buf.readBigUInt64BE(17),
    version: buf.readBigUInt64BE(29),
    value: keysOnly ? EMPTY : buf.subarray(LATEST_HEADER_BYTES),
    lease: buf.readBigInt64BE(37),
  };
}

export function latestKeyId(record: Buffer): bigint {
  checkLatest(record);
  return record.readBigUInt64BE(1);
}

export function latestModMain(record: Buffer): bigint {
  checkLatest(record);
  return record.readBigUInt64BE(17);
}

export function latestModSub(record: Buffer): number {
  checkLatest(record);
  return record.readUInt32BE(25);
}

export const EMPTY: Buffer = Buffer.alloc(0);

export interface VersionFields {
  tombstone: boolean;
  keyId: bigint;
  createRevision: bigint;
  version: bigint;
  lease: bigint;
  prevMain: bigint;
  prevSub: number;
  key: Bytes;
  value: Bytes;
}

/** Encodes into `scratch`; the result is valid until the scratch is reused. */
export function encodeVersionInto(scratch: Scratch, f: VersionFields): Buffer {
  const keyLen = f.key.byteLength;
  const { buf, view } = scratch.take(VERSION_HEADER_BYTES + keyLen + f.value.byteLength);
  buf[0] = f.tombstone ? VERSION_FLAG_TOMBSTONE : 0;
  view.setBigUint64(1, f.keyId);
  view.setBigUint64(9, f.createRevision);
  view.setBigUint64(17, f.version);
  view.setBigInt64(25, f.lease);
  view.setBigUint64(33, f.prevMain);
  view.setUint32(41, f.prevSub);
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

export function versionKeyId(record: Buffer): bigint {
  checkVersion(record);
  return record.readBigUInt64BE(1);
}

/** The `revs` key (12 bytes) of the key's previous change, or undefined for a first version. */
export function versionPrevRevision(record: Buffer): Buffer | undefined {
  checkVersion(record);
  if (record.readBigUInt64BE(PREV_REVISION_OFFSET) === 0n) return undefined;
  return Buffer.from(record.subarray(PREV_REVISION_OFFSET, PREV_REVISION_OFFSET + 12));
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
    createRevision: buf.readBigUInt64BE(9),
    modRevision,
    version: buf.readBigUInt64BE(17),
    value: keysOnly ? EMPTY : buf.subarray(valueStart),
    lease: buf.readBigInt64BE(25),
  };
}

export interface GraveFields {
  keyId: bigint;
  tombMain: bigint;
  tombSub: number;
}

export function encodeGrave(f: GraveFields): Buffer {
  const buf = Buffer.allocUnsafe(GRAVE_RECORD_BYTES);
  buf.writeBigUInt64BE(f.keyId, 0);
  buf.writeBigUInt64BE(f.tombMain, 8);
  buf.writeUInt32BE(f.tombSub, 16);
  return buf;
}

export function decodeGrave(record: Uint8Array): GraveFields {
  const buf = asBuffer(record);
  if (buf.length !== GRAVE_RECORD_BYTES) throw new Error(`mvcc: corrupt grave record (length ${buf.length})`);
  return { keyId: buf.readBigUInt64BE(0), tombMain: buf.readBigUInt64BE(8), tombSub: buf.readUInt32BE(16) };
}
