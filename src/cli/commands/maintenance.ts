/**
 * `compaction`, `defrag`, `alarm list|disarm`, `move-leader`, `version`: maintenance commands
 * over `/v3/kv/compaction` and `/v3/maintenance/*`, with etcdctl 3.4's texts.
 *
 * Must never: send a leader transfer to a member that is not the leader (the server refuses
 * it), or defragment through failover (each member is named explicitly).
 */
import { flagBool, flagString, positionals, usage, type Args, type Register } from '../command.js';
import type { CommandContext } from '../context.js';
import { CliExit, ExitCode, badArgs } from '../exit.js';
import * as codec from '../gateway/codec.js';
import type { AlarmMember, AlarmResponse } from '../gateway/types.js';
import { parseGoInt, parseGoUintHex } from '../go-parse.js';
import { apiVersion, cairnctlVersion } from '../version.js';
import { targetEndpoints } from './endpoint.js';
import { group } from './group.js';
import { idField } from './member.js';

async function compaction(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 1);
  if (args.length !== 1) throw badArgs('compaction command needs 1 argument');
  let rev: bigint;
  try {
    rev = parseGoInt(args[0], 10);
  } catch (e) {
    throw new CliExit(ExitCode.Error, (e as Error).message);
  }
  await ctx.call('/v3/kv/compaction', { revision: rev.toString(), physical: flagBool(argv, 'physical') });
  ctx.io.out(`compacted revision ${rev}\n`);
}

async function defrag(ctx: CommandContext, argv: Args): Promise<void> {
  if (flagString(argv, 'data-dir') !== '') {
    throw new CliExit(ExitCode.BadFeature, 'offline defragmentation (--data-dir) is not supported by cairnctl; run it against a live member');
  }
  const client = await ctx.client();
  let failures = 0;
  for (const ep of await targetEndpoints(ctx, argv)) {
    try {
      await client.callOn(ep, '/v3/maintenance/defragment', {});
      ctx.io.out(`Finished defragmenting etcd member[${ep}]\n`);
    } catch (e) {
      failures++;
      ctx.io.err(`Failed to defragment etcd member[${ep}] (${(e as Error).message})\n`);
    }
  }
  if (failures > 0) throw new CliExit(ExitCode.Error, '');
}

async function alarmList(ctx: CommandContext): Promise<AlarmResponse> {
  return codec.alarmResponse(await ctx.call('/v3/maintenance/alarm', { action: 'GET' }));
}

/** As clientv3's AlarmDisarm of no alarm in particular: list every alarm, deactivate each. */
async function alarmDisarm(ctx: CommandContext): Promise<AlarmResponse> {
  const listed = await alarmList(ctx);
  const disarmed: AlarmMember[] = [];
  let last: AlarmResponse = { header: listed.header, alarms: [] };
  for (const a of listed.alarms) {
    last = codec.alarmResponse(await ctx.call('/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID: idField(a.memberId), alarm: a.alarm }));
    disarmed.push(...last.alarms);
  }
  return { header: last.header, alarms: disarmed };
}

async function moveLeader(ctx: CommandContext, argv: Args): Promise<void> {
  const args = positionals(argv, 1);
  if (args.length !== 1) throw badArgs('move-leader command needs 1 argument');
  let target: bigint;
  try {
    target = parseGoUintHex(args[0]);
  } catch (e) {
    throw badArgs((e as Error).message);
  }
  const client = await ctx.client();
  for (const ep of ctx.globals.endpoints) {
    const s = codec.statusResponse(await client.callOn(ep, '/v3/maintenance/status', {}));
    if (s.header.memberId !== s.leader) continue;
    const r = codec.headerOnly(await client.callOn(ep, '/v3/maintenance/transfer-leadership', { targetID: idField(target) }));
    ctx.printer.moveLeader(s.leader, target, r);
    return;
  }
  throw badArgs(`no leader endpoint given at [${ctx.globals.endpoints.join(' ')}]`);
}

export const registerMaintenance: Register = (y, select) => {
  y.command('compaction', 'Compacts the event history in etcd', usage('compaction [options] <revision>',
    (s) => s.option('physical', { type: 'boolean', default: false, describe: '\'true\' to wait for compaction to physically remove all old revisions' })),
  (a) => select(a as Args, (ctx) => compaction(ctx, a as Args)));
  group(y, select, 'alarm', 'Alarm related commands', (g) => g
    .command('disarm', 'Disarms all alarms', usage('alarm disarm'), (a) => select(a as Args, async (ctx) => ctx.printer.alarm(await alarmDisarm(ctx))))
    .command('list', 'Lists all alarms', usage('alarm list'), (a) => select(a as Args, async (ctx) => ctx.printer.alarm(await alarmList(ctx)))));
  y.command('defrag', 'Defragments the storage of the etcd members with given endpoints', usage('defrag [options]', (s) => s
    .option('cluster', { type: 'boolean', default: false, describe: 'use all endpoints from the cluster member list' })
    .option('data-dir', { type: 'string', default: '', describe: 'Optional. If present, defragments a data directory not in use by etcd (not supported by cairnctl).' })),
  (a) => select(a as Args, (ctx) => defrag(ctx, a as Args)));
  y.command('move-leader', 'Transfers leadership to another etcd cluster member.', usage('move-leader <transferee-member-id>'),
    (a) => select(a as Args, (ctx) => moveLeader(ctx, a as Args)));
  y.command('version', 'Prints the version of cairnctl', usage('version'),
    (a) => select(a as Args, async (ctx) => { ctx.io.out(`cairnctl version: ${cairnctlVersion()}\nAPI version: ${apiVersion}\n`); }));
  return y;
};
