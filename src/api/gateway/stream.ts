/**
 * etcd's gateway streams over HTTP/1.1, both directions:
 *
 * - `JsonValueReader` reads the request body as JSON values back to back (`{...}{...}` or one
 *   per line), as grpc-gateway's decoder does, each bounded by `maxValueBytes`, and hands each
 *   (field names normalised) to the caller as it completes: a watch creates its watchers while
 *   the client is still sending.
 * - `GatewayStream` writes the chunked response: each message `{"result":{...}}\n` in exactly
 *   one HTTP chunk (clients parse chunk by chunk). Headers go out with the first message, as
 *   etcd's do, so an error in the first request can still be a plain 500 `{"error","code":2}`.
 *   It counts the bytes the socket has not taken yet; past `maxBufferedBytes` the stream is
 *   over its budget and the caller cancels (a slow consumer never holds unbounded memory).
 *
 * Owns the raw request and response of one hijacked call. Must never write after end, and
 * never buffer a request value past its bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CairnError, GrpcCode } from '../../errors/errors.js';
import { goJsonKind, normaliseFieldNames } from './json-body.js';

export type Json = Record<string, unknown>;

/** After a stream ends, how long a client may go on sending its request body. */
const UNFINISHED_BODY_GRACE_MS = 1_000;

/** The headers etcd's gateway sends on a stream (CORS as on every gateway answer). */
const STREAM_HEADERS = {
  'content-type': 'application/json',
  'grpc-metadata-content-type': 'application/grpc',
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'accept, content-type, authorization',
  'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'cache-control': 'no-cache',
} as const;

export class GatewayStream {
  private headSent = false;
  private ended = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly maxBufferedBytes: number,
  ) {
    res.on('close', () => {
      this.ended = true;
      for (const l of this.closeListeners.splice(0)) l();
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get headersSent(): boolean {
    return this.headSent;
  }

  /** Bytes written but not yet taken by the socket. */
  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  get overBudget(): boolean {
    return this.res.writableLength > this.maxBufferedBytes;
  }

  /** Half the budget used: catch-up should wait for a drain. */
  get backedUp(): boolean {
    return this.res.writableLength > this.maxBufferedBytes / 2;
  }

  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.closeListeners.push(listener);
  }

  onDrain(listener: () => void): void {
    this.res.once('drain', listener);
  }

  /** Writes `{"result": result}` and a newline as one chunk. */
  send(result: Json): void {
    if (this.ended) return;
    this.head();
    this.res.write(JSON.stringify({ result }) + '\n');
  }

  /** Before anything was sent: a plain error answer, as etcd's gateway gives. After: ends. */
  fail(err: unknown, status = 500): void {
    if (this.ended) return;
    if (!this.headSent) {
      const message = err instanceof Error ? err.message : String(err);
      const code = err instanceof CairnError && status !== 500 ? err.grpcCode : GrpcCode.Unknown;
      const body = JSON.stringify({ error: message, message, code });
      this.headSent = true;
      this.res.writeHead(status, { ...STREAM_HEADERS, 'content-length': Buffer.byteLength(body) });
      this.ended = true;
      this.res.end(body, () => this.dropUnfinishedRequest());
      return;
    }
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.head();
    this.ended = true;
    this.res.end(() => this.dropUnfinishedRequest());
  }

  /** A client still sending its body would keep the connection (and a closing server) busy:
   * read and drop the rest for a moment (so the client can read the answer), then cut it. */
  private dropUnfinishedRequest(): void {
    if (this.req.complete) return;
    this.req.resume();
    setTimeout(() => {
      if (!this.req.complete) this.req.socket.destroy();
    }, UNFINISHED_BODY_GRACE_MS).unref();
  }

  private head(): void {
    if (this.headSent) return;
    this.headSent = true;
    this.res.writeHead(200, STREAM_HEADERS);
    this.res.flushHeaders();
  }
}

export interface JsonValueHandlers {
  value(v: Json): void;
  /** A syntax or size error; nothing more is read. */
  error(e: CairnError): void;
  /** The body ended cleanly (after the last value). */
  end(): void;
}

/** Splits a byte stream into top-level JSON values without parsing twice. */
export class JsonValueReader {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private done = false;

  constructor(private readonly maxValueBytes: number, private readonly h: JsonValueHandlers) {}

  attach(req: IncomingMessage): void {
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => this.push(chunk));
    req.on('end', () => this.finish());
    req.on('error', () => this.finish());
  }

  push(chunk: string): void {
    if (this.done) return;
    const from = this.buf.length;
    this.buf += chunk;
    for (let i = from; i < this.buf.length && !this.done; i++) this.scan(i);
    if (this.done) return;
    if (this.start < 0) {
      this.buf = '';
    } else if (this.start > 0) {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
    }
    if (this.buf.length > this.maxValueBytes) this.fail(new CairnError('RequestTooLarge'));
  }

  finish(): void {
    if (this.done) return;
    if (this.start >= 0) this.fail(new CairnError('BadRequest', 'unexpected EOF'));
    else {
      this.done = true;
      this.h.end();
    }
  }

  private scan(i: number): void {
    const c = this.buf.charCodeAt(i);
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (c === 0x5c) this.escaped = true;
      else if (c === 0x22) this.inString = false;
      return;
    }
    if (this.start < 0) {
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) return;
      if (c !== 0x7b && c !== 0x5b) {
        this.fail(new CairnError('BadRequest', `invalid character '${this.buf[i]}' looking for beginning of value`));
        return;
      }
      this.start = i;
    }
    if (c === 0x22) this.inString = true;
    else if (c === 0x7b || c === 0x5b) this.depth++;
    else if (c === 0x7d || c === 0x5d) {
      this.depth--;
      if (this.depth === 0) this.complete(i);
    }
  }

  private complete(endIndex: number): void {
    const text = this.buf.slice(this.start, endIndex + 1);
    this.start = -1;
    if (text.length > this.maxValueBytes) {
      this.fail(new CairnError('RequestTooLarge'));
      return;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      this.fail(new CairnError('BadRequest', goSyntaxMessage(text, e as Error)));
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(new CairnError('BadRequest', `json: cannot unmarshal ${goJsonKind(v)} into Go value of type map[string]json.RawMessage`));
      return;
    }
    this.h.value(normaliseFieldNames(v) as Json);
  }

  private fail(e: CairnError): void {
    this.done = true;
    this.buf = '';
    this.h.error(e);
  }
}

function goSyntaxMessage(text: string, e: Error): string {
  const pos = /position (\d+)/.exec(e.message);
  const ch = pos ? text[Number(pos[1])] ?? '' : '';
  return `invalid character '${ch}' looking for beginning of value`;
}
