/**
 * Reading one segment file back: header, then records until the end, deciding for the first
 * record that fails its checks whether it is a torn tail (cut it) or damage inside the log
 * (refuse to open).
 *
 * Owns: the torn-versus-corrupt rule. Must never: write, or cut anything but the tail of the
 * last segment.
 *
 * The rule: a record that fails (short, CRC mismatch, impossible length, zero-filled) at
 * offset X is a torn tail when this is the last segment and no valid record starts anywhere
 * after X in the file (after the record's claimed end, when its own header checks out). A crash leaves a prefix of what was being written (plus, after power
 * loss, zeros or stray sectors), never a valid record after the damage. A valid record after
 * X means bytes inside the durable log changed: cutting there would drop acknowledged
 * records, so the WAL refuses with the file name and offset instead. Damage in any segment
 * but the last is always refused: a segment is cut to its records and fsync'd before the next
 * is created.
 *
 * Zeros from a record boundary to the end of the last segment are not damage: the writer
 * preallocates space ahead of its writes (see wal.ts), so that is where the log simply ends.
 */
import {
  SEGMENT_HEADER_BYTES, checkSegmentHeader, findValidRecordAfter, parseRecordAt, type WalRecord,
} from './format.js';
import { WalError } from './errors.js';

export interface TornTail {
  /** Where the valid log ends: the file is cut to this length. */
  readonly offset: number;
  readonly bytesCut: number;
  readonly reason: string;
}

export interface ScannedSegment {
  readonly seq: number;
  readonly firstIndex: number;
  readonly records: WalRecord[];
  /** Byte length of the valid part (header and complete records). */
  readonly validBytes: number;
  readonly torn: TornTail | null;
  /** File length: the valid part plus preallocated zeros (0 extra when there are none). */
  readonly fileBytes: number;
}

const ZERO_CHUNK = Buffer.alloc(64 * 1024);

/** Whether buf[from..] is all zero bytes (compared natively, a chunk at a time). */
function isZeroFrom(buf: Buffer, from: number): boolean {
  for (let pos = from; pos < buf.length; pos += ZERO_CHUNK.length) {
    const end = Math.min(buf.length, pos + ZERO_CHUNK.length);
    if (!buf.subarray(pos, end).equals(ZERO_CHUNK.subarray(0, end - pos))) return false;
  }
  return true;
}

const REFUSAL_ADVICE = 'refusing to open the WAL: restore this member\'s data dir from a backup, or remove the member from the cluster and add it back empty so it catches up from the leader';

/** Scans a whole segment already read into memory. Record payloads are views into `buf`. */
export function scanSegment(buf: Buffer, file: string, isLast: boolean): ScannedSegment {
  const { seq, firstIndex } = checkSegmentHeader(buf, file);
  const records: WalRecord[] = [];
  let pos = SEGMENT_HEADER_BYTES;
  while (pos < buf.length) {
    const parsed = parseRecordAt(buf, pos);
    if (parsed.ok) {
      records.push(parsed.record);
      pos = parsed.next;
      continue;
    }
    if (isLast && isZeroFrom(buf, pos)) {
      return { seq, firstIndex, records, validBytes: pos, torn: null, fileBytes: buf.length };
    }
    // A record whose header checked out claims its extent: search after it, not inside its
    // payload (a torn payload may hold anything, WAL frames included).
    const searchFrom = parsed.claimedEnd > pos ? Math.min(parsed.claimedEnd, buf.length) - 1 : pos;
    const validAfter = findValidRecordAfter(buf, searchFrom);
    if (validAfter >= 0) {
      throw new WalError('Corrupt',
        `WAL segment ${file}: ${parsed.reason} at byte offset ${pos}, and a valid record follows at byte offset ${validAfter}: the log is damaged in the middle, not torn at its end; ${REFUSAL_ADVICE}`);
    }
    if (!isLast) {
      throw new WalError('Corrupt',
        `WAL segment ${file}: ${parsed.reason} at byte offset ${pos} in a segment that is not the last one: the log is damaged in the middle; ${REFUSAL_ADVICE}`);
    }
    const torn = { offset: pos, bytesCut: buf.length - pos, reason: parsed.reason };
    return { seq, firstIndex, records, validBytes: pos, torn, fileBytes: pos };
  }
  return { seq, firstIndex, records, validBytes: pos, torn: null, fileBytes: pos };
}
