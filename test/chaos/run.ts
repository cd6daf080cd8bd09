/**
 * `npm run chaos -- --time 300 --nodes 5 --seed N [--faults kill,pause,...] [--clients 6]
 * [--out history.json] [--snapshot-count N]` runs one campaign and prints its report; `--check history.json`
 * judges a saved history again (replay of the analysis, no cluster). Exit 0 when the history
 * is linearizable and every other check passes, 1 when not, 2 on a usage error.
 *
 * Owns: argument parsing and the printed report only.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { analyze, type Report } from './history-check.js';
import type { HistoryFile } from './history.js';
import { allFaults, type FaultKind } from './nemesis.js';
import { runCampaign } from './campaign.js';

function printReport(r: Report): void {
  const a = r.availability;
  console.log(JSON.stringify({
    verdict: r.ok ? 'ok' : 'FAILED', linearizability: r.linearizability, keys: r.keysChecked, checkedOps: r.checkedOps,
    configurations: r.configurations, opCounts: r.opCounts, indeterminate: r.indeterminateSettled, watch: r.watch,
    leases: r.leases, faults: r.faults,
  }, null, 2));
  console.log(`availability: overall ${a.overall.okPerSec} ok/s over ${a.overall.seconds}s; ` +
    `during faults ${a.duringFaults.okPerSec} ok/s over ${a.duringFaults.seconds}s; without faults ${a.withoutFaults.okPerSec} ok/s`);
  for (const [kind, v] of Object.entries(a.byFault)) console.log(`  ${kind}: ${v.okPerSec} ok/s over ${v.seconds}s`);
  for (const n of r.notes) console.log(`note: ${n}`);
  for (const p of r.problems) console.log(`PROBLEM: ${p}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      time: { type: 'string', default: '60' },
      nodes: { type: 'string', default: '3' },
      seed: { type: 'string' },
      faults: { type: 'string', default: allFaults.join(',') },
      clients: { type: 'string' },
      out: { type: 'string' },
      check: { type: 'string' },
      'serializable-reads': { type: 'boolean', default: false },
      'snapshot-count': { type: 'string' },
    },
  });
  if (values.check !== undefined) {
    const h = JSON.parse(await readFile(values.check, 'utf8')) as HistoryFile;
    console.log(`chaos: re-checking ${values.check} (seed ${h.seed}, ${h.ops.length} ops)`);
    const r = analyze(h);
    printReport(r);
    return r.ok ? 0 : 1;
  }
  const faults = values.faults === '' || values.faults === 'none' ? [] : values.faults.split(',');
  const unknown = faults.filter((f) => !(allFaults as readonly string[]).includes(f));
  const nodes = Number(values.nodes);
  const timeSec = Number(values.time);
  if (unknown.length > 0 || !Number.isInteger(nodes) || nodes < 1 || nodes > 7 || !(timeSec > 0)) {
    console.error(`usage: chaos --time SECONDS --nodes 1..7 --seed N --faults ${allFaults.join(',')}${unknown.length ? ` (unknown: ${unknown.join(',')})` : ''}`);
    return 2;
  }
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const { report, historyPath } = await runCampaign({
    seed, nodes, timeSec, faults: faults as FaultKind[], historyPath: values.out,
    keepHistory: 'always',
    snapshotCount: values['snapshot-count'] !== undefined ? Number(values['snapshot-count']) : undefined,
    workload: {
      ...(values.clients !== undefined ? { clients: Number(values.clients) } : {}),
      serializableReads: values['serializable-reads'],
    },
  });
  printReport(report);
  console.log(`chaos: seed ${seed}; history ${historyPath}${report.ok ? '' : ' (kept; replay the check with --check, the schedule with --seed)'}`);
  return report.ok ? 0 : 1;
}

// `node --test dist/test/` runs every .js file under a test/ folder, this one included (with
// NODE_TEST_CONTEXT set): there it is a module, not a campaign — the suite's campaign is
// campaign.test.ts.
if (process.env.NODE_TEST_CONTEXT === undefined) {
  main().then((code) => process.exit(code), (e) => {
    console.error(e);
    process.exit(1);
  });
}
