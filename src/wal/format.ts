/**
 * The byte layout of WAL segment files, version 1.
 *
 * Owns: file names, the segment header, the record frame, and their checks when read back.
 * Must never: interpret a record's payload (the WAL carries opaque bytes), or accept bytes it
 * cannot account for — every check failure is reported, never skipped silently.
 *
 *   file name      = %016x-%016x.wal  (sequence, index of the first record written into it);
 *                    fixed width hex, so names sort in log order
 *   segment header = magic "CAIRNWAL" (8) | format version u32 | sequence u64 | first index u64
 *                    | crc32 of the previous 28 bytes u32                          = 32 bytes
 *   record         = header crc32 u32 | payload crc32 u32 | payload length u32 | kind u8
 *                    | index u64 | payload                                 = 21 bytes + payload
 *                    the header crc covers the 17 header bytes after it; the payload crc the
 *                    payload. A header that checks out makes the length trustworthy, so a
 *                    torn record's payload is never searched for records (it may hold any
 *                    bytes, a WAL frame included)
 * All integers big-endian. A kind of 0 is never written, so zero-filled space never parses as
 * a record. Indexes are JavaScript safe integers (as in src/raft), stored as u64.
 */
import { crc32 } from './crc32.js';
import { WalError } from './errors.js';

export const SEGMENT_MAGIC = Buffer.from('CAIRNWAL', 'latin1');
export const WAL_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 21;
/** Largest payload one record may carry. Part of format version 1 (the open-time scan uses it
 * to tell a plausible record from garbage), so it is a constant, not an option. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
export const MAX_RECORD_KIND = 255;
/** High 32-bit word of a u64 that is still a safe integer: below 2^53. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;
const TWO_POW_32 = 0x1_0000_0000;

/** One entry of the log: an opaque payload with a caller-chosen kind (1..255) and index. */
export interface WalRecord {
  readonly kind: number;
  readonly index: number;
  readonly data: Uint8Array;
}

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

export function segmentFileName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

export function parseSegmentFileName(name: string): { seq: number; firstIndex: number } | null {
  const m = SEGMENT_NAME.exec(name);
  if (m === null) return null;
  const seq = parseInt(m[1], 16);
  const firstIndex = parseInt(m[2], 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex)) return null;
  return { seq, firstIndex };
}

function writeU64(buf: Buffer, pos: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_POW_32), pos);
  buf.writeUInt32BE(n >>> 0, pos + 4);
}

/** Reads a u64; returns -1 when it is not a safe integer. */
function readU64(buf: Buffer, pos: number): number {
  const high = buf.readUInt32BE(pos);
  if (high > MAX_SAFE_HIGH_WORD) return -1;
  return high * TWO_POW_32 + buf.readUInt32BE(pos + 4);
}

export function encodeSegmentHeader(seq: number, firstIndex: number): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(buf, 0);
  buf.writeUInt32BE(WAL_FORMAT_VERSION, 8);
  writeU64(buf, 12, seq);
  writeU64(buf, 20, firstIndex);
  buf.writeUInt32BE(crc32(buf.subarray(0, 28)), 28);
  return buf;
}

/** Checks a segment's header (magic, then version, then CRC) and returns what it says. */
export function checkSegmentHeader(buf: Buffer, file: string): { seq: number; firstIndex: number } {
  if (buf.length < SEGMENT_HEADER_BYTES) {
    throw new WalError('Corrupt', `WAL segment ${file}: header cut short at byte offset ${buf.length} (expected ${SEGMENT_HEADER_BYTES} bytes)`);
  }
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) {
    throw new WalError('Corrupt', `WAL segment ${file}: bad magic at byte offset 0, not a Cairn WAL segment`);
  }
  const version = buf.readUInt32BE(8);
  if (version !== WAL_FORMAT_VERSION) {
    throw new WalError('UnsupportedVersion',
      `WAL segment ${file}: format version ${version} at byte offset 8; this build of Cairn reads WAL format version ${WAL_FORMAT_VERSION} only (run the Cairn release that wrote this data dir, or restore from a snapshot)`);
  }
  if (crc32(buf.subarray(0, 28)) !== buf.readUInt32BE(28)) {
    throw new WalError('Corrupt', `WAL segment ${file}: header CRC mismatch at byte offset 28`);
  }
  const seq = readU64(buf, 12);
  const firstIndex = readU64(buf, 20);
  if (seq < 0 || firstIndex < 0) throw new WalError('Corrupt', `WAL segment ${file}: header numbers out of range at byte offset 12`);
  return { seq, firstIndex };
}

export function recordSizeBytes(r: WalRecord): number {
  return RECORD_HEADER_BYTES + r.data.length;
}

/** Checks what a caller may append: a kind in 1..255, a safe index, a bounded payload. */
export function checkRecordArgument(r: WalRecord): void {
  if (!Number.isInteger(r.kind) || r.kind < 1 || r.kind > MAX_RECORD_KIND) {
    throw new WalError('InvalidArgument', `WAL record kind ${r.kind} is not in 1..${MAX_RECORD_KIND}`);
  }
  if (!Number.isSafeInteger(r.index) || r.index < 0) throw new WalError('InvalidArgument', `WAL record index ${r.index}`);
  if (r.data.length > MAX_RECORD_BYTES) {
    throw new WalError('InvalidArgument', `WAL record of ${r.data.length} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`);
  }
}

/** Writes `r` framed at `pos` of `buf` (which has room) and returns the position after it. */
export function encodeRecordInto(buf: Buffer, pos: number, r: WalRecord): number {
  const len = r.data.length;
  buf.set(r.data, pos + RECORD_HEADER_BYTES);
  const end = pos + RECORD_HEADER_BYTES + len;
  buf.writeUInt32BE(crc32(buf.subarray(pos + RECORD_HEADER_BYTES, end)), pos + 4);
  buf.writeUInt32BE(len, pos + 8);
  buf.writeUInt8(r.kind, pos + 12);
  writeU64(buf, pos + 13, r.index);
  buf.writeUInt32BE(crc32(buf.subarray(pos + 4, pos + RECORD_HEADER_BYTES)), pos);
  return end;
}

export type ParsedRecord =
  | { readonly ok: true; readonly record: WalRecord; readonly next: number }
  /** `claimedEnd`: where the record would end, when its header checked out (else -1). */
  | { readonly ok: false; readonly reason: string; readonly claimedEnd: number };

function headerLooksPlausible(buf: Buffer, pos: number): boolean {
  return buf[pos + 12] !== 0 && buf.readUInt32BE(pos + 8) <= MAX_RECORD_BYTES;
}

function headerCrcMatches(buf: Buffer, pos: number): boolean {
  return crc32(buf.subarray(pos + 4, pos + RECORD_HEADER_BYTES)) === buf.readUInt32BE(pos);
}

/**
 * Parses the record framed at `pos`. The payload is a view into `buf` (no copy). Failure
 * reasons say what was wrong, for the error or log line naming the offset.
 */
export function parseRecordAt(buf: Buffer, pos: number): ParsedRecord {
  const remaining = buf.length - pos;
  if (remaining < RECORD_HEADER_BYTES) {
    return { ok: false, reason: `record header cut short (${remaining} of ${RECORD_HEADER_BYTES} bytes)`, claimedEnd: -1 };
  }
  if (buf[pos + 12] === 0) return { ok: false, reason: 'record kind 0 (zero-filled space)', claimedEnd: -1 };
  if (!headerLooksPlausible(buf, pos) || !headerCrcMatches(buf, pos)) {
    return { ok: false, reason: 'record header CRC mismatch', claimedEnd: -1 };
  }
  const len = buf.readUInt32BE(pos + 8);
  const end = pos + RECORD_HEADER_BYTES + len;
  if (end > buf.length) return { ok: false, reason: `record of ${len} payload bytes runs past the end of the file`, claimedEnd: end };
  const data = buf.subarray(pos + RECORD_HEADER_BYTES, end);
  if (crc32(data) !== buf.readUInt32BE(pos + 4)) return { ok: false, reason: 'record payload CRC mismatch', claimedEnd: end };
  const index = readU64(buf, pos + 13);
  if (index < 0) return { ok: false, reason: 'record index beyond 2^53', claimedEnd: end };
  return { ok: true, record: { kind: buf[pos + 12], index, data }, next: end };
}

/**
 * Where the first valid record after `from` starts (-1 if none). Used after a record fails:
 * a valid record after the damage means the damage is in the middle of the log (refuse), none
 * means a torn tail (cut). Cheap checks (kind, length) reject most offsets before a CRC runs.
 */
export function findValidRecordAfter(buf: Buffer, from: number): number {
  const last = buf.length - RECORD_HEADER_BYTES;
  for (let pos = from + 1; pos <= last; pos++) {
    if (!headerLooksPlausible(buf, pos)) continue;
    if (pos + RECORD_HEADER_BYTES + buf.readUInt32BE(pos + 8) > buf.length) continue;
    if (parseRecordAt(buf, pos).ok) return pos;
  }
  return -1;
}
