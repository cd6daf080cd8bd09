/**
 * The nemesis: on a seeded schedule, one fault at a time — kill -9 a random member and restart
 * it, kill -9 the leader and restart it, kill -9 a majority at once (the cluster stops; every
 * member restarts from its disk), SIGSTOP a member then SIGCONT it, move leadership to a
 * random follower, and partition the members (the leader alone, or a random minority) through
 * the peer proxies. Every fault is logged as a window [start, end] in the history; a fault ends
 * when it is healed (the member restarted and healthy, resumed, the partition lifted).
 *
 * Owns: the signals it sends to the cluster's members (only those), and the proxies' cut. Must
 * never: leave a member stopped, paused or cut off when it returns (`heal` undoes everything).
 */
import { Rng } from '../diff/rng.js';
import type { ServerHandle } from '../support/harness.js';
import type { Recorder } from './history.js';
import type { PartitionProxies } from './partition-proxy.js';
import type { GatewayClient } from './workload.js';

export const allFaults = ['kill', 'kill-leader', 'kill-majority', 'pause', 'transfer-leader', 'partition'] as const;
export type FaultKind = typeof allFaults[number];

export interface NemesisTiming {
  /** Quiet time between faults. */
  quietMinMs: number;
  quietMaxMs: number;
  /** How long a fault is held. */
  holdMinMs: number;
  holdMaxMs: number;
}

export const defaultTiming: NemesisTiming = { quietMinMs: 1_000, quietMaxMs: 3_000, holdMinMs: 1_000, holdMaxMs: 5_000 };

export interface Members {
  handles: ServerHandle[];
  /** Member IDs (decimal, as the gateway prints them) by index. */
  ids: string[];
}

/** The index of the member that the others' majority calls leader, if any answers. */
export async function leaderIndex(m: Members, gwc: GatewayClient): Promise<number | undefined> {
  const answers = await Promise.all(m.handles.map((h) => gwc.call(h.clientUrl, '/v3/maintenance/status', {})));
  for (const a of answers) {
    if (a.status !== 'ok' || a.json.leader === undefined || a.json.leader === '0') continue;
    const i = m.ids.indexOf(String(a.json.leader));
    if (i >= 0) return i;
  }
  return undefined;
}

/** What a member logs (at info) when it installed a leader's snapshot. */
const snapshotInstalledLine = /installed the leader's snapshot/g;

export function snapshotInstalls(h: ServerHandle): number {
  return (h.logs().match(snapshotInstalledLine) ?? []).length;
}

export class Nemesis {
  private readonly rng: Rng;
  private stopped = false;
  private readonly paused = new Set<number>();
  private readonly down = new Set<number>();
  private loop: Promise<void> | null = null;
  error: Error | null = null;

  constructor(
    seed: number,
    private readonly members: Members,
    private readonly proxies: PartitionProxies,
    private readonly rec: Recorder,
    private readonly gwc: GatewayClient,
    private readonly faults: readonly FaultKind[],
    private readonly timing: NemesisTiming = defaultTiming,
  ) {
    this.rng = new Rng(seed ^ 0x5eed);
  }

  start(): void {
    this.loop = this.run().catch((e: Error) => { this.error = e; });
  }

  private sleep(minMs: number, maxMs: number): Promise<void> {
    const ms = this.rng.int(minMs, maxMs);
    return new Promise((r) => setTimeout(r, ms));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.sleep(this.timing.quietMinMs, this.timing.quietMaxMs);
      if (this.stopped || this.faults.length === 0) break;
      await this.inject(this.rng.pick(this.faults));
    }
  }

  private async inject(kind: FaultKind): Promise<void> {
    const n = this.members.handles.length;
    const names = this.members.handles.map((h) => h.name);
    const leader = kind === 'kill-leader' || kind === 'transfer-leader' || kind === 'partition' || kind === 'pause'
      ? await leaderIndex(this.members, this.gwc) : undefined;
    switch (kind) {
      case 'kill':
      case 'kill-leader': {
        const i = kind === 'kill-leader' && leader !== undefined ? leader : this.rng.int(0, n - 1);
        const f = this.rec.faultStart(kind, `kill -9 ${names[i]}`);
        this.down.add(i);
        await this.members.handles[i].kill9();
        await this.sleep(this.timing.holdMinMs, this.timing.holdMaxMs);
        await this.restart(i);
        this.rec.faultEnd(f);
        return;
      }
      case 'kill-majority': {
        const chosen = this.shuffled(n).slice(0, Math.floor(n / 2) + 1).sort();
        const f = this.rec.faultStart(kind, `kill -9 ${chosen.map((i) => names[i]).join(',')}`);
        for (const i of chosen) this.down.add(i);
        await Promise.all(chosen.map((i) => this.members.handles[i].kill9()));
        await this.sleep(this.timing.holdMinMs, this.timing.holdMaxMs);
        // Together: each waits for /health, which needs a quorum of them back.
        await Promise.all(chosen.map((i) => this.restart(i)));
        this.rec.faultEnd(f);
        return;
      }
      case 'pause': {
        const i = leader !== undefined && this.rng.chance(0.5) ? leader : this.rng.int(0, n - 1);
        const f = this.rec.faultStart(kind, `SIGSTOP ${names[i]}${i === leader ? ' (leader)' : ''}`);
        this.paused.add(i);
        process.kill(this.members.handles[i].pid, 'SIGSTOP');
        await this.sleep(this.timing.holdMinMs, this.timing.holdMaxMs);
        process.kill(this.members.handles[i].pid, 'SIGCONT');
        this.paused.delete(i);
        this.rec.faultEnd(f);
        return;
      }
      case 'transfer-leader': {
        if (leader === undefined) return;
        const target = (leader + this.rng.int(1, n - 1)) % n;
        const f = this.rec.faultStart(kind, `move leader ${names[leader]} -> ${names[target]}`);
        const r = await this.gwc.call(this.members.handles[leader].clientUrl, '/v3/maintenance/transfer-leadership', { targetID: this.members.ids[target] });
        this.rec.faultEnd(f, r.status === 'ok' ? undefined : r.error);
        return;
      }
      case 'partition': {
        const order = this.shuffled(n);
        const minority = leader !== undefined && this.rng.chance(0.5)
          ? [leader]
          : order.slice(0, this.rng.int(1, Math.floor((n - 1) / 2)));
        const rest = order.filter((i) => !minority.includes(i));
        const groups = [minority.map((i) => names[i]), rest.map((i) => names[i])];
        const f = this.rec.faultStart(kind, `partition ${groups.map((g) => g.join(',')).join(' | ')}`);
        this.proxies.partition(groups);
        await this.sleep(this.timing.holdMinMs, this.timing.holdMaxMs);
        this.proxies.heal();
        this.rec.faultEnd(f);
        return;
      }
    }
  }

  private shuffled(n: number): number[] {
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.rng.int(0, i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  /** Lines matching `snapshotInstalledLine` in the logs of members since replaced by a restart. */
  snapshotInstallsBeforeRestarts = 0;

  private async restart(i: number): Promise<void> {
    this.snapshotInstallsBeforeRestarts += snapshotInstalls(this.members.handles[i]);
    this.members.handles[i] = await this.members.handles[i].restart();
    this.down.delete(i);
  }

  /** Stop injecting, wait for the fault in progress to end, and undo anything left. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.proxies.heal();
    for (const i of this.paused) {
      try { process.kill(this.members.handles[i].pid, 'SIGCONT'); } catch { /* gone */ }
    }
    this.paused.clear();
    for (const i of [...this.down]) await this.restart(i);
  }
}
