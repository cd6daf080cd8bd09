/**
 * Errors of the write-ahead log and the snapshot files, as values with a kind.
 *
 * Owns: WalError and its kinds, and the small logger interface the WAL reports through.
 * Must never: reach a client as is — these are operator-facing (a data dir that cannot be
 * opened, a disk that failed); the server logs them and stops, or maps them to an internal
 * error. Messages name the file and byte offset so an operator can find the damage.
 */

export type WalErrorKind =
  /** A record or header in the middle of the log failed its checks (CRC, length, kind). */
  | 'Corrupt'
  /** A file was written by a format version this build cannot read. */
  | 'UnsupportedVersion'
  /** A segment is missing from the sequence, or names disagree with headers. */
  | 'MissingSegment'
  /** A write or fsync failed earlier: the log's state on disk is unknown, so it refuses all
   * further work (retrying an fsync after a failure can report success for lost data). */
  | 'Failed'
  /** Used after close(). */
  | 'Closed'
  /** More bytes appended without a sync than the pending buffer allows. */
  | 'BufferFull'
  /** A caller passed something out of range (a kind, an index, a record too large). */
  | 'InvalidArgument';

export class WalError extends Error {
  readonly kind: WalErrorKind;

  constructor(kind: WalErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WalError';
    this.kind = kind;
  }
}

export function isWalError(e: unknown, kind?: WalErrorKind): e is WalError {
  return e instanceof WalError && (kind === undefined || e.kind === kind);
}

/** What the WAL logs through: a subset of pino's Logger, so a pino logger fits as is. */
export interface WalLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export const SILENT_LOGGER: WalLogger = { info() {}, warn() {} };
