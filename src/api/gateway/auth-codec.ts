/**
 * Translation of etcd's Auth messages on the JSON gateway. Field names vary by call as in
 * etcd's protos (`user/grant` takes `user`, `user/revoke` takes `name`; `role/get`, `role/delete`
 * and `role/revoke` take `role`, `role/add` and `role/grant` take `name`). A permission's type is
 * `permType` (READ is the zero value, so it is omitted on output); `range_end` is omitted when
 * empty; empty lists are omitted.
 *
 * Pure translation: no server calls, no HTTP.
 */
import { CairnError } from '../../errors/errors.js';
import type { Permission, PermType } from '../../auth/permissions.js';
import { encodeBase64 } from './base64.js';
import { bytesIn, type Json } from './kv-codec.js';

const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

export function stringIn(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function field(body: unknown, name: string): string {
  return stringIn(obj(body)[name]);
}

const PERM_TYPES: PermType[] = ['READ', 'WRITE', 'READWRITE'];

function permTypeIn(v: unknown): PermType {
  if (v === undefined || v === null) return 'READ';
  if (typeof v === 'number') {
    const t = PERM_TYPES[v];
    if (t === undefined) throw new CairnError('BadRequest', `unknown value ${v} for enum authpb.Permission_Type`);
    return t;
  }
  const t = PERM_TYPES.find((p) => p === v);
  if (t === undefined) throw new CairnError('BadRequest', `unknown value "${String(v)}" for enum authpb.Permission_Type`);
  return t;
}

export function permissionIn(body: unknown): { name: string; perm: Permission } {
  const b = obj(body);
  if (b.perm === undefined || b.perm === null) throw new CairnError('PermissionMissing');
  const p = obj(b.perm);
  return { name: stringIn(b.name), perm: { permType: permTypeIn(p.perm_type), key: bytesIn(p.key), rangeEnd: bytesIn(p.range_end) } };
}

export function revokePermissionIn(body: unknown): { role: string; key: Uint8Array; rangeEnd: Uint8Array } {
  const b = obj(body);
  return { role: stringIn(b.role), key: bytesIn(b.key), rangeEnd: bytesIn(b.range_end) };
}

export function permissionOut(p: Permission): Json {
  const o: Json = {};
  if (p.permType !== 'READ') o.permType = p.permType;
  o.key = encodeBase64(p.key);
  if (p.rangeEnd.length > 0) o.range_end = encodeBase64(p.rangeEnd);
  return o;
}

export function namesOut(header: Json, field: string, names: string[]): Json {
  const o: Json = { header };
  if (names.length > 0) o[field] = names;
  return o;
}
