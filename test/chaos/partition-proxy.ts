/**
 * Network partitions between cluster members without root or iptables: every member advertises
 * a peer URL that is a TCP proxy owned by the test, which forwards to the member's real peer
 * port. The proxy reads the first request head of each connection to learn the sender (Cairn's
 * `x-cairn-from` member-ID header), so it knows which ordered pair each connection carries.
 * Cutting a pair destroys its open connections and black-holes new ones (they are accepted,
 * their bytes discarded, nothing answered) until the pair is healed — what a dropped link looks
 * like to the sender: requests time out.
 *
 * Owns: the proxy listeners and the sockets they accept or open. Must never: touch traffic
 * other than the peer connections of the cluster it serves, or hold more than
 * `maxHeldSocketsPerProxy` black-holed sockets (extra ones are reset at once).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A request head larger than this is not ours: the connection is forwarded unidentified. */
const maxHeadBytes = 16 * 1024;
const maxHeldSocketsPerProxy = 256;
const fromHeader = /\r\nx-cairn-from:\s*([0-9a-fA-F]{1,16})\s*\r\n/i;

interface Link {
  readonly from: string | null; // sender member ID (hex), null when not identified
  readonly client: Socket;
  upstream: Socket | null;
}

/** One proxy in front of one member's peer port. */
class MemberProxy {
  readonly links = new Set<Link>();
  readonly held = new Set<Socket>();
  private server: Server | null = null;

  constructor(
    readonly memberName: string,
    private readonly upstreamPort: number,
    private readonly blocked: (from: string | null, toName: string) => boolean,
  ) {}

  listen(port: number): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < maxHeadBytes) return;
      client.off('data', onData);
      client.pause();
      const match = fromHeader.exec(head.subarray(0, end < 0 ? head.length : end + 2).toString('latin1'));
      this.route(client, match ? match[1].toLowerCase() : null, head);
    };
    client.on('data', onData);
  }

  private route(client: Socket, from: string | null, head: Buffer): void {
    if (this.blocked(from, this.memberName)) {
      this.hold(client);
      return;
    }
    const link: Link = { from, client, upstream: null };
    this.links.add(link);
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    link.upstream = upstream;
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const forget = (): void => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', forget);
    upstream.once('close', forget);
    upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }

  private hold(client: Socket): void {
    if (this.held.size >= maxHeldSocketsPerProxy) {
      client.destroy();
      return;
    }
    this.held.add(client);
    client.on('data', () => undefined); // discard
    client.resume();
    client.once('close', () => this.held.delete(client));
  }

  /** Destroy the open connections that a cut now blocks. */
  enforce(): void {
    for (const link of this.links) {
      if (this.blocked(link.from, this.memberName)) {
        link.client.destroy();
        link.upstream?.destroy();
        this.links.delete(link);
      }
    }
  }

  /** Reset black-holed sockets so their senders reconnect (after a heal). */
  releaseHeld(): void {
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    this.releaseHeld();
    for (const link of this.links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    this.links.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * The proxies of a whole cluster and the current cut. Members are named by their names; the
 * member IDs (hex, as in the `x-cairn-from` header) are taught with `setMemberIds` once known.
 */
export class PartitionProxies {
  private readonly proxies = new Map<string, MemberProxy>();
  private readonly idToName = new Map<string, string>();
  /** Unordered pairs "a|b" (names sorted) that cannot talk. */
  private readonly cut = new Set<string>();

  add(name: string, upstreamPort: number): void {
    this.proxies.set(name, new MemberProxy(name, upstreamPort, (from, to) => this.isCut(from, to)));
  }

  listen(name: string, port: number): Promise<void> {
    return this.proxies.get(name)!.listen(port);
  }

  setMemberIds(ids: ReadonlyMap<string, string>): void {
    for (const [name, id] of ids) this.idToName.set(id.toLowerCase(), name);
  }

  private isCut(fromId: string | null, toName: string): boolean {
    if (fromId === null) return false;
    const fromName = this.idToName.get(fromId);
    if (fromName === undefined) return false;
    return this.cut.has(pairKey(fromName, toName));
  }

  /** Split the members into groups that can talk only within themselves. */
  partition(groups: ReadonlyArray<readonly string[]>): void {
    this.cut.clear();
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i]) for (const b of groups[j]) this.cut.add(pairKey(a, b));
      }
    }
    for (const p of this.proxies.values()) p.enforce();
  }

  heal(): void {
    this.cut.clear();
    for (const p of this.proxies.values()) p.releaseHeld();
  }

  isPartitioned(): boolean {
    return this.cut.size > 0;
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
