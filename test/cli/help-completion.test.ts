/**
 * What needs no data: --help for every command, groups without a subcommand, unknown commands,
 * shell completion, and `check perf` (a short load against the real server).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerHandle } from '../support/harness.js';
import { cairnctl, startTarget } from './cli-harness.js';
import { cairnctlInProcess } from './compare.js';

const commands = [
  'put', 'get', 'del', 'txn', 'watch', 'compaction', 'defrag', 'move-leader', 'version', 'lock', 'elect', 'completion',
  'lease grant', 'lease revoke', 'lease timetolive', 'lease list', 'lease keep-alive',
  'member add', 'member remove', 'member update', 'member list', 'member promote',
  'endpoint health', 'endpoint status', 'endpoint hashkv', 'alarm list', 'alarm disarm',
  'snapshot save', 'snapshot status', 'snapshot restore', 'check perf',
  'user add', 'user delete', 'user get', 'user list', 'user passwd', 'user grant-role', 'user revoke-role',
  'role add', 'role delete', 'role get', 'role list', 'role grant-permission', 'role revoke-permission',
  'auth enable', 'auth disable',
];

describe('help', () => {
  test('--help of every command prints its usage line, its flags and the global flags, exit 0', async () => {
    for (const c of commands) {
      const r = await cairnctlInProcess(null, [...c.split(' '), '--help']);
      assert.equal(r.code, 0, `${c}: ${r.stderr}`);
      assert.ok(r.stdout.startsWith(`cairnctl ${c}`), `${c} usage line: ${r.stdout.split('\n')[0]}`);
      assert.match(r.stdout, /GLOBAL OPTIONS:\n\s+--endpoints/, c);
    }
  });

  test('the top-level help lists every command (as a real process)', async () => {
    const r = await cairnctl(null, ['--help']);
    assert.equal(r.code, 0);
    for (const c of ['put', 'get', 'del', 'txn', 'watch', 'lease', 'member', 'endpoint', 'snapshot', 'lock', 'elect', 'user', 'role', 'auth', 'check', 'completion']) {
      assert.match(r.stdout, new RegExp(`^  cairnctl ${c}\\b`, 'm'), c);
    }
  });

  test('a group without a subcommand prints its help and exits 0', async () => {
    const r = await cairnctlInProcess(null, ['lease']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^cairnctl lease <subcommand>\n[\s\S]*cairnctl lease grant/);
  });

  test('an unknown command: error and hint on stderr, exit 1', async () => {
    const r = await cairnctlInProcess(null, ['bogus']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: unknown command "bogus" for "cairnctl"\nRun \'cairnctl --help\' for usage.\n');
  });

  test('an unknown output format: "unsupported output format", exit 4 (as etcdctl)', async () => {
    const g = await cairnctlInProcess('127.0.0.1:1', ['-w', 'yaml', 'get', 'k']);
    assert.equal(g.code, 4);
    assert.equal(g.stderr, 'Error: unsupported output format\n');
  });
});

describe('completion', () => {
  test('bash and zsh scripts ask cairnctl for completions', async () => {
    for (const shell of ['bash', 'zsh']) {
      const r = await cairnctlInProcess(null, ['completion', shell]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /cairnctl --get-yargs-completions/);
    }
    assert.match((await cairnctlInProcess(null, ['completion', 'bash'])).stdout, /^complete .* cairnctl$/m);
    assert.equal((await cairnctlInProcess(null, ['completion', 'fish'])).code, 128);
  });

  test('completions: commands, subcommands and flags for the words typed (as a real process)', async () => {
    assert.equal((await cairnctl(null, ['--get-yargs-completions', 'cairnctl', 'le'])).stdout, 'lease\n');
    assert.equal((await cairnctlInProcess(null, ['--get-yargs-completions', 'cairnctl', 'lease', ''])).stdout, 'grant\nrevoke\ntimetolive\nlist\nkeep-alive\n');
    assert.equal((await cairnctlInProcess(null, ['--get-yargs-completions', 'cairnctl', 'get', '--pre'])).stdout, '--prefix\n');
    assert.equal((await cairnctlInProcess(null, ['--get-yargs-completions', 'cairnctl', 'put', '--pre'])).stdout, '--prev-kv\n');
  });
});

describe('check perf', () => {
  let server: ServerHandle;
  before(async () => { server = await startTarget(); });
  after(async () => { await server?.dispose(); });

  test('a short load prints etcdctl\'s verdict lines and cleans its prefix', async () => {
    const r = await cairnctl(server.clientUrl, ['check', 'perf', '--duration=2s', '--prefix=/perf-test/'], { timeoutMs: 30_000 });
    assert.match(r.stdout, /^(PASS: Throughput is \d+ writes\/s|FAIL: Throughput too low: \d+ writes\/s)\n(PASS: Slowest request took|Slowest request took too long:) \d+\.\d{6}s\n(PASS: Stddev is|Stddev too high:) \d+\.\d{6}s\n(PASS|FAIL)\n$/);
    assert.equal(r.code, r.stdout.endsWith('PASS\n') ? 0 : 1);
    const left = await cairnctlInProcess(server.clientUrl, ['get', '/perf-test/', '--prefix', '--keys-only']);
    assert.equal(left.stdout, '');
  });

  test('an unknown load is refused before any write', async () => {
    const r = await cairnctlInProcess(server.clientUrl, ['check', 'perf', '--load=huge']);
    assert.equal(r.code, 4);
    assert.equal(r.stderr, 'Error: unknown load option huge\n');
  });
});
