/**
 * The HTTP side of cairnctl: one keep-alive connection pool (undici) to the endpoints given,
 * unary JSON calls and newline-delimited JSON streams against etcd's v3 gateway, failover to
 * the next endpoint on connection errors, the command deadline, TLS, and the auth token.
 *
 * Must never: interpret a response body beyond turning gateway errors into `GatewayError`
 * (decoding is ./codec.ts), print anything, or retry a request the server has answered.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Agent } from 'undici';

/** undici, loaded on first use: it costs as much start-up time as the rest of cairnctl. */
type Undici = typeof import('undici');
let undiciModule: Promise<Undici> | null = null;
function loadUndici(): Promise<Undici> {
  undiciModule ??= import('undici');
  return undiciModule;
}
import { CliExit, ExitCode } from '../exit.js';

export interface TlsOptions { caFile?: string; certFile?: string; keyFile?: string; insecureSkipVerify?: boolean }

export interface ClientOptions {
  endpoints: string[];
  dialTimeoutMs: number;
  commandTimeoutMs: number;
  tls: TlsOptions;
  /** `name:password`; authenticate once before the first call. */
  user?: { name: string; password: string };
}

/** An error answered by the server in the gateway's shape: `{error, message, code}`. */
export class GatewayError extends Error {
  readonly grpcCode: number;
  readonly httpStatus: number;
  constructor(message: string, grpcCode: number, httpStatus: number) {
    super(message);
    this.name = 'GatewayError';
    this.grpcCode = grpcCode;
    this.httpStatus = httpStatus;
  }
}

/** The wait between rounds over all endpoints when none accepts a connection. */
const retryPauseMs = 100;
/** A streamed line longer than this is a broken server: stop rather than buffer without end. */
const maxStreamLineBytes = 64 * 1024 * 1024;

const connectionErrorCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

export function isConnectionError(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && connectionErrorCodes.has(code)) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** `127.0.0.1:2379` → `http://127.0.0.1:2379` (https when TLS flags are given), as etcdctl. */
export function endpointUrl(endpoint: string, tls: TlsOptions): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) return endpoint.replace(/^unix(s)?:/, 'http$1:').replace(/\/+$/, '');
  const secure = Boolean(tls.caFile || tls.certFile || tls.keyFile || tls.insecureSkipVerify);
  return `${secure ? 'https' : 'http'}://${endpoint}`.replace(/\/+$/, '');
}

function deadlineExceeded(): CliExit {
  return new CliExit(ExitCode.Error, 'context deadline exceeded');
}

export class GatewayClient {
  readonly endpoints: string[];
  private readonly opts: ClientOptions;
  private readonly agent: Agent;
  private readonly request: Undici['request'];
  private token: string | null = null;
  /** The endpoint that answered last: later calls start there (etcdctl sticks to one too). */
  private preferred = 0;

  /** Builds a client (loading undici on first use). */
  static async create(opts: ClientOptions): Promise<GatewayClient> {
    return new GatewayClient(opts, await loadUndici());
  }

  private constructor(opts: ClientOptions, undici: Undici) {
    this.opts = opts;
    this.endpoints = opts.endpoints;
    this.request = undici.request;
    const t = opts.tls;
    this.agent = new undici.Agent({
      connect: {
        timeout: opts.dialTimeoutMs,
        ca: t.caFile ? readFileSync(t.caFile) : undefined,
        cert: t.certFile ? readFileSync(t.certFile) : undefined,
        key: t.keyFile ? readFileSync(t.keyFile) : undefined,
        rejectUnauthorized: !t.insecureSkipVerify,
      },
      keepAliveTimeout: 10_000,
    });
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }

  /** A unary call with failover; resolves with the parsed JSON body. */
  async call(path: string, body: unknown, timeoutMs = this.opts.commandTimeoutMs): Promise<unknown> {
    await this.ensureToken();
    return this.withFailover(timeoutMs, (ep, signal) => this.post(ep, path, body, signal));
  }

  /**
   * A unary call that may block for long (lock, campaign): no command deadline, ended only by
   * `signal`. Connection failures still fail over to the next endpoint.
   */
  async callUntil(path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    await this.ensureToken();
    return this.retryConnect(signal, async () => {
      let lastError: unknown;
      for (let i = 0; i < this.endpoints.length; i++) {
        const idx = (this.preferred + i) % this.endpoints.length;
        try {
          const r = await this.post(this.endpoints[idx], path, body, signal);
          this.preferred = idx;
          return r;
        } catch (e) {
          if (!isConnectionError(e)) throw e;
          lastError = e;
        }
      }
      throw lastError;
    });
  }

  /** A unary call on one endpoint only (endpoint status, health, defrag of each member). */
  async callOn(endpoint: string, path: string, body: unknown, timeoutMs = this.opts.commandTimeoutMs): Promise<unknown> {
    await this.ensureToken();
    return this.withDeadline(timeoutMs, (signal) => this.retryConnect(signal, () => this.post(endpoint, path, body, signal)));
  }

  /**
   * A streaming call: `requests` are written to the request body as they come (the body stays
   * open until the iterable ends), and every `{"result": ...}` line of the answer is yielded.
   * Ends when the server ends the response or `signal` aborts.
   */
  async *stream(path: string, requests: AsyncIterable<unknown>, signal: AbortSignal): AsyncGenerator<unknown> {
    await this.ensureToken();
    const body = new PassThrough();
    const feeding = (async () => {
      try {
        for await (const r of requests) body.write(JSON.stringify(r) + '\n');
      } catch { /* the consumer ended the stream */ }
      body.end();
    })();
    const res = await this.withDeadline(this.opts.dialTimeoutMs + this.opts.commandTimeoutMs, (dialSignal) =>
      this.retryConnect(dialSignal, () => this.open(path, body, signal)));
    try {
      yield* readJsonLines(res.body, signal);
    } finally {
      body.destroy();
      res.body.destroy();
      await feeding.catch(() => undefined);
    }
  }

  private async open(path: string, body: PassThrough, signal: AbortSignal) {
    let lastError: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const ep = this.endpoints[(this.preferred + i) % this.endpoints.length];
      try {
        const res = await this.request(endpointUrl(ep, this.opts.tls) + path, {
          method: 'POST', body, headers: this.headers(), dispatcher: this.agent, signal,
          headersTimeout: 0, bodyTimeout: 0,
        });
        if (res.statusCode !== 200) throw await errorOf(res.statusCode, await res.body.text(), path);
        this.preferred = this.endpoints.indexOf(ep);
        return res;
      } catch (e) {
        if (!isConnectionError(e)) throw e;
        lastError = e;
      }
    }
    throw lastError;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) h.authorization = this.token;
    return h;
  }

  private async post(endpoint: string, path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const res = await this.request(endpointUrl(endpoint, this.opts.tls) + path, {
      method: 'POST', body: JSON.stringify(body ?? {}), headers: this.headers(), dispatcher: this.agent, signal,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw await errorOf(res.statusCode, text, path);
    return text === '' ? {} : JSON.parse(text);
  }

  private async withFailover<R>(timeoutMs: number, fn: (ep: string, signal: AbortSignal) => Promise<R>): Promise<R> {
    return this.withDeadline(timeoutMs, (signal) => this.retryConnect(signal, async () => {
      let lastError: unknown;
      for (let i = 0; i < this.endpoints.length; i++) {
        const idx = (this.preferred + i) % this.endpoints.length;
        try {
          const r = await fn(this.endpoints[idx], signal);
          this.preferred = idx;
          return r;
        } catch (e) {
          if (!isConnectionError(e)) throw e;
          lastError = e;
        }
      }
      throw lastError;
    }));
  }

  /** Repeats `fn` while it fails to connect, until `signal` (the command deadline) fires. */
  private async retryConnect<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R> {
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (!isConnectionError(e) || signal.aborted) throw e;
        await new Promise((r) => setTimeout(r, retryPauseMs));
        if (signal.aborted) throw deadlineExceeded();
      }
    }
  }

  private async withDeadline<R>(timeoutMs: number, fn: (signal: AbortSignal) => Promise<R>): Promise<R> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      return await fn(ctl.signal);
    } catch (e) {
      if (ctl.signal.aborted && !(e instanceof GatewayError)) throw deadlineExceeded();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private async ensureToken(): Promise<void> {
    const user = this.opts.user;
    if (!user || this.token !== null) return;
    this.token = '';
    // etcdctl authenticates while creating its client: a failure there exits 2 (bad connection).
    const r = await this.withFailover(this.opts.commandTimeoutMs, (ep, signal) =>
      this.post(ep, '/v3/auth/authenticate', { name: user.name, password: user.password }, signal))
      .catch((e: unknown) => { throw e instanceof GatewayError ? new CliExit(ExitCode.BadConnection, e.message) : e; });
    const token = (r as { token?: unknown }).token;
    this.token = typeof token === 'string' ? token : '';
  }
}

/** Turns a non-200 answer into an error: the gateway's JSON error, or a missing route. */
async function errorOf(status: number, text: string, path: string): Promise<Error> {
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown; code?: unknown };
    const inner = typeof j.error === 'object' && j.error !== null ? (j.error as Record<string, unknown>) : null;
    const message = inner ? inner.message : (j.message ?? j.error);
    const code = inner ? inner.grpc_code : j.code;
    if (typeof message === 'string') return new GatewayError(message, Number(code ?? 2), status);
  } catch { /* not JSON: a route the server does not have */ }
  if (status === 404 || status === 405 || status === 501) {
    return new CliExit(ExitCode.BadFeature, `the server does not serve POST ${path} (HTTP ${status} ${text.trim()})`);
  }
  return new GatewayError(`unexpected HTTP ${status}: ${text.trim().slice(0, 200)}`, 2, status);
}

/** Splits a chunked response into JSON lines and yields each message's `result`. */
async function* readJsonLines(body: AsyncIterable<Buffer>, signal: AbortSignal): AsyncGenerator<unknown> {
  let pending = '';
  for await (const chunk of body) {
    if (signal.aborted) return;
    pending += chunk.toString('utf8');
    if (pending.length > maxStreamLineBytes) throw new Error('stream message too large');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== '') yield streamMessage(line);
    }
  }
  if (pending.trim() !== '') yield streamMessage(pending.trim());
}

function streamMessage(line: string): unknown {
  const msg = JSON.parse(line) as { result?: unknown; error?: unknown };
  if (msg.error !== undefined) {
    const e = (typeof msg.error === 'object' && msg.error !== null ? msg.error : { message: msg.error }) as Record<string, unknown>;
    throw new GatewayError(String(e.message ?? 'stream error'), Number(e.grpc_code ?? e.code ?? 2), Number(e.http_code ?? 500));
  }
  return msg.result ?? {};
}
