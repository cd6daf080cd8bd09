/**
 * `member add|remove|update|list|promote` over `/v3/cluster/member/*`, with etcdctl 3.4's
 * argument checks and the `ETCD_*` lines `member add` prints for starting the new member.
 *
 * Must never: print a member ID other than in hex in simple output, or lose its 64 bits.
 */
import { flagBool, flagString, positionals, usage, type Args, type Register } from '../command.js';
import type { CommandContext } from '../context.js';
import { badArgs } from '../exit.js';
import * as codec from '../gateway/codec.js';
import { parseGoUintHex } from '../go-parse.js';
import { asUint64 } from '../printers/go-format.js';
import { SimplePrinter } from '../printers/simple.js';
import { group } from './group.js';

export function memberIdArg(s: string): bigint {
  try {
    return parseGoUintHex(s);
  } catch (e) {
    throw badArgs(`bad member ID arg (${(e as Error).message}), expecting ID in Hex`);
  }
}

function oneMemberId(argv: Args): bigint {
  const args = positionals(argv, 2);
  if (args.length !== 1) throw badArgs('member ID is not provided');
  return memberIdArg(args[0]);
}

/** Member IDs are uint64 in the proto: the gateway takes them as unsigned decimal strings. */
export function idField(id: bigint): string {
  return BigInt.asUintN(64, id).toString();
}

async function add(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 2);
  if (args.length < 1) throw badArgs('member name not provided');
  if (args.length > 1) {
    let ev = 'too many arguments';
    for (const s of args) if (s.toLowerCase().startsWith('http')) ev += `, did you mean --peer-urls=${s}`;
    throw badArgs(ev);
  }
  const peerUrls = flagString(argv, 'peer-urls');
  if (peerUrls === '') throw badArgs('member peer urls not provided');
  const urls = peerUrls.split(',');
  const r = codec.memberAddResponse(await ctx.call('/v3/cluster/member/add', { peerURLs: urls, isLearner: flagBool(argv, 'learner') }));
  ctx.printer.memberAdd(r);
  if (!(ctx.printer instanceof SimplePrinter)) return;
  const conf: string[] = [];
  for (const m of r.members) {
    for (const u of m.peerUrls) conf.push(`${asUint64(m.id) === asUint64(r.member.id) ? args[0] : m.name}=${u}`);
  }
  ctx.io.out(`\nETCD_NAME=${JSON.stringify(args[0])}\nETCD_INITIAL_CLUSTER=${JSON.stringify(conf.join(','))}\n`
    + `ETCD_INITIAL_ADVERTISE_PEER_URLS=${JSON.stringify(peerUrls)}\nETCD_INITIAL_CLUSTER_STATE="existing"\n`);
}

async function remove(ctx: CommandContext, argv: Args): Promise<void> {
  const id = oneMemberId(argv);
  const r = await ctx.call('/v3/cluster/member/remove', { ID: idField(id) });
  ctx.printer.memberRemove(id, codec.memberListResponse(r));
}

async function update(ctx: CommandContext, argv: Args): Promise<void> {
  const id = oneMemberId(argv);
  const peerUrls = flagString(argv, 'peer-urls');
  if (peerUrls === '') throw badArgs('member peer urls not provided');
  const r = await ctx.call('/v3/cluster/member/update', { ID: idField(id), peerURLs: peerUrls.split(',') });
  ctx.printer.memberUpdate(id, codec.memberListResponse(r));
}

async function promote(ctx: CommandContext, argv: Args): Promise<void> {
  const id = oneMemberId(argv);
  const r = await ctx.call('/v3/cluster/member/promote', { ID: idField(id) });
  ctx.printer.memberPromote(id, codec.memberListResponse(r));
}

export async function memberList(ctx: CommandContext): Promise<ReturnType<typeof codec.memberListResponse>> {
  return codec.memberListResponse(await ctx.call('/v3/cluster/member/list', {}));
}

export const registerMember: Register = (y, select) => group(y, select, 'member', 'Membership related commands', (g) => g
  .command('add', 'Adds a member into the cluster', usage('member add <memberName> [options]', (s) => s
    .option('peer-urls', { type: 'string', default: '', describe: 'comma separated peer URLs for the new member.' })
    .option('learner', { type: 'boolean', default: false, describe: 'indicates if the new member is raft learner' })),
  (a) => select(a as Args, (ctx) => add(ctx, a as Args)))
  .command('remove', 'Removes a member from the cluster', usage('member remove <memberID>'), (a) => select(a as Args, (ctx) => remove(ctx, a as Args)))
  .command('update', 'Updates a member in the cluster', usage('member update <memberID> [options]', (s) => s
    .option('peer-urls', { type: 'string', default: '', describe: 'comma separated peer URLs for the updated member.' })),
  (a) => select(a as Args, (ctx) => update(ctx, a as Args)))
  .command('list', 'Lists all members in the cluster', usage('member list'), (a) => select(a as Args, async (ctx) => ctx.printer.memberList(await memberList(ctx))))
  .command('promote', 'Promotes a non-voting member in the cluster', usage('member promote <memberID>'),
    (a) => select(a as Args, (ctx) => promote(ctx, a as Args))));
