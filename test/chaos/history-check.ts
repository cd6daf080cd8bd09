/**
 * Judges a saved chaos history: the watch streams (per member: every revision in order, no
 * gap, no duplicate; all members the same sequence), no acknowledged write lost, lease expiry
 * (a lease's keys deleted at one revision, the same on every member, and nothing left
 * attached), and linearizability of every key (linearizability.ts), plus availability figures.
 *
 * The watch streams also settle indeterminate writes: values are unique, so a timed-out put or
 * CAS whose value never appears in the (checked, complete) event sequence did not take effect
 * and is dropped, and one whose value appears took effect before the first member delivered
 * that event, which bounds its return. A lease key's DELETE event is its lease's expiry.
 *
 * Owns: these checks. Must never: do I/O or read the clock (replay gives the same verdict).
 */
import type { HistoryFile, OpRecord, WatchEventRecord } from './history.js';
import { checkHistory, type CheckedOp, type RegisterOp, type RegisterOutput, type Verdict } from './linearizability.js';

export interface Availability {
  okOps: number;
  seconds: number;
  okPerSec: number;
}

export interface Report {
  ok: boolean;
  problems: string[];
  linearizability: Verdict['result'];
  keysChecked: number;
  configurations: number;
  opCounts: Record<string, number>;
  checkedOps: number;
  indeterminateSettled: { tookEffect: number; neverHappened: number; stillOpen: number };
  watch: { members: number; events: number; lastRevision: number };
  leases: { expiries: number; keysDeleted: number };
  availability: { overall: Availability; duringFaults: Availability; withoutFaults: Availability; byFault: Record<string, Availability> };
  faults: Record<string, number>;
  /** Facts about the run worth printing (from the history's notes, and the campaign's). */
  notes: string[];
}

const maxProblemsListed = 20;

function big(s: string): bigint {
  return BigInt(s);
}

/** Per member: in delivery order, revisions never go back, never skip, and no (rev, key) twice. */
function checkStream(name: string, events: readonly WatchEventRecord[], problems: string[]): void {
  let prev: WatchEventRecord | undefined;
  const seen = new Set<string>();
  for (const e of events) {
    const id = `${e.rev}|${e.key}`;
    if (seen.has(id)) problems.push(`watch ${name}: duplicate event rev ${e.rev} key ${e.key}`);
    seen.add(id);
    if (prev === undefined) {
      if (e.rev !== 2) problems.push(`watch ${name}: first event at rev ${e.rev}, expected 2 (watched from 1)`);
    } else if (e.rev !== prev.rev && e.rev !== prev.rev + 1) {
      problems.push(`watch ${name}: after rev ${prev.rev} came rev ${e.rev} (${e.rev > prev.rev ? 'gap' : 'out of order'})`);
    }
    prev = e;
  }
}

function sameEvent(a: WatchEventRecord, b: WatchEventRecord): boolean {
  return a.rev === b.rev && a.key === b.key && a.type === b.type && (a.value ?? '') === (b.value ?? '') && (a.lease ?? '0') === (b.lease ?? '0');
}

/** All members' streams are one sequence; returns the longest, and the first delivery time of each event. */
function canonicalEvents(h: HistoryFile, problems: string[]): { events: WatchEventRecord[]; firstAt: bigint[] } {
  const names = Object.keys(h.watch).sort();
  let longest: WatchEventRecord[] = [];
  for (const n of names) {
    checkStream(n, h.watch[n], problems);
    if (h.watch[n].length > longest.length) longest = h.watch[n];
  }
  const firstAt = longest.map((e) => big(e.atNs));
  for (const n of names) {
    const evs = h.watch[n];
    if (evs.length !== longest.length) problems.push(`watch ${n}: ${evs.length} events, another member delivered ${longest.length}`);
    for (let i = 0; i < evs.length && i < longest.length; i++) {
      if (!sameEvent(evs[i], longest[i])) {
        problems.push(`watch ${n}: event ${i} is ${JSON.stringify(evs[i])}, another member has ${JSON.stringify(longest[i])}`);
        break;
      }
      const at = big(evs[i].atNs);
      if (at < firstAt[i]) firstAt[i] = at;
    }
  }
  return { events: longest, firstAt };
}

function registerOpOf(o: OpRecord): RegisterOp {
  switch (o.kind) {
    case 'read': return { kind: 'read' };
    case 'write': return { kind: 'write', value: o.value! };
    case 'cas': return { kind: 'cas', expect: o.expect!, value: o.value! };
    case 'delete': return { kind: 'delete' };
  }
}

function outputOf(o: OpRecord): RegisterOutput {
  switch (o.kind) {
    case 'read': return { kind: 'read', value: o.read ?? null };
    case 'write': return { kind: 'write' };
    case 'cas': return { kind: 'cas', succeeded: o.succeeded === true };
    case 'delete': return { kind: 'delete', deleted: o.deleted ?? 0 };
  }
}

interface Settled {
  ops: CheckedOp[];
  tookEffect: number;
  neverHappened: number;
  stillOpen: number;
}

/** The ops the checker sees: acknowledged ones, and the indeterminate ones settled by the watch. */
function settle(h: HistoryFile, putAt: Map<string, { index: number; at: bigint }>, problems: string[]): Settled {
  const ops: CheckedOp[] = [];
  let tookEffect = 0;
  let neverHappened = 0;
  let stillOpen = 0;
  for (const o of h.ops) {
    const invokeNs = big(o.invokeNs);
    if (o.status === 'ok') {
      ops.push({ id: o.id, key: o.key, op: registerOpOf(o), invokeNs, returnNs: big(o.completeNs!), output: outputOf(o) });
      continue;
    }
    if (o.status === 'fail' || o.kind === 'read') continue; // no effect
    if (o.kind === 'delete') {
      ops.push({ id: o.id, key: o.key, op: registerOpOf(o), invokeNs, returnNs: null, output: null });
      stillOpen++;
      continue;
    }
    const seen = putAt.get(o.value!);
    if (seen === undefined) {
      neverHappened++;
      continue;
    }
    if (seen.at < invokeNs) problems.push(`op ${o.id}: its value ${o.value} was delivered by a watch before the op was invoked`);
    ops.push({ id: o.id, key: o.key, op: registerOpOf(o), invokeNs, returnNs: seen.at < invokeNs ? invokeNs : seen.at, output: null });
    tookEffect++;
  }
  return { ops, tookEffect, neverHappened, stillOpen };
}

function availability(okAt: readonly bigint[], windows: ReadonlyArray<readonly [bigint, bigint]>): Availability {
  let seconds = 0;
  for (const [a, b] of windows) seconds += Number(b - a) / 1e9;
  const okOps = okAt.filter((t) => windows.some(([a, b]) => t >= a && t <= b)).length;
  return { okOps, seconds: round(seconds), okPerSec: seconds > 0 ? round(okOps / seconds) : 0 };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Merge overlapping windows, and their complement within [start, end]. */
function windowsOf(h: HistoryFile, kind?: string): { during: Array<[bigint, bigint]>; without: Array<[bigint, bigint]> } {
  const start = big(h.startNs);
  const end = big(h.healedNs);
  const raw = h.faultLog.filter((f) => kind === undefined || f.kind === kind)
    .map((f): [bigint, bigint] => [big(f.startNs), f.endNs === null ? end : big(f.endNs)])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const during: Array<[bigint, bigint]> = [];
  for (const w of raw) {
    const last = during[during.length - 1];
    if (last && w[0] <= last[1]) last[1] = w[1] > last[1] ? w[1] : last[1];
    else during.push([w[0], w[1]]);
  }
  const without: Array<[bigint, bigint]> = [];
  let t = start;
  for (const [a, b] of during) {
    if (a > t) without.push([t, a]);
    if (b > t) t = b;
  }
  if (end > t) without.push([t, end]);
  return { during, without };
}

export function analyze(h: HistoryFile, maxConfigurations?: number): Report {
  const problems: string[] = [];
  const { events, firstAt } = canonicalEvents(h, problems);

  // Where each value was put (values are unique), and lease expiries on lease keys.
  const putAt = new Map<string, { index: number; at: bigint }>();
  const leaseKeys = new Set(h.leaseKeys);
  const current = new Map<string, WatchEventRecord>();
  const expiryRevs = new Map<string, Set<number>>();
  const expiries: CheckedOp[] = [];
  const leaseOfValue = new Map<string, string>();
  const opOfValue = new Map<string, OpRecord>();
  for (const o of h.ops) {
    if (o.value !== undefined) opOfValue.set(o.value, o);
    if (o.lease !== undefined && o.value !== undefined) leaseOfValue.set(o.value, o.lease);
  }
  let keysDeleted = 0;
  events.forEach((e, i) => {
    if (e.type === 'PUT') {
      if (e.value === undefined) problems.push(`watch: PUT at rev ${e.rev} without a value`);
      else if (putAt.has(e.value)) problems.push(`value ${e.value} put twice (rev ${e.rev})`);
      else putAt.set(e.value, { index: i, at: firstAt[i] });
      current.set(e.key, e);
      return;
    }
    const before = current.get(e.key);
    current.delete(e.key);
    if (!leaseKeys.has(e.key)) return;
    if (before === undefined) {
      problems.push(`lease key ${e.key} deleted at rev ${e.rev} while absent`);
      return;
    }
    const lease = before.lease ?? leaseOfValue.get(before.value ?? '');
    if (lease === undefined || lease === '0') {
      problems.push(`lease key ${e.key} deleted at rev ${e.rev} but its value had no lease`);
      return;
    }
    keysDeleted++;
    let revs = expiryRevs.get(lease);
    if (!revs) expiryRevs.set(lease, (revs = new Set()));
    revs.add(e.rev);
    // The expiry as a register op: after the put was invoked, before the delete was delivered.
    const put = opOfValue.get(before.value ?? '');
    expiries.push({
      id: -1 - expiries.length, key: e.key, op: { kind: 'expire', value: before.value! },
      invokeNs: put ? big(put.invokeNs) : big(h.startNs), returnNs: firstAt[i], output: null,
    });
  });
  for (const [lease, revs] of expiryRevs) {
    if (revs.size > 1) problems.push(`lease ${lease}: its keys were deleted at ${revs.size} revisions (${[...revs].join(', ')}), not one`);
  }
  for (const [key, e] of current) {
    if (leaseKeys.has(key) && e.type === 'PUT') problems.push(`lease key ${key} still holds ${e.value} (lease ${e.lease ?? '?'}) after every lease expired`);
  }

  // No acknowledged write lost.
  for (const o of h.ops) {
    if (o.status !== 'ok') continue;
    if ((o.kind === 'write' || (o.kind === 'cas' && o.succeeded === true)) && !putAt.has(o.value!)) {
      problems.push(`acknowledged ${o.kind} of ${o.key}=${o.value} (op ${o.id}, via ${o.member}) is in no watch stream: lost`);
    }
  }

  const settled = settle(h, putAt, problems);
  const verdict = checkHistory([...settled.ops, ...expiries], maxConfigurations);
  for (const k of verdict.keys) {
    if (k.result === 'illegal') problems.push(`key ${k.key}: not linearizable (${k.ops} ops; stuck near op ${k.stuckAt?.id} ${JSON.stringify(k.stuckAt?.op)})`);
    if (k.result === 'unknown') problems.push(`key ${k.key}: linearizability search gave up after ${k.configurations} configurations`);
  }

  const okAt = h.ops.filter((o) => o.status === 'ok' && big(o.completeNs!) <= big(h.healedNs)).map((o) => big(o.completeNs!));
  const all = windowsOf(h);
  const byFault: Record<string, Availability> = {};
  const faults: Record<string, number> = {};
  for (const f of h.faultLog) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
  for (const kind of Object.keys(faults)) byFault[kind] = availability(okAt, windowsOf(h, kind).during);
  const opCounts: Record<string, number> = {};
  for (const o of h.ops) {
    const k = `${o.kind}:${o.status ?? 'open'}`;
    opCounts[k] = (opCounts[k] ?? 0) + 1;
  }
  const listed = problems.length > maxProblemsListed
    ? [...problems.slice(0, maxProblemsListed), `... and ${problems.length - maxProblemsListed} more`]
    : problems;
  return {
    ok: problems.length === 0 && verdict.result === 'ok',
    problems: listed,
    linearizability: verdict.result,
    keysChecked: verdict.keys.length,
    configurations: verdict.keys.reduce((s, k) => s + k.configurations, 0),
    opCounts,
    checkedOps: settled.ops.length + expiries.length,
    indeterminateSettled: { tookEffect: settled.tookEffect, neverHappened: settled.neverHappened, stillOpen: settled.stillOpen },
    watch: { members: Object.keys(h.watch).length, events: events.length, lastRevision: events.length ? events[events.length - 1].rev : 1 },
    leases: { expiries: expiryRevs.size, keysDeleted },
    availability: {
      overall: availability(okAt, [[big(h.startNs), big(h.healedNs)]]),
      duringFaults: availability(okAt, all.during),
      withoutFaults: availability(okAt, all.without),
      byFault,
    },
    faults,
    notes: [...h.notes],
  };
}
