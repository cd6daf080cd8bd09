/**
 * The logging surface the transport needs, and a rate limiter for lines a misbehaving peer
 * could otherwise repeat thousands of times a second.
 *
 * Owns: the TransportLogger shape (a structural subset of pino's Logger, so the server passes
 * its pino logger as is) and RateLimitedLog. Must never: log per message or per batch at a
 * level above debug; hold an unbounded number of rate-limit keys.
 */

type LogFn = (obj: object, msg: string) => void;

export interface TransportLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => {};
export const SILENT_LOGGER: TransportLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Keys remembered by one RateLimitedLog; past this the oldest key is forgotten. */
const MAX_RATE_LIMIT_KEYS = 256;

/**
 * Lets a line with a given key through at most once per `intervalMs`; counts what it
 * suppressed and reports the count with the next line that passes.
 */
export class RateLimitedLog {
  private readonly lastMs = new Map<string, { atMs: number; suppressed: number }>();

  constructor(private readonly intervalMs: number, private readonly nowMs: () => number = () => performance.now()) {}

  /** Calls `emit(suppressedSinceLast)` if the key's interval has passed; otherwise counts. */
  maybe(key: string, emit: (suppressed: number) => void): void {
    const now = this.nowMs();
    const seen = this.lastMs.get(key);
    if (seen !== undefined && now - seen.atMs < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    if (seen === undefined && this.lastMs.size >= MAX_RATE_LIMIT_KEYS) {
      const oldest = this.lastMs.keys().next().value as string;
      this.lastMs.delete(oldest);
    }
    this.lastMs.delete(key);
    this.lastMs.set(key, { atMs: now, suppressed: 0 });
    emit(seen?.suppressed ?? 0);
  }
}
