/**
 * Auth tokens, as etcd's `--auth-token` selects them:
 *
 * - simple: 16 random letters and a sequence number. The member that authenticates picks the
 *   token and proposes it, so every member learns it when it applies the entry; each keeps it
 *   in memory while it is used, for `--auth-token-ttl` seconds after its last use (etcd's
 *   sliding TTL). Changing a user's password or deleting the user drops its tokens; disabling
 *   auth drops them all. A restart forgets them (clients authenticate again), as etcd.
 * - jwt: a JSON Web Token signed with the configured key (RS*, PS*, ES*, EdDSA, or HS* with a
 *   shared secret), carrying the user name, the auth revision and an expiry. Any member with
 *   the key verifies it; nothing is stored. Done with Node's crypto: the format is three base64url
 *   parts and one signature call, not worth a dependency.
 *
 * Must never accept a token whose signature, algorithm or expiry does not check out, and never
 * hold more than `maxSimpleTokens` tokens (the oldest go first).
 */
import {
  createHmac, createPrivateKey, createPublicKey, randomInt, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify,
  constants, type KeyObject,
} from 'node:crypto';

export interface SimpleTokenOptions {
  ttlMs: number;
  /** Tokens kept at once; past it the least recently used is dropped. */
  maxSimpleTokens?: number;
  now?: () => number;
}

export const DEFAULT_MAX_SIMPLE_TOKENS = 100_000;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The simple tokens this member knows, each with the time it lapses. */
export class SimpleTokens {
  private readonly tokens = new Map<string, { user: string; expiresAtMs: number }>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;
  private sequence = 0;

  constructor(opts: SimpleTokenOptions) {
    this.ttlMs = opts.ttlMs;
    this.max = opts.maxSimpleTokens ?? DEFAULT_MAX_SIMPLE_TOKENS;
    this.now = opts.now ?? Date.now;
  }

  /** A fresh token text (not yet known: `register` it when its entry applies). */
  newToken(): string {
    let s = '';
    for (let i = 0; i < 16; i++) s += LETTERS[randomInt(LETTERS.length)];
    return `${s}.${++this.sequence}`;
  }

  /** `issuedAtMs`: when the proposing member issued it; a token already past its TTL is not kept. */
  register(token: string, user: string, issuedAtMs?: number): void {
    const now = this.now();
    const expiresAtMs = Math.min(now, issuedAtMs ?? now) + this.ttlMs;
    if (expiresAtMs <= now) return;
    this.tokens.delete(token);
    this.tokens.set(token, { user, expiresAtMs });
    while (this.tokens.size > this.max) this.tokens.delete(this.tokens.keys().next().value as string);
  }

  /** The user of a live token (and its TTL starts again), or null. */
  lookup(token: string): string | null {
    const t = this.tokens.get(token);
    if (!t) return null;
    const now = this.now();
    if (t.expiresAtMs <= now) {
      this.tokens.delete(token);
      return null;
    }
    this.tokens.delete(token);
    this.tokens.set(token, { user: t.user, expiresAtMs: now + this.ttlMs });
    return t.user;
  }

  invalidateUser(user: string): void {
    for (const [token, t] of this.tokens) if (t.user === user) this.tokens.delete(token);
  }

  clear(): void {
    this.tokens.clear();
  }

  get size(): number {
    return this.tokens.size;
  }
}

export type JwtAlgorithm =
  | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512'
  | 'HS256' | 'HS384' | 'HS512' | 'EdDSA';

export interface JwtOptions {
  algorithm: JwtAlgorithm;
  /** PEM text: the private key (or, for HS*, the shared secret). Null: this member only verifies. */
  privateKey: string | Buffer | null;
  /** PEM text of the public key (unused for HS*). */
  publicKey: string | Buffer | null;
  ttlMs: number;
  now?: () => number;
}

export interface JwtClaims {
  username: string;
  revision: bigint;
}

const b64url = (b: Buffer): string => b.toString('base64url');

function hashOf(alg: JwtAlgorithm): string | null {
  if (alg === 'EdDSA') return null;
  return `sha${alg.slice(2)}`;
}

/** Signs and verifies etcd-style JWTs (claims `username`, `revision`, `exp`). */
export class JwtTokens {
  private readonly signKey: KeyObject | Buffer | null;
  private readonly verifyKey: KeyObject | Buffer;
  private readonly now: () => number;

  constructor(private readonly opts: JwtOptions) {
    this.now = opts.now ?? Date.now;
    if (opts.algorithm.startsWith('HS')) {
      const secret = opts.privateKey ?? opts.publicKey;
      if (secret === null) throw new Error('jwt: HS* signing needs the shared secret as priv-key');
      this.signKey = Buffer.from(secret);
      this.verifyKey = this.signKey;
    } else {
      this.signKey = opts.privateKey === null ? null : createPrivateKey(opts.privateKey);
      if (opts.publicKey !== null) this.verifyKey = createPublicKey(opts.publicKey);
      else if (this.signKey !== null) this.verifyKey = createPublicKey(this.signKey as KeyObject);
      else throw new Error('jwt: a pub-key or a priv-key is needed');
    }
  }

  get canSign(): boolean {
    return this.signKey !== null;
  }

  sign(claims: JwtClaims): string {
    if (this.signKey === null) throw new Error('jwt: this member has no private key to sign tokens');
    const header = b64url(Buffer.from(JSON.stringify({ alg: this.opts.algorithm, typ: 'JWT' })));
    const exp = Math.floor((this.now() + this.opts.ttlMs) / 1000);
    const payload = b64url(Buffer.from(JSON.stringify({ username: claims.username, revision: Number(claims.revision), exp })));
    const data = Buffer.from(`${header}.${payload}`);
    return `${header}.${payload}.${b64url(this.signature(data))}`;
  }

  /** The claims of a valid, unexpired token of the configured algorithm, or null. */
  verify(token: string): JwtClaims | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: unknown };
      if (header.alg !== this.opts.algorithm) return null;
      const data = Buffer.from(`${parts[0]}.${parts[1]}`);
      if (!this.checkSignature(data, Buffer.from(parts[2], 'base64url'))) return null;
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { username?: unknown; revision?: unknown; exp?: unknown };
      if (typeof claims.username !== 'string' || typeof claims.exp !== 'number') return null;
      if (claims.exp * 1000 <= this.now()) return null;
      const revision = typeof claims.revision === 'number' && Number.isSafeInteger(claims.revision) ? BigInt(claims.revision) : 0n;
      return { username: claims.username, revision };
    } catch {
      return null;
    }
  }

  private signature(data: Buffer): Buffer {
    const alg = this.opts.algorithm;
    const hash = hashOf(alg);
    if (alg.startsWith('HS')) return createHmac(hash!, this.signKey as Buffer).update(data).digest();
    return cryptoSign(hash, data, this.keyOptions(this.signKey as KeyObject));
  }

  private checkSignature(data: Buffer, sig: Buffer): boolean {
    const alg = this.opts.algorithm;
    if (alg.startsWith('HS')) {
      const expected = createHmac(hashOf(alg)!, this.verifyKey as Buffer).update(data).digest();
      return expected.length === sig.length && timingSafeEqual(expected, sig);
    }
    return cryptoVerify(hashOf(alg), data, this.keyOptions(this.verifyKey as KeyObject), sig);
  }

  private keyOptions(key: KeyObject) {
    const alg = this.opts.algorithm;
    if (alg.startsWith('PS')) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
    if (alg.startsWith('ES')) return { key, dsaEncoding: 'ieee-p1363' as const };
    return { key };
  }
}
