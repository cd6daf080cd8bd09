/**
 * The auth state of one member: users (with password hashes and roles), roles (with key
 * permissions), the enabled flag and the auth revision, as etcd 3.4's auth store keeps them.
 * `apply` makes one logged change (the same on every member, in log order) and says which
 * records of the table to write; the checks answer whether a caller may do something now.
 *
 * Owns the rules etcd applies: auth cannot be enabled without a `root` user that has the `root`
 * role; while enabled, root cannot be deleted nor lose the root role, and the root role cannot
 * be deleted; a user with the root role may do anything. Never holds a password, only hashes;
 * never writes the table itself (the apply step does, inside the batch's LMDB transaction).
 */
import { CairnError } from '../errors/errors.js';
import type { AuthOp } from './auth-requests.js';
import { PermissionSet, sameBytes, sortPermissions, type Permission } from './permissions.js';
import { verifyPassword } from './password.js';
import type { SimpleTokens } from './tokens.js';

export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';

export interface User {
  name: string;
  /** Null for a user added with no_password (it cannot authenticate with a password). */
  passwordHash: string | null;
  noPassword: boolean;
  /** Sorted. */
  roles: string[];
}

export interface Role {
  name: string;
  /** Sorted by key. */
  perms: Permission[];
}

/** One record to write in the auth table: null value removes it. */
export interface AuthTableChange {
  key: string;
  value: string | null;
}

/** The auth table's storage (LMDB in the server, a Map in tests). */
export interface AuthTable {
  write(changes: readonly AuthTableChange[]): void;
  loadAll(): Array<{ key: string; value: string }>;
}

const META_KEY = 'meta';

interface Meta {
  enabled: boolean;
  revision: string;
}

function userRecord(u: User): AuthTableChange {
  return { key: `user/${u.name}`, value: JSON.stringify(u) };
}

function roleRecord(r: Role): AuthTableChange {
  const perms = r.perms.map((p) => ({
    permType: p.permType, key: Buffer.from(p.key).toString('base64'), rangeEnd: Buffer.from(p.rangeEnd).toString('base64'),
  }));
  return { key: `role/${r.name}`, value: JSON.stringify({ name: r.name, perms }) };
}

function parseRole(value: string): Role {
  const o = JSON.parse(value) as { name: string; perms: Array<{ permType: Permission['permType']; key: string; rangeEnd: string }> };
  return {
    name: o.name,
    perms: o.perms.map((p) => ({ permType: p.permType, key: new Uint8Array(Buffer.from(p.key, 'base64')), rangeEnd: new Uint8Array(Buffer.from(p.rangeEnd, 'base64')) })),
  };
}

export class AuthStore {
  private users = new Map<string, User>();
  private roles = new Map<string, Role>();
  private enabledFlag = false;
  private rev = 0n;
  /** Each user's merged permissions; emptied whenever users or roles change. */
  private readonly permCache = new Map<string, PermissionSet>();
  /** Users whose permissions are cached at once; past it the cache starts over. */
  static readonly MAX_CACHED_USERS = 10_000;

  /** `simpleTokens`: where authenticate entries register their token (null with JWT). */
  constructor(private readonly simpleTokens: SimpleTokens | null) {}

  get enabled(): boolean {
    return this.enabledFlag;
  }

  get revision(): bigint {
    return this.rev;
  }

  /** Replaces the whole state with the table's (at start, and after a snapshot install). */
  load(table: AuthTable): void {
    this.users = new Map();
    this.roles = new Map();
    this.enabledFlag = false;
    this.rev = 0n;
    this.permCache.clear();
    for (const { key, value } of table.loadAll()) {
      if (key === META_KEY) {
        const m = JSON.parse(value) as Meta;
        this.enabledFlag = m.enabled;
        this.rev = BigInt(m.revision);
      } else if (key.startsWith('user/')) {
        const u = JSON.parse(value) as User;
        this.users.set(u.name, u);
      } else if (key.startsWith('role/')) {
        const r = parseRole(value);
        this.roles.set(r.name, r);
      }
    }
  }

  /**
   * Applies one logged change after checking that `caller` may make it (undefined: the member
   * itself). Returns the table records to write; throws a CairnError and changes nothing when
   * the change is refused.
   */
  apply(op: AuthOp, caller: string | null | undefined): AuthTableChange[] {
    if (op.op === 'authenticate') return this.authenticate(op.name, op.simpleToken, op.issuedAtMs);
    if (caller !== undefined) this.checkAdmin(caller);
    const changes = this.change(op);
    // null: nothing changed (etcd answers OK and keeps the revision).
    if (changes === null) return [];
    this.rev += 1n;
    this.permCache.clear();
    changes.push(this.metaRecord());
    return changes;
  }

  private change(op: Exclude<AuthOp, { op: 'authenticate' }>): AuthTableChange[] | null {
    switch (op.op) {
      case 'enable': return this.enable();
      case 'disable':
        if (!this.enabledFlag) return null;
        this.enabledFlag = false;
        this.simpleTokens?.clear();
        return [];
      case 'userAdd': return this.userAdd(op.name, op.passwordHash, op.noPassword);
      case 'userDelete': return this.userDelete(op.name);
      case 'userChangePassword': {
        const u = this.user(op.name);
        u.passwordHash = op.passwordHash;
        this.simpleTokens?.invalidateUser(u.name);
        return [userRecord(u)];
      }
      case 'userGrantRole': return this.userGrantRole(op.user, op.role);
      case 'userRevokeRole': return this.userRevokeRole(op.name, op.role);
      case 'roleAdd':
        if (op.name === '') throw new CairnError('RoleEmpty');
        if (this.roles.has(op.name)) throw new CairnError('RoleAlreadyExist');
        this.roles.set(op.name, { name: op.name, perms: [] });
        return [roleRecord(this.roles.get(op.name)!)];
      case 'roleDelete': return this.roleDelete(op.role);
      case 'roleGrantPermission': return this.roleGrant(op.name, op.perm);
      case 'roleRevokePermission': return this.roleRevoke(op.role, op.key, op.rangeEnd);
    }
  }

  private metaRecord(): AuthTableChange {
    const m: Meta = { enabled: this.enabledFlag, revision: this.rev.toString() };
    return { key: META_KEY, value: JSON.stringify(m) };
  }

  private enable(): AuthTableChange[] | null {
    if (this.enabledFlag) return null;
    const root = this.users.get(ROOT_USER);
    if (!root) throw new CairnError('RootUserNotExist');
    if (!root.roles.includes(ROOT_ROLE)) throw new CairnError('RootRoleNotExist');
    this.enabledFlag = true;
    return [];
  }

  private authenticate(name: string, simpleToken: string | null, issuedAtMs: number | undefined): AuthTableChange[] {
    if (!this.enabledFlag) throw new CairnError('AuthNotEnabled');
    if (!this.users.has(name)) throw new CairnError('AuthFailed');
    if (simpleToken !== null) this.simpleTokens?.register(simpleToken, name, issuedAtMs);
    return [];
  }

  private userAdd(name: string, passwordHash: string | null, noPassword: boolean): AuthTableChange[] {
    if (name === '') throw new CairnError('UserEmpty');
    if (this.users.has(name)) throw new CairnError('UserAlreadyExist');
    const u: User = { name, passwordHash: noPassword ? null : passwordHash, noPassword, roles: [] };
    this.users.set(name, u);
    return [userRecord(u)];
  }

  private userDelete(name: string): AuthTableChange[] {
    if (this.enabledFlag && name === ROOT_USER) throw new CairnError('InvalidAuthMgmt');
    this.user(name);
    this.users.delete(name);
    this.simpleTokens?.invalidateUser(name);
    return [{ key: `user/${name}`, value: null }];
  }

  private userGrantRole(name: string, role: string): AuthTableChange[] | null {
    const u = this.user(name);
    if (role !== ROOT_ROLE && !this.roles.has(role)) throw new CairnError('RoleNotFound');
    // etcd answers OK and changes nothing (no revision) when the role is already granted.
    if (u.roles.includes(role)) return null;
    u.roles = [...u.roles, role].sort();
    return [userRecord(u)];
  }

  private userRevokeRole(name: string, role: string): AuthTableChange[] {
    if (this.enabledFlag && name === ROOT_USER && role === ROOT_ROLE) throw new CairnError('InvalidAuthMgmt');
    const u = this.user(name);
    if (!u.roles.includes(role)) throw new CairnError('RoleNotGranted');
    u.roles = u.roles.filter((r) => r !== role);
    return [userRecord(u)];
  }

  private roleDelete(name: string): AuthTableChange[] {
    if (this.enabledFlag && name === ROOT_ROLE) throw new CairnError('InvalidAuthMgmt');
    if (!this.roles.has(name)) throw new CairnError('RoleNotFound');
    this.roles.delete(name);
    const changes: AuthTableChange[] = [{ key: `role/${name}`, value: null }];
    for (const u of this.users.values()) {
      if (!u.roles.includes(name)) continue;
      u.roles = u.roles.filter((r) => r !== name);
      changes.push(userRecord(u));
    }
    return changes;
  }

  private roleGrant(name: string, perm: Permission): AuthTableChange[] {
    const r = this.role(name);
    const same = r.perms.find((p) => sameBytes(p.key, perm.key) && sameBytes(p.rangeEnd, perm.rangeEnd));
    // A grant on the same key and range end replaces the type (as etcd: READ then WRITE is WRITE).
    if (same) same.permType = perm.permType;
    else r.perms = sortPermissions([...r.perms, { ...perm }]);
    return [roleRecord(r)];
  }

  private roleRevoke(name: string, key: Uint8Array, rangeEnd: Uint8Array): AuthTableChange[] {
    const r = this.role(name);
    const kept = r.perms.filter((p) => !(sameBytes(p.key, key) && sameBytes(p.rangeEnd, rangeEnd)));
    if (kept.length === r.perms.length) throw new CairnError('PermissionNotGranted');
    r.perms = kept;
    return [roleRecord(r)];
  }

  private user(name: string): User {
    const u = this.users.get(name);
    if (!u) throw new CairnError('UserNotFound');
    return u;
  }

  private role(name: string): Role {
    const r = this.roles.get(name);
    if (!r) throw new CairnError('RoleNotFound');
    return r;
  }

  // ---- checks (a member answers them from its own applied state) ----

  /** etcd's IsAdminPermitted: anything goes while auth is off; else the caller has the root role. */
  checkAdmin(caller: string | null): void {
    if (!this.enabledFlag) return;
    if (caller === null || caller === '') throw new CairnError('UserEmpty');
    const u = this.users.get(caller);
    if (!u) throw new CairnError('UserNotFound');
    if (!u.roles.includes(ROOT_ROLE)) throw new CairnError('PermissionDenied');
  }

  /** etcd's isOpPermitted: `caller` may READ (or WRITE) every key of (key, rangeEnd). */
  checkKeys(caller: string | null, wanted: 'READ' | 'WRITE', key: Uint8Array, rangeEnd?: Uint8Array): void {
    if (!this.enabledFlag) return;
    if (caller === null || caller === '') throw new CairnError('UserEmpty');
    const u = this.users.get(caller);
    if (!u) throw new CairnError('PermissionDenied');
    if (u.roles.includes(ROOT_ROLE)) return;
    if (!this.permissionsOf(u).allows(wanted, key, rangeEnd)) throw new CairnError('PermissionDenied');
  }

  private permissionsOf(u: User): PermissionSet {
    let set = this.permCache.get(u.name);
    if (set === undefined) {
      const perms: Permission[] = [];
      for (const name of u.roles) for (const p of this.roles.get(name)?.perms ?? []) perms.push(p);
      set = new PermissionSet(perms);
      if (this.permCache.size >= AuthStore.MAX_CACHED_USERS) this.permCache.clear();
      this.permCache.set(u.name, set);
    }
    return set;
  }

  /** Checks a password against the stored hash (on the member that takes the request). */
  async checkPassword(name: string, password: string): Promise<void> {
    if (!this.enabledFlag) throw new CairnError('AuthNotEnabled');
    const u = this.users.get(name);
    if (!u) throw new CairnError('AuthFailed');
    if (u.noPassword || u.passwordHash === null) throw new CairnError('NoPasswordUser');
    if (!(await verifyPassword(password, u.passwordHash))) throw new CairnError('AuthFailed');
  }

  /** A user's roles; a caller may read its own, an admin anyone's. */
  getUser(caller: string | null, name: string): User {
    if (caller !== name) this.checkAdmin(caller);
    return this.user(name);
  }

  /** A role's permissions; a caller may read a role it has, an admin any. */
  getRole(caller: string | null, name: string): Role {
    const has = caller !== null && (this.users.get(caller)?.roles.includes(name) ?? false);
    if (!has) this.checkAdmin(caller);
    return this.role(name);
  }

  listUsers(caller: string | null): string[] {
    this.checkAdmin(caller);
    return [...this.users.keys()].sort();
  }

  listRoles(caller: string | null): string[] {
    this.checkAdmin(caller);
    return [...this.roles.keys()].sort();
  }

  /** Whether `user` still exists (a JWT may outlive its user). */
  hasUser(name: string): boolean {
    return this.users.has(name);
  }
}
