/**
 * Keeps the expected texts honest whatever server the other CLI tests run against: here every
 * command line runs through cairnctl and through Debian's etcdctl 3.4 against one real etcd,
 * and the outputs must be identical (after the named normalisers). Runs whenever etcd and
 * etcdctl are installed (CI installs both).
 */
import { after, before, describe, test } from 'node:test';
import { etcdAvailable, startEtcd, type ServerHandle } from '../support/harness.js';
import { etcdctlAvailable } from './cli-harness.js';
import { cairnctlInProcess, leaseIds, revisions, same, timings, type Normaliser } from './compare.js';

const available = etcdAvailable() && etcdctlAvailable();
let server: ServerHandle;
const ctl = (args: string[]) => cairnctlInProcess(server.clientUrl, args);

interface Case { args: string[]; input?: string; setup?: () => Promise<unknown>; normalise?: Normaliser[] }

const put = (k: string, v: string) => () => ctl(['put', k, v]);
const statusNumbers: Normaliser = (t) => t
  .replace(/("(?:raftIndex|raftAppliedIndex|dbSize|dbSizeInUse|RaftIndex|RaftAppliedIndex|DBSize)"\s*:\s*)\d+/g, '$1N')
  .replace(/, \d+(\.\d)? [kMG]?B, (true|false), (true|false), (\d+), \d+, \d+, /g, ', SIZE, $2, $3, $4, N, N, ');

const cases: Case[] = [
  { args: ['put', 'p/a', '1'] },
  { args: ['put', 'p/b', 'two words', '--prev-kv'], setup: put('p/b', 'old'), normalise: [revisions] },
  { args: ['put', 'p/c'], input: 'from stdin\n' },
  { args: ['put', 'p/b', '--ignore-value'] },
  { args: ['get', 'p/', '--prefix'] },
  ...['json', 'fields'].map((w) => ({ args: ['get', 'p/', '--prefix', '-w', w] })),
  { args: ['get', 'p/', '--prefix', '--hex'] },
  { args: ['get', 'p/', '--prefix', '--keys-only', '--limit=2', '--sort-by=MODIFY', '--order=DESCEND'] },
  { args: ['get', 'p/a', 'p/c', '--print-value-only', '--consistency=s'] },
  { args: ['get', 'p/a', '-w', 'table'] },
  { args: ['get', 'p/a', '--print-value-only', '-w', 'json'] },
  { args: ['get', 'nothing'] },
  { args: ['get'] },
  { args: ['del', 'd/', '--prefix', '--prev-kv'], setup: async () => { await put('d/a', '1')(); await put('d/b', '2')(); }, normalise: [revisions] },
  ...['json', 'fields'].map((w) => ({ args: ['del', 'p/a', '-w', w], setup: put('p/a', '1'), normalise: [revisions] })),
  { args: ['txn', '-w', 'json'], input: 'value("p/a") = "1"\n\nput p/x y\nget p/a\n\ndel p/a\n\n', setup: put('p/a', '1'), normalise: [revisions] },
  { args: ['txn', '-i'], input: 'version("p/a") = "0"\n\nput p/y y\n\nget p/a --keys-only\n\n', setup: put('p/a', '1') },
  { args: ['lease', 'grant', '50', '-w', 'fields'], normalise: [leaseIds, revisions] },
  { args: ['lease', 'timetolive', 'abcd'] },
  { args: ['lease', 'timetolive', 'abcd', '-w', 'json'] },
  { args: ['lease', 'revoke', 'abcd'] },
  ...['simple', 'json', 'fields', 'table'].map((w) => ({ args: ['member', 'list', '-w', w] })),
  ...['simple', 'json', 'fields', 'table'].map((w) => ({ args: ['endpoint', 'health', '-w', w], normalise: [timings, (t: string) => t.replace(/-+/g, '-').replace(/ +/g, ' ')] })),
  ...['simple', 'json', 'fields', 'table'].map((w) => ({ args: ['endpoint', 'status', '-w', w], normalise: [statusNumbers, (t: string) => t.replace(/-+/g, '-').replace(/ +/g, ' ')] })),
  { args: ['alarm', 'list', '-w', 'json'] },
  { args: ['compaction', '1'], setup: () => ctl(['compaction', '2']) },
  { args: ['defrag'] },
  { args: ['watch'] },
  { args: ['lock'] },
  { args: ['elect', 'x'] },
  { args: ['user', 'list', '-w', 'json'] },
  { args: ['role', 'get', 'nobody'] },
  { args: ['move-leader', '1'] },
  { args: ['snapshot', 'status'] },
  { args: ['-w', 'yaml', 'get', 'k'] },
];

before(async () => { if (available) server = await startEtcd(); });
after(async () => { await server?.dispose(); });

describe('cairnctl and etcdctl print the same', () => {
  for (const c of cases) {
    test(c.args.join(' '), { skip: available ? false : 'etcd or etcdctl is not installed' }, async () => {
      await same(server, c.args, { input: c.input, setup: c.setup, normalise: c.normalise });
    });
  }
});
