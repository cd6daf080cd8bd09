/**
 * `user …`, `role …`, `auth enable|disable`: etcd's auth management over `/v3/auth/*`, with
 * etcdctl 3.4's argument checks and texts. Passwords come from `name:password`, `--new-user-
 * password`, or stdin (one word, as etcdctl's `--interactive=false`; a terminal prompt
 * otherwise).
 *
 * Must never: print a password, or send a permission with a range end the user did not ask for.
 */
import type { Argv } from 'yargs';
import { flagBool, flagString, positionals, usage, type Args, type Register } from '../command.js';
import { readLine, type CommandContext } from '../context.js';
import { badArgs } from '../exit.js';
import { GatewayError } from '../gateway/client.js';
import * as codec from '../gateway/codec.js';
import type { PermType } from '../gateway/types.js';
import { prefixRangeEnd } from '../printers/simple.js';
import { group } from './group.js';

const hdr = (r: unknown): { header: ReturnType<typeof codec.header> } => codec.headerOnly(r);

/** A password from stdin: prompted twice on a terminal, else the first word of one line. */
async function readPassword(ctx: CommandContext, user: string, interactive: boolean): Promise<string> {
  if (!interactive || !ctx.io.stdinIsTty) return ((await readLine(ctx.io)) ?? '').trim().split(/\s+/)[0] ?? '';
  ctx.io.err(`Password of ${user}: `);
  const first = (await readLine(ctx.io)) ?? '';
  ctx.io.err(`Type password of ${user} again for confirmation: `);
  const second = (await readLine(ctx.io)) ?? '';
  if (first !== second) throw badArgs('given passwords are different');
  return first;
}

async function userAdd(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('user add command requires user name as its argument');
  let user = args[0];
  let password = flagString(argv, 'new-user-password');
  const noPassword = flagBool(argv, 'no-password');
  if (password === '' && !noPassword) {
    const colon = args[0].indexOf(':');
    if (colon < 0) password = await readPassword(ctx, user, flagBool(argv, 'interactive'));
    else {
      user = args[0].slice(0, colon);
      password = args[0].slice(colon + 1);
      if (user === '') throw badArgs('empty user name is not allowed');
    }
  }
  const r = await ctx.call('/v3/auth/user/add', { name: user, password, options: { no_password: noPassword } });
  ctx.printer.userAdd(user, hdr(r));
}

function oneName(argv: Args, message: string): string {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs(message);
  return args[0];
}

function twoNames(argv: Args, message: string): [string, string] {
  const args = positionals(argv, 2);
  if (args.length !== 2) throw badArgs(message);
  return [args[0], args[1]];
}

async function userGet(ctx: CommandContext, argv: Args): Promise<void> {
  const name = oneName(argv, 'user get command requires user name as its argument');
  const r = codec.authUserGetResponse(await ctx.call('/v3/auth/user/get', { name }));
  if (!flagBool(argv, 'detail')) { ctx.printer.userGet(name, r); return; }
  ctx.io.out(`User: ${name}\n`);
  for (const role of r.roles) {
    ctx.io.out('\n');
    ctx.printer.roleGet(role, codec.authRoleGetResponse(await ctx.call('/v3/auth/role/get', { role })));
  }
}

async function userPasswd(ctx: CommandContext, argv: Args): Promise<void> {
  const name = oneName(argv, 'user passwd command requires user name as its argument');
  const password = await readPassword(ctx, name, flagBool(argv, 'interactive'));
  ctx.printer.userChangePassword(hdr(await ctx.call('/v3/auth/user/changepw', { name, password })));
}

const permTypes: Record<string, PermType> = { READ: 'READ', WRITE: 'WRITE', READWRITE: 'READWRITE' };

/** The key range of a permission, as etcdctl's permRange: key, optional end, --prefix/--from-key. */
function permRange(args: string[], argv: Args): { key: Buffer; rangeEnd: Buffer } {
  const key = Buffer.from(args[0]);
  const prefix = flagBool(argv, 'prefix');
  const fromKey = flagBool(argv, 'from-key');
  if (args.length > 1 && (prefix || fromKey)) throw badArgs('too many arguments, only accept one argument when `--prefix` or `--from-key` is set');
  if (prefix && fromKey) throw badArgs('--from-key and --prefix flags are mutually exclusive');
  if (args.length > 1) return { key, rangeEnd: Buffer.from(args[1]) };
  if (prefix) return key.length === 0 ? { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) } : { key, rangeEnd: prefixRangeEnd(key) };
  if (fromKey) return key.length === 0 ? { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) } : { key, rangeEnd: Buffer.from([0]) };
  return { key, rangeEnd: Buffer.alloc(0) };
}

async function roleGrant(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length < 3 || args.length > 4) throw badArgs('role grant command requires role name, permission type, and key [endkey] as its argument');
  const permType = permTypes[args[1].toUpperCase()];
  if (permType === undefined) throw badArgs(`invalid permission type: ${args[1]}`);
  const { key, rangeEnd } = permRange(args.slice(2), argv);
  const perm = { permType, key: codec.b64(key), range_end: codec.b64(rangeEnd) };
  ctx.printer.roleGrantPermission(args[0], hdr(await ctx.call('/v3/auth/role/grant', { name: args[0], perm })));
}

async function roleRevoke(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length < 2 || args.length > 3) throw badArgs('role revoke-permission command requires role name and key [endkey] as its argument');
  const { key, rangeEnd } = permRange(args.slice(1), argv);
  const r = await ctx.call('/v3/auth/role/revoke', { role: args[0], key: codec.b64(key), range_end: codec.b64(rangeEnd) });
  ctx.printer.roleRevokePermission(args[0], key, rangeEnd, hdr(r));
}

const rangeFlags = (y: Argv): Argv => y
  .option('prefix', { type: 'boolean', default: false, describe: 'grant a prefix permission' })
  .option('from-key', { type: 'boolean', default: false, describe: 'grant a permission of keys that are greater than or equal to the given key using byte compare' });
const interactiveFlag = (y: Argv): Argv => y
  .option('interactive', { type: 'boolean', default: true, describe: 'Read password from stdin instead of interactive terminal' });

type Run = (ctx: CommandContext, argv: Args) => Promise<void>;

/** As etcdctl: when root lacks the root role, create the role, grant it, and enable again (once). */
async function authEnable(ctx: CommandContext): Promise<void> {
  try {
    await ctx.call('/v3/auth/enable', {});
  } catch (e) {
    if (!(e instanceof GatewayError) || e.message !== 'etcdserver: root user does not have root role') throw e;
    await ctx.call('/v3/auth/role/add', { name: 'root' }).catch((err: unknown) => {
      if (!(err instanceof GatewayError) || err.message !== 'etcdserver: role name already exists') throw err;
    });
    await ctx.call('/v3/auth/user/grant', { user: 'root', role: 'root' });
    await ctx.call('/v3/auth/enable', {});
  }
  ctx.io.out('Authentication Enabled\n');
}

export const registerAuth: Register = (y, select) => {
  const cmd = (g: Argv, name: string, desc: string, line: string, run: Run, flags?: (y: Argv) => Argv): Argv =>
    g.command(name, desc, usage(line, flags), (a) => select(a as Args, (ctx) => run(ctx, a as Args)));
  group(y, select, 'user', 'User related commands', (g) => {
    cmd(g, 'add', 'Adds a new user', 'user add <user name or user:password> [options]', userAdd, (s) => interactiveFlag(s)
      .option('new-user-password', { type: 'string', default: '', describe: 'Supply password from the command line flag' })
      .option('no-password', { type: 'boolean', default: false, describe: 'Create a user without password (CN based auth only)' }));
    cmd(g, 'delete', 'Deletes a user', 'user delete <user name>', async (ctx, a) => {
      const name = oneName(a, 'user delete command requires user name as its argument');
      ctx.printer.userDelete(name, hdr(await ctx.call('/v3/auth/user/delete', { name })));
    });
    cmd(g, 'get', 'Gets detailed information of a user', 'user get <user name> [options]', userGet,
      (s) => s.option('detail', { type: 'boolean', default: false, describe: 'Show permissions of roles granted to the user' }));
    cmd(g, 'list', 'Lists all users', 'user list', async (ctx) => ctx.printer.userList(codec.authUserListResponse(await ctx.call('/v3/auth/user/list', {}))));
    cmd(g, 'passwd', 'Changes password of user', 'user passwd <user name> [options]', userPasswd, interactiveFlag);
    cmd(g, 'grant-role', 'Grants a role to a user', 'user grant-role <user name> <role name>', async (ctx, a) => {
      const [user, role] = twoNames(a, 'user grant command requires user name and role name as its argument');
      ctx.printer.userGrantRole(user, role, hdr(await ctx.call('/v3/auth/user/grant', { user, role })));
    });
    cmd(g, 'revoke-role', 'Revokes a role from a user', 'user revoke-role <user name> <role name>', async (ctx, a) => {
      const [name, role] = twoNames(a, 'user revoke-role requires user name and role name as its argument');
      ctx.printer.userRevokeRole(name, role, hdr(await ctx.call('/v3/auth/user/revoke', { name, role })));
    });
    return g;
  });
  group(y, select, 'role', 'Role related commands', (g) => {
    cmd(g, 'add', 'Adds a new role', 'role add <role name>', async (ctx, a) => {
      const name = oneName(a, 'role add command requires role name as its argument');
      ctx.printer.roleAdd(name, hdr(await ctx.call('/v3/auth/role/add', { name })));
    });
    cmd(g, 'delete', 'Deletes a role', 'role delete <role name>', async (ctx, a) => {
      const role = oneName(a, 'role delete command requires role name as its argument');
      ctx.printer.roleDelete(role, hdr(await ctx.call('/v3/auth/role/delete', { role })));
    });
    cmd(g, 'get', 'Gets detailed information of a role', 'role get <role name>', async (ctx, a) => {
      const role = oneName(a, 'role get command requires role name as its argument');
      ctx.printer.roleGet(role, codec.authRoleGetResponse(await ctx.call('/v3/auth/role/get', { role })));
    });
    cmd(g, 'list', 'Lists all roles', 'role list', async (ctx) => ctx.printer.roleList(codec.authRoleListResponse(await ctx.call('/v3/auth/role/list', {}))));
    cmd(g, 'grant-permission', 'Grants a key to a role', 'role grant-permission [options] <role name> <permission type> <key> [endkey]', roleGrant, rangeFlags);
    cmd(g, 'revoke-permission', 'Revokes a key from a role', 'role revoke-permission <role name> <key> [endkey]', roleRevoke, rangeFlags);
    return g;
  });
  return group(y, select, 'auth', 'Enable or disable authentication', (g) => {
    cmd(g, 'enable', 'Enables authentication', 'auth enable', authEnable);
    cmd(g, 'disable', 'Disables authentication', 'auth disable', async (ctx) => {
      await ctx.call('/v3/auth/disable', {});
      ctx.io.out('Authentication Disabled\n');
    });
    return g;
  });
};
