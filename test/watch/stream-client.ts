/**
 * A client for etcd's gateway streams (/v3/watch, /v3/lease/keepalive) as tests need it: send
 * request objects on a request body that stays open, read `{"result": ...}` lines as they come,
 * wait for a count or for quiet, close. Also a raw-socket reader that returns each HTTP chunk
 * of a chunked response separately (to check one message per chunk).
 *
 * Owns its sockets; every wait has a deadline so a test fails instead of hanging.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';

export interface StreamMessage {
  result?: any;
  error?: any;
  [k: string]: any;
}

export class GatewayStreamClient {
  readonly messages: StreamMessage[] = [];
  status = 0;
  rawBody = '';
  ended = false;
  private buf = '';
  private waiters: Array<() => void> = [];
  private readonly req: ClientRequest;
  private res?: IncomingMessage;
  private lastMessageMs = Date.now();

  constructor(url: string, path: string, first?: unknown[]) {
    const u = new URL(path, url);
    this.req = request(u, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    this.req.on('error', () => { this.ended = true; this.wake(); });
    this.req.on('response', (res) => {
      this.res = res;
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => this.onData(c));
      res.on('end', () => { this.ended = true; this.wake(); });
      res.on('error', () => { this.ended = true; this.wake(); });
    });
    for (const m of first ?? []) this.send(m);
    this.req.flushHeaders();
  }

  /** Writes one request object (or raw text) on the open request body. */
  send(m: unknown): void {
    this.req.write(typeof m === 'string' ? m : JSON.stringify(m));
  }

  endRequest(): void {
    this.req.end();
  }

  private onData(c: string): void {
    this.rawBody += c;
    this.buf += c;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() !== '') this.messages.push(JSON.parse(line));
      this.lastMessageMs = Date.now();
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private waitAny(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  /** Resolves once `n` messages arrived; throws after `timeoutMs`. */
  async waitFor(n: number, timeoutMs = 10_000): Promise<StreamMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n) {
      if (this.ended) throw new Error(`stream ended after ${this.messages.length} of ${n} messages: ${this.rawBody.slice(0, 500)}`);
      if (Date.now() > deadline) throw new Error(`only ${this.messages.length} of ${n} messages after ${timeoutMs} ms: ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await this.waitAny(50);
    }
    return this.messages;
  }

  /** Resolves when no message came for `quietMs` (and at least `minMs` passed). */
  async settle(quietMs = 300, timeoutMs = 10_000): Promise<StreamMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() - this.lastMessageMs < quietMs && !this.ended) {
      if (Date.now() > deadline) throw new Error('stream never went quiet');
      await this.waitAny(quietMs / 3);
    }
    return this.messages;
  }

  /** Resolves when the response ends. */
  async waitEnd(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error(`response still open after ${timeoutMs} ms`);
      await this.waitAny(50);
    }
  }

  close(): void {
    this.req.destroy();
    this.res?.destroy();
  }
}

/**
 * POSTs `body` on a raw socket and returns the HTTP status and each chunk of the chunked
 * response body separately, once `chunks` chunks arrived or the response ended.
 */
export function rawChunks(url: string, path: string, body: string, chunks: number, timeoutMs = 5_000): Promise<{ head: string; chunks: string[] }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    let data = Buffer.alloc(0);
    const out: string[] = [];
    let head = '';
    const finish = () => { clearTimeout(t); sock.destroy(); resolve({ head, chunks: out }); };
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`raw: ${out.length} chunks after ${timeoutMs} ms; head ${head}`)); }, timeoutMs);
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      if (!head) {
        const i = data.indexOf('\r\n\r\n');
        if (i < 0) return;
        head = data.subarray(0, i).toString();
        data = data.subarray(i + 4);
      }
      for (;;) {
        const i = data.indexOf('\r\n');
        if (i < 0) return;
        const size = parseInt(data.subarray(0, i).toString(), 16);
        if (size === 0) return finish();
        if (data.length < i + 2 + size + 2) return;
        out.push(data.subarray(i + 2, i + 2 + size).toString());
        data = data.subarray(i + 2 + size + 2);
        if (out.length >= chunks) return finish();
      }
    });
    sock.on('error', reject);
    sock.write(`POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}
