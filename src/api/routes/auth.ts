/**
 * etcd's Auth service on the JSON gateway: /v3/auth/enable, disable, status, authenticate,
 * user/{add,get,list,delete,changepw,grant,revoke}, role/{add,get,list,delete,grant,revoke}
 * (and the /v3beta aliases). Each handler resolves the caller, decodes, calls the member's
 * AuthService, encodes: no logic here. `status` is etcd 3.5's (etcd 3.4 answers it 404).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CairnServer } from '../../server/cairn-server.js';
import { callerOf } from '../caller.js';
import { field, namesOut, permissionIn, permissionOut, revokePermissionIn } from '../gateway/auth-codec.js';
import { headerOut } from '../gateway/kv-codec.js';

const ref = (id: string) => ({ $ref: `${id}#` });

function schema(summary: string, body: string, response = 'HeaderOnlyResponse', description?: string) {
  return { tags: ['auth (etcd gateway)'], summary, description, body: ref(body), response: { 200: ref(response), default: ref('GatewayError') } };
}

export async function authGatewayRoutes(app: FastifyInstance, opts: { server: CairnServer }): Promise<void> {
  const { server } = opts;
  const auth = () => server.auth;
  const caller = (req: FastifyRequest) => callerOf(server, req);
  const headerOnly = (r: { header: Parameters<typeof headerOut>[0] }) => ({ header: headerOut(r.header) });

  app.post('/auth/enable', { schema: schema('Turn auth on (needs a root user with the root role)', 'AuthEmptyRequest') },
    async (req) => headerOnly(await auth().enable(caller(req))));

  app.post('/auth/disable', { schema: schema('Turn auth off (root only)', 'AuthEmptyRequest') },
    async (req) => headerOnly(await auth().disable(caller(req))));

  app.post('/auth/status', { schema: schema('Whether auth is on, and the auth revision', 'AuthEmptyRequest', 'AuthStatusResponse') }, async () => {
    const { header, result } = await auth().status();
    const o: Record<string, unknown> = { header: headerOut(header) };
    if (result.enabled) o.enabled = true;
    if (result.authRevision !== 0n) o.authRevision = result.authRevision.toString();
    return o;
  });

  app.post('/auth/authenticate', {
    schema: schema('Get a token for a user', 'AuthenticateRequest', 'AuthenticateResponse',
      'Send the token, as is, in the `Authorization` header of later requests.'),
  }, async (req) => {
    const { header, result } = await auth().authenticate(field(req.body, 'name'), field(req.body, 'password'));
    return { header: headerOut(header), token: result.token };
  });

  app.post('/auth/user/add', { schema: schema('Add a user', 'AuthUserAddRequest') }, async (req) => {
    const b = (req.body ?? {}) as { options?: { no_password?: unknown } };
    const noPassword = b.options?.no_password === true;
    return headerOnly(await auth().userAdd(caller(req), field(req.body, 'name'), field(req.body, 'password'), noPassword));
  });

  app.post('/auth/user/get', { schema: schema("A user's roles", 'AuthUserNameRequest', 'AuthUserGetResponse') }, async (req) => {
    const { header, result } = await auth().userGet(caller(req), field(req.body, 'name'));
    return namesOut(headerOut(header), 'roles', result.roles);
  });

  app.post('/auth/user/list', { schema: schema('All user names', 'AuthEmptyRequest', 'AuthUserListResponse') }, async (req) => {
    const { header, result } = await auth().userList(caller(req));
    return namesOut(headerOut(header), 'users', result.users);
  });

  app.post('/auth/user/delete', { schema: schema('Delete a user', 'AuthUserNameRequest') },
    async (req) => headerOnly(await auth().userDelete(caller(req), field(req.body, 'name'))));

  app.post('/auth/user/changepw', { schema: schema("Change a user's password (its tokens lapse)", 'AuthUserChangePasswordRequest') },
    async (req) => headerOnly(await auth().userChangePassword(caller(req), field(req.body, 'name'), field(req.body, 'password'))));

  app.post('/auth/user/grant', { schema: schema('Grant a role to a user', 'AuthUserGrantRoleRequest') },
    async (req) => headerOnly(await auth().userGrantRole(caller(req), field(req.body, 'user'), field(req.body, 'role'))));

  app.post('/auth/user/revoke', { schema: schema('Revoke a role from a user', 'AuthUserRevokeRoleRequest') },
    async (req) => headerOnly(await auth().userRevokeRole(caller(req), field(req.body, 'name'), field(req.body, 'role'))));

  app.post('/auth/role/add', { schema: schema('Add a role', 'AuthRoleAddRequest') },
    async (req) => headerOnly(await auth().roleAdd(caller(req), field(req.body, 'name'))));

  app.post('/auth/role/get', { schema: schema("A role's permissions", 'AuthRoleNameRequest', 'AuthRoleGetResponse') }, async (req) => {
    const { header, result } = await auth().roleGet(caller(req), field(req.body, 'role'));
    const o: Record<string, unknown> = { header: headerOut(header) };
    if (result.perms.length > 0) o.perm = result.perms.map(permissionOut);
    return o;
  });

  app.post('/auth/role/list', { schema: schema('All role names', 'AuthEmptyRequest', 'AuthRoleListResponse') }, async (req) => {
    const { header, result } = await auth().roleList(caller(req));
    return namesOut(headerOut(header), 'roles', result.roles);
  });

  app.post('/auth/role/delete', { schema: schema('Delete a role (and take it from every user)', 'AuthRoleNameRequest') },
    async (req) => headerOnly(await auth().roleDelete(caller(req), field(req.body, 'role'))));

  app.post('/auth/role/grant', {
    schema: schema('Grant a key permission to a role', 'AuthRoleGrantPermissionRequest', 'HeaderOnlyResponse',
      'A grant on the same key and range end replaces the permission type.'),
  }, async (req) => {
    const { name, perm } = permissionIn(req.body);
    return headerOnly(await auth().roleGrantPermission(caller(req), name, perm));
  });

  app.post('/auth/role/revoke', { schema: schema('Revoke a key permission from a role', 'AuthRoleRevokePermissionRequest') }, async (req) => {
    const { role, key, rangeEnd } = revokePermissionIn(req.body);
    return headerOnly(await auth().roleRevokePermission(caller(req), role, key, rangeEnd));
  });
}
