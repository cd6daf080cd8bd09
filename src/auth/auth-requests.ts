/**
 * The auth changes that pass through the log (server/requests.ts carries them as `{ auth }`),
 * and who sent a request. Every member applies them in log order, so users, roles, the enabled
 * flag and the auth revision are the same everywhere. Passwords never appear here: the member
 * that takes the request hashes it first.
 *
 * Vocabulary only: no logic, no I/O.
 */
import type { Permission } from './permissions.js';

export type AuthOp =
  | { op: 'enable' }
  | { op: 'disable' }
  | { op: 'userAdd'; name: string; passwordHash: string | null; noPassword: boolean }
  | { op: 'userDelete'; name: string }
  | { op: 'userChangePassword'; name: string; passwordHash: string }
  | { op: 'userGrantRole'; user: string; role: string }
  | { op: 'userRevokeRole'; name: string; role: string }
  | { op: 'roleAdd'; name: string }
  | { op: 'roleDelete'; role: string }
  | { op: 'roleGrantPermission'; name: string; perm: Permission }
  | { op: 'roleRevokePermission'; role: string; key: Uint8Array; rangeEnd: Uint8Array }
  /**
   * A password already checked by the proposing member; a simple token to register, if any,
   * and when it was issued (so a replay of the log after a restart does not revive a token
   * whose TTL has passed).
   */
  | { op: 'authenticate'; name: string; simpleToken: string | null; issuedAtMs?: number };

/**
 * Who sent a request, as the member that took it resolved the token: a user name, or null for
 * a request without a token. A request without this field came from the member itself (lease
 * expiry) and is never checked.
 */
export interface RequestCaller {
  user: string | null;
}
