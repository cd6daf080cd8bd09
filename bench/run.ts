/**
 * `npm run bench`: starts a single-node Cairn and (when installed) a single-node etcd the same
 * way (same machine, fresh temp data dirs, free ports), one after the other, runs the KV suite
 * (bench/kv.ts) against each, prints a side-by-side table, then runs the other bench modules
 * (dist/bench/*.js other than run.js and kv.js) and prints their `BENCH_RESULT` lines. All
 * results also go to .bench-out/results-<date>.json.
 *
 * Flags: --members N (1: one member; 3: a cluster of real processes per target),
 * --duration <s> (5), --warmup <s> (1), --only put[,range,txn-cas], --targets
 * cairn,etcd, --skip-modules, --module-timeout <s> (300).
 *
 * Owns the servers it starts. Must never crash because one target is missing or fails: say so
 * and go on.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cairnBuilt, cairnEntry, etcdAvailable, etcdVersion, projectRoot, withServers, type ServerScope }
  from '../test/support/harness.js';
import { runKvSuite } from './kv.js';
import { startCluster } from '../test/support/cluster.js';
import type { ServerKind } from '../test/support/member.js';
import { lastResultLine, moduleExt, runNodeFile } from './lib/child.js';
import type { LoadResult } from './lib/loadgen.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { formatTable, type TargetResults } from './lib/table.js';

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string): void => console.log(line);

interface Options {
  durationMs: number;
  warmupMs: number;
  only: string[];
  targets: string[];
  skipModules: boolean;
  moduleTimeoutMs: number;
  /** 1: a single member per target; 3 (or 5): a cluster of real processes, load on member 1. */
  members: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      only: { type: 'string', default: '' },
      targets: { type: 'string', default: 'cairn,etcd' },
      'skip-modules': { type: 'boolean', default: false },
      'module-timeout': { type: 'string', default: '300' },
      members: { type: 'string', default: '1' },
    },
  });
  const seconds = (v: string, name: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number of seconds`);
    return n * 1000;
  };
  return {
    durationMs: seconds(values.duration, 'duration'),
    warmupMs: seconds(values.warmup, 'warmup'),
    only: values.only.split(',').filter((s) => s !== ''),
    targets: values.targets.split(',').filter((s) => s !== ''),
    skipModules: values['skip-modules'],
    moduleTimeoutMs: seconds(values['module-timeout'], 'module-timeout'),
    members: Math.max(1, Math.floor(Number(values.members)) || 1),
  };
}

/** Why a target cannot run, or null when it can. */
function unavailable(target: string): string | null {
  if (target === 'cairn') return cairnBuilt() ? null : `cairn not built (${cairnEntry().file} missing)`;
  if (target === 'etcd') return etcdAvailable() ? null : 'etcd not installed';
  return `unknown target ${target}`;
}

async function benchTarget(target: string, o: Options): Promise<LoadResult[] | { error: string }> {
  const why = unavailable(target);
  if (why !== null) {
    log(`${target}: ${why}; skipped`);
    return { error: why };
  }
  try {
    return await withServers(async (scope: ServerScope) => {
      let server;
      if (o.members > 1) {
        const members = await startCluster(o.members, { kind: target as ServerKind });
        for (const m of members) scope.adopt(m);
        server = members[0];
        log(`${target}: ${o.members} members (pids ${members.map((m) => m.pid).join(', ')}); load on ${server.clientUrl}`);
      } else {
        server = target === 'cairn' ? await scope.startCairn() : await scope.startEtcd();
        log(`${target}: pid ${server.pid} at ${server.clientUrl}, data dir ${server.dataDir}`);
      }
      return runKvSuite(server.clientUrl, { durationMs: o.durationMs, warmupMs: o.warmupMs, only: o.only, cwd: projectRoot, log });
    });
  } catch (e) {
    const error = (e as Error).message;
    log(`${target}: failed: ${error.split('\n').slice(0, 12).join('\n')}`);
    return { error };
  }
}

/** Bench modules beside this file other than the runner, the KV suite and declarations. */
function otherModules(): string[] {
  const skip = new Set([`run${moduleExt}`, `kv${moduleExt}`]);
  return readdirSync(here)
    .filter((f) => f.endsWith(moduleExt) && !f.endsWith(`.d${moduleExt}`) && !f.endsWith(`.test${moduleExt}`) && !skip.has(f))
    .sort()
    .map((f) => join(here, f));
}

async function runModules(o: Options): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const file of otherModules()) {
    const name = basename(file, moduleExt);
    log(`\n== bench module ${name}`);
    const child = await runNodeFile(file, [], o.moduleTimeoutMs, projectRoot);
    let result: unknown;
    try {
      result = lastResultLine(child.stdout, 'BENCH_RESULT');
    } catch (e) {
      result = undefined;
      log(`  BENCH_RESULT line is not JSON: ${(e as Error).message}`);
    }
    if (result === undefined) {
      const why = child.timedOut ? `timed out after ${o.moduleTimeoutMs / 1000} s` : `exit ${child.code ?? child.signal}`;
      log(`  no BENCH_RESULT (${why}) ${child.stderr.slice(-1000)}`);
      out[name] = { error: why, stderr: child.stderr.slice(-4000) };
    } else {
      log(`  ${JSON.stringify(result)}`);
      out[name] = result;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const o = options();
  const machine = machineInfo(projectRoot, etcdVersion());
  log(`Cairn benchmark\n${describeMachine(machine)}`);
  log(`kv: ${o.durationMs / 1000} s per case after ${o.warmupMs / 1000} s warmup; load from a separate process\n`);
  const kv: TargetResults = {};
  const failures: Record<string, string> = {};
  for (const target of o.targets) {
    const r = await benchTarget(target, o);
    if (Array.isArray(r)) kv[target] = r;
    else failures[target] = r.error;
  }
  if (Object.keys(kv).length > 0) log(`\n${formatTable(kv, o.targets)}`);
  const modules = o.skipModules ? {} : await runModules(o);
  const outDir = join(projectRoot, '.bench-out');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `results-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ machine, options: o, kv, failures, modules }, null, 2)}\n`);
  log(`\nresults written to ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
