/**
 * One chaos campaign: start an N-member cluster of real cairn processes on 127.0.0.1 (peer
 * traffic through the partition proxies), one watcher per member, the clients and the nemesis
 * for a fixed time; then heal everything, read every key from every member, let every lease
 * expire, wait until every watch stream has caught up, save the history file, and judge it.
 *
 * Owns: the processes, proxies and temp dirs it starts; it stops and removes them at the end
 * (the data dirs and the history file are kept when the verdict is not ok).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/cluster.js';
import { cairnEntry } from '../support/paths.js';
import { freePorts } from '../support/ports.js';
import { launchMember, type MemberLayout, type ServerHandle } from '../support/member.js';
import { historyFormatVersion, nowNs, Recorder, type HistoryFile } from './history.js';
import { analyze, type Report } from './history-check.js';
import { Nemesis, snapshotInstalls, type FaultKind, type NemesisTiming, defaultTiming } from './nemesis.js';
import { PartitionProxies } from './partition-proxy.js';
import {
  GatewayClient, MemberWatcher, defaultWorkload, leaseKeyNames, leaseKeyPrefix, leaseKeyPrefixEnd, registerKeyNames, runClient, type WorkloadOptions,
} from './workload.js';

export interface CampaignOptions {
  seed: number;
  nodes: number;
  timeSec: number;
  faults: readonly FaultKind[];
  workload?: Partial<WorkloadOptions>;
  timing?: NemesisTiming;
  /** Where to write the history file; default: a temp dir. */
  historyPath?: string;
  /** Keep the history file always, or only when the verdict is not ok (default). */
  keepHistory?: 'always' | 'on-failure';
  log?: (line: string) => void;
  /**
   * Log snapshots every this many entries, keeping a quarter of that behind each for catch-up,
   * so members that were down or cut off are often brought back by a snapshot install.
   * Default: the member's own defaults.
   */
  snapshotCount?: number;
}

export interface CampaignResult {
  report: Report;
  historyPath: string;
}

/** Bounds on the end of a campaign: members healthy again, leases gone, watches caught up. */
const healDeadlineMs = 60_000;
const leaseExpiryDeadlineMs = 60_000;
const watchCatchUpDeadlineMs = 60_000;
const maxWatchEventsPerMember = 4_000_000;
/** A member (re)starting must answer /health within this; stop waits this long before SIGKILL. */
const memberReadyTimeoutMs = 30_000;
const memberStopTimeoutMs = 10_000;

async function startMembers(nodes: number, proxies: PartitionProxies, extraArgs: string[], logLevel: string): Promise<ServerHandle[]> {
  const entry = cairnEntry();
  if (!entry.exists) throw new Error(`cairn not built: ${entry.file}`);
  const ports = await freePorts(3 * nodes);
  const names = Array.from({ length: nodes }, (_, i) => `m${i + 1}`);
  const initialCluster = names.map((nm, i) => `${nm}=http://127.0.0.1:${ports[3 * i + 2]}`).join(',');
  const layouts: MemberLayout[] = [];
  for (let i = 0; i < nodes; i++) {
    proxies.add(names[i], ports[3 * i + 1]);
    await proxies.listen(names[i], ports[3 * i + 2]);
    layouts.push({
      kind: 'cairn', name: names[i], dataDir: await mkdtemp(join(tmpdir(), `cairn-chaos-${names[i]}-`)),
      clientPort: ports[3 * i], peerPort: ports[3 * i + 1], advertisedPeerPort: ports[3 * i + 2],
      initialCluster, initialClusterToken: `chaos-${ports[0]}`, logLevel, extraArgs, env: {},
      readyTimeoutMs: memberReadyTimeoutMs, stopTimeoutMs: memberStopTimeoutMs, command: entry.command, commandArgs: entry.args,
    });
  }
  return Promise.all(layouts.map((l) => launchMember(l, true)));
}

async function memberIds(handles: readonly ServerHandle[], gwc: GatewayClient): Promise<string[]> {
  const list = await waitFor('the member list', 10_000, async () => {
    const r = await gwc.call(handles[0].clientUrl, '/v3/cluster/member/list', {});
    return r.status === 'ok' ? (r.json.members as Array<{ ID: string; name: string }>) : undefined;
  });
  return handles.map((h) => {
    const m = list.find((x) => x.name === h.name);
    if (!m) throw new Error(`member ${h.name} missing from the member list`);
    return String(m.ID);
  });
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const workload: WorkloadOptions = { ...defaultWorkload, ...o.workload };
  const rec = new Recorder();
  const proxies = new PartitionProxies();
  const gwc = new GatewayClient(workload.opTimeoutMs);
  const startedAt = new Date().toISOString();
  let handles: ServerHandle[] = [];
  const watchers: MemberWatcher[] = [];
  let report: Report | undefined;
  const historyPath = o.historyPath ?? join(await mkdtemp(join(tmpdir(), 'cairn-chaos-history-')), `history-seed-${o.seed}.json`);
  try {
    const extraArgs = o.snapshotCount === undefined ? [] : [
      '--snapshot-count', String(o.snapshotCount),
      '--experimental-snapshot-catchup-entries', String(Math.max(1, Math.floor(o.snapshotCount / 4))),
    ];
    // At info a member says when it installs a snapshot; the report counts those lines.
    handles = await startMembers(o.nodes, proxies, extraArgs, o.snapshotCount === undefined ? 'warn' : 'info');
    const members = { handles, ids: await memberIds(handles, gwc) };
    proxies.setMemberIds(new Map(handles.map((h, i) => [h.name, BigInt(members.ids[i]).toString(16)])));
    log(`chaos: seed ${o.seed}, ${o.nodes} members, ${o.timeSec}s, faults ${o.faults.join(',') || 'none'}, ${workload.clients} clients` +
      (o.snapshotCount === undefined ? '' : `, snapshot every ${o.snapshotCount} entries`));
    const urlOf = (i: number) => () => members.handles[i].clientUrl;
    for (let i = 0; i < o.nodes; i++) {
      const w = new MemberWatcher(handles[i].name, urlOf(i), maxWatchEventsPerMember);
      w.start();
      watchers.push(w);
    }
    const view = { members: () => members.handles.map((h) => ({ name: h.name, url: h.clientUrl })) };
    const startNs = nowNs();
    const until = Date.now() + o.timeSec * 1000;
    const stopped = () => Date.now() >= until;
    const clients = Array.from({ length: workload.clients }, (_, i) => runClient(i, o.seed, view, rec, gwc, workload, stopped));
    const nemesis = new Nemesis(o.seed, members, proxies, rec, gwc, o.faults, o.timing ?? defaultTiming);
    nemesis.start();
    const progress = setInterval(() => {
      const ok = rec.ops.filter((x) => x.status === 'ok').length;
      const last = rec.faultLog[rec.faultLog.length - 1];
      log(`chaos: ${rec.ops.length} ops (${ok} ok), ${rec.faultLog.length} faults${last ? `, last: ${last.detail}` : ''}`);
    }, 30_000);
    await Promise.all(clients);
    await nemesis.stop();
    clearInterval(progress);
    if (nemesis.error) rec.notes.push(`nemesis error: ${nemesis.error.message}`);
    const healedNs = nowNs();
    await finalReads(members.handles, rec, gwc, workload);
    const lastRevision = await waitForLeases(members.handles, gwc);
    await finalReads(members.handles, rec, gwc, workload, leaseKeyNames(workload));
    await waitFor('every watch stream to reach the last revision', watchCatchUpDeadlineMs, async () =>
      watchers.every((w) => w.revision() >= lastRevision) ? true : undefined);
    for (const w of watchers) await w.stop();
    const history: HistoryFile = {
      format: historyFormatVersion, seed: o.seed, nodes: o.nodes, timeSec: o.timeSec, faults: [...o.faults], startedAt,
      startNs: startNs.toString(), endNs: nowNs().toString(), healedNs: healedNs.toString(),
      ops: rec.ops, faultLog: rec.faultLog,
      watch: Object.fromEntries(watchers.map((w) => [w.name, w.events])),
      leaseKeys: leaseKeyNames(workload), notes: rec.notes,
    };
    await writeFile(historyPath, JSON.stringify(history));
    report = analyze(history);
    if (o.snapshotCount !== undefined) {
      const installs = nemesis.snapshotInstallsBeforeRestarts + members.handles.reduce((n, h) => n + snapshotInstalls(h), 0);
      report.notes.push(`snapshot installs on lagging members: ${installs}`);
    }
    if (nemesis.error) {
      report.problems.unshift(`nemesis failed: ${nemesis.error.message}`);
      report.ok = false;
    }
    if (report.ok && o.keepHistory !== 'always') await rm(historyPath, { force: true });
    return { report, historyPath };
  } catch (e) {
    // Keep what was recorded: the failure is replayable as far as it got.
    await writeFile(historyPath, JSON.stringify({ seed: o.seed, error: String(e), ops: rec.ops, faultLog: rec.faultLog }));
    throw new Error(`chaos campaign (seed ${o.seed}) failed: ${(e as Error).message}; partial history in ${historyPath}`);
  } finally {
    for (const w of watchers) await w.stop().catch(() => undefined);
    for (const h of handles) {
      try { process.kill(h.pid, 'SIGCONT'); } catch { /* gone */ }
    }
    const keep = report === undefined || !report.ok;
    await Promise.all(handles.map((h) => h.dispose({ keepData: keep })));
    await proxies.close();
    await gwc.close();
  }
}

/** After healing: every member healthy, and one linearizable read of every key on every member. */
async function finalReads(
  handles: readonly ServerHandle[], rec: Recorder, gwc: GatewayClient, w: WorkloadOptions, keys = registerKeyNames(w),
): Promise<void> {
  for (const h of handles) {
    for (const key of keys) {
      await waitFor(`a final read of ${key} on ${h.name}`, healDeadlineMs, async () => {
        const op = rec.invoke({ client: -1, member: h.name, key, kind: 'read' });
        const r = await gwc.call(h.clientUrl, '/v3/kv/range', { key: Buffer.from(key).toString('base64') });
        if (r.status !== 'ok') {
          rec.complete(op, 'fail', { error: r.error });
          return undefined;
        }
        const kv = (r.json.kvs ?? [])[0];
        rec.complete(op, 'ok', { read: kv === undefined ? null : Buffer.from(kv.value ?? '', 'base64').toString('utf8') });
        return true;
      });
    }
  }
}

/** Leases are never kept alive: wait until none is left and every lease key is gone; the last revision. */
async function waitForLeases(handles: readonly ServerHandle[], gwc: GatewayClient): Promise<number> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return waitFor('every lease to expire and its keys to go', leaseExpiryDeadlineMs, async () => {
    let revision = 0;
    for (const h of handles) {
      const leases = await gwc.call(h.clientUrl, '/v3/lease/leases', {});
      if (leases.status !== 'ok' || (leases.json.leases ?? []).length > 0) return undefined;
      const r = await gwc.call(h.clientUrl, '/v3/kv/range', { key: b64(leaseKeyPrefix), range_end: b64(leaseKeyPrefixEnd), count_only: true });
      if (r.status !== 'ok' || (r.json.count ?? '0') !== '0') return undefined;
      revision = Math.max(revision, Number(r.json.header.revision));
    }
    return revision;
  });
}
