/**
 * The member's auth operations, as the API calls them: turning an `Authorization` token (or a
 * client certificate's common name) into a caller; authenticate; the user and role changes,
 * which are proposed through the log with the caller and decided when they apply (so every
 * member makes the same decision at the same point); and the reads (user get/list, role
 * get/list, status), answered from this member's applied state after a read barrier.
 *
 * Passwords are hashed here, before anything is proposed: the log, the table and the logs of
 * the process never see one. Knows nothing of HTTP.
 */
import { CairnError } from '../errors/errors.js';
import type { AuthStore, Role } from '../auth/auth-store.js';
import { hashPassword, type ScryptCost } from '../auth/password.js';
import type { Permission } from '../auth/permissions.js';
import { JwtTokens, SimpleTokens, type JwtAlgorithm } from '../auth/tokens.js';
import type { AuthOp, RequestCaller, ServerOutcome, ServerRequest } from './requests.js';

export interface AuthHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

export interface AuthServiceDeps {
  propose(r: ServerRequest): Promise<ServerOutcome>;
  readBarrier(): Promise<void>;
  header(revision?: bigint): AuthHeader;
  /** Where passwords are hashed (tests lower the cost). */
  scryptCost?: ScryptCost;
}

/** How this member issues tokens: simple (registered through the log) or JWT (signed here). */
export type TokenIssuer = { kind: 'simple'; tokens: SimpleTokens } | { kind: 'jwt'; tokens: JwtTokens };

/** What --auth-token and --auth-token-ttl select (key files already read). */
export type TokenConfig =
  | { kind: 'simple'; ttlMs: number }
  | { kind: 'jwt'; algorithm: JwtAlgorithm; privateKey: Buffer | null; publicKey: Buffer | null; ttlMs: number };

export function createTokenIssuer(c: TokenConfig): TokenIssuer {
  if (c.kind === 'simple') return { kind: 'simple', tokens: new SimpleTokens({ ttlMs: c.ttlMs }) };
  return { kind: 'jwt', tokens: new JwtTokens({ algorithm: c.algorithm, privateKey: c.privateKey, publicKey: c.publicKey, ttlMs: c.ttlMs }) };
}

export interface Answered<T> {
  header: AuthHeader;
  result: T;
}

/** Password hashes (authenticate, user add, changepw) computed at once on one member. */
export const MAX_CONCURRENT_PASSWORD_HASHES = 16;

export class AuthService {
  private hashesRunning = 0;

  constructor(readonly store: AuthStore, readonly issuer: TokenIssuer, private readonly deps: AuthServiceDeps) {}

  /**
   * The caller of a request: the token's user when a token is given (an unknown, expired or
   * forged one is refused, whether auth is on or not, as etcd does); else the common name of a
   * verified client certificate (etcd's --client-cert-auth); else nobody (null).
   */
  callerOf(token: string | undefined, certCommonName?: string | null): RequestCaller {
    if (token !== undefined && token !== '') {
      const user = this.userOfToken(token);
      if (user === null) throw new CairnError('InvalidAuthToken');
      return { user };
    }
    if (certCommonName) return { user: certCommonName };
    return { user: null };
  }

  /**
   * As callerOf, but a simple token this member does not know yet gets one read barrier first:
   * another member may have issued it a moment ago, and its authenticate entry is committed but
   * not yet applied here. After the barrier, a token issued before this request is known.
   */
  async resolveCaller(token: string | undefined, certCommonName?: string | null): Promise<RequestCaller> {
    if (token !== undefined && token !== '' && this.issuer.kind === 'simple' && this.userOfToken(token) === null) {
      await this.deps.readBarrier();
    }
    return this.callerOf(token, certCommonName);
  }

  private userOfToken(token: string): string | null {
    if (this.issuer.kind === 'simple') return this.issuer.tokens.lookup(token);
    if (!this.store.enabled) return null;
    return this.issuer.tokens.verify(token)?.username ?? null;
  }

  /**
   * Root only while auth is on, for etcd's maintenance calls (hash, hashkv, move-leader), whose
   * refusals etcd 3.4 words with the auth package's own texts (500, code 2).
   */
  checkMaintenanceAdmin(caller: RequestCaller): void {
    try {
      this.store.checkAdmin(caller.user);
    } catch (e) {
      if (!(e instanceof CairnError)) throw e;
      if (e.kind === 'UserEmpty') throw new CairnError('RawAuthUserEmpty');
      if (e.kind === 'UserNotFound') throw new CairnError('RawAuthUserNotFound');
      throw new CairnError('RawAuthPermissionDenied');
    }
  }

  /** READ on (key, rangeEnd) for a range or a watch served by this member. */
  checkRead(caller: RequestCaller | undefined, key: Uint8Array, rangeEnd?: Uint8Array): void {
    if (caller) this.store.checkKeys(caller.user, 'READ', key, rangeEnd);
  }

  /** WRITE on one key (lock and election keys, checked before waiting). */
  checkWrite(caller: RequestCaller | undefined, key: Uint8Array, rangeEnd?: Uint8Array): void {
    if (caller) this.store.checkKeys(caller.user, 'WRITE', key, rangeEnd);
  }

  async authenticate(name: string, password: string): Promise<Answered<{ token: string }>> {
    await this.deps.readBarrier();
    await this.hashing(() => this.store.checkPassword(name, password));
    const simpleToken = this.issuer.kind === 'simple' ? this.issuer.tokens.newToken() : null;
    const { revision } = await this.change({ op: 'authenticate', name, simpleToken, issuedAtMs: Date.now() }, undefined);
    const token = this.issuer.kind === 'simple'
      ? simpleToken!
      : this.issuer.tokens.sign({ username: name, revision: this.store.revision });
    return { header: this.deps.header(revision), result: { token } };
  }

  enable(caller: RequestCaller): Promise<Answered<object>> {
    return this.answer({ op: 'enable' }, caller);
  }

  disable(caller: RequestCaller): Promise<Answered<object>> {
    return this.answer({ op: 'disable' }, caller);
  }

  async userAdd(caller: RequestCaller, name: string, password: string, noPassword: boolean): Promise<Answered<object>> {
    this.store.checkAdmin(caller.user);
    const passwordHash = noPassword ? null : await this.hashing(() => hashPassword(password, this.deps.scryptCost));
    return this.answer({ op: 'userAdd', name, passwordHash, noPassword }, caller);
  }

  userDelete(caller: RequestCaller, name: string): Promise<Answered<object>> {
    return this.answer({ op: 'userDelete', name }, caller);
  }

  async userChangePassword(caller: RequestCaller, name: string, password: string): Promise<Answered<object>> {
    this.store.checkAdmin(caller.user);
    const passwordHash = await this.hashing(() => hashPassword(password, this.deps.scryptCost));
    return this.answer({ op: 'userChangePassword', name, passwordHash }, caller);
  }

  userGrantRole(caller: RequestCaller, user: string, role: string): Promise<Answered<object>> {
    return this.answer({ op: 'userGrantRole', user, role }, caller);
  }

  userRevokeRole(caller: RequestCaller, name: string, role: string): Promise<Answered<object>> {
    return this.answer({ op: 'userRevokeRole', name, role }, caller);
  }

  roleAdd(caller: RequestCaller, name: string): Promise<Answered<object>> {
    return this.answer({ op: 'roleAdd', name }, caller);
  }

  roleDelete(caller: RequestCaller, role: string): Promise<Answered<object>> {
    return this.answer({ op: 'roleDelete', role }, caller);
  }

  roleGrantPermission(caller: RequestCaller, name: string, perm: Permission): Promise<Answered<object>> {
    return this.answer({ op: 'roleGrantPermission', name, perm }, caller);
  }

  roleRevokePermission(caller: RequestCaller, role: string, key: Uint8Array, rangeEnd: Uint8Array): Promise<Answered<object>> {
    return this.answer({ op: 'roleRevokePermission', role, key, rangeEnd }, caller);
  }

  async userGet(caller: RequestCaller, name: string): Promise<Answered<{ roles: string[] }>> {
    await this.deps.readBarrier();
    const u = this.store.getUser(caller.user, name);
    return { header: this.deps.header(), result: { roles: [...u.roles] } };
  }

  async userList(caller: RequestCaller): Promise<Answered<{ users: string[] }>> {
    await this.deps.readBarrier();
    return { header: this.deps.header(), result: { users: this.store.listUsers(caller.user) } };
  }

  async roleGet(caller: RequestCaller, name: string): Promise<Answered<Role>> {
    await this.deps.readBarrier();
    return { header: this.deps.header(), result: this.store.getRole(caller.user, name) };
  }

  async roleList(caller: RequestCaller): Promise<Answered<{ roles: string[] }>> {
    await this.deps.readBarrier();
    return { header: this.deps.header(), result: { roles: this.store.listRoles(caller.user) } };
  }

  /** etcd 3.5's AuthStatus (3.4 has no such call): anyone may ask. */
  async status(): Promise<Answered<{ enabled: boolean; authRevision: bigint }>> {
    await this.deps.readBarrier();
    return { header: this.deps.header(), result: { enabled: this.store.enabled, authRevision: this.store.revision } };
  }

  /**
   * Runs a slow hash with a bound on how many run at once: each takes tens of ms of the libuv
   * thread pool (shared with file I/O), so a flood of authenticate calls is refused, not queued.
   */
  private async hashing<T>(fn: () => Promise<T>): Promise<T> {
    if (this.hashesRunning >= MAX_CONCURRENT_PASSWORD_HASHES) throw new CairnError('TooManyRequests');
    this.hashesRunning++;
    try {
      return await fn();
    } finally {
      this.hashesRunning--;
    }
  }

  private async answer(op: AuthOp, caller: RequestCaller): Promise<Answered<object>> {
    const { revision } = await this.change(op, caller);
    return { header: this.deps.header(revision), result: {} };
  }

  private async change(op: AuthOp, caller: RequestCaller | undefined): Promise<{ revision: bigint }> {
    const request: ServerRequest = caller ? { auth: op, caller } : { auth: op };
    const outcome = await this.deps.propose(request);
    if (!outcome.ok) throw outcome.error;
    return { revision: outcome.revision };
  }
}
