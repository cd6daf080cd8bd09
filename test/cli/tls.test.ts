/**
 * TLS flags against a real etcd serving HTTPS with a self-signed certificate (--auto-tls):
 * refused without trust, accepted with --insecure-skip-tls-verify or with the certificate as
 * --cacert, endpoints without a scheme become https when TLS flags are given, and the same
 * from ETCDCTL_* environment variables. Against etcd; cairnctl against a Cairn TLS cluster is in
 * test/cluster/tls.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { etcdBinary, freePorts } from '../support/harness.js';
import { cairnctlInProcess } from './compare.js';

const readyDeadlineMs = 20_000;
const readyPollMs = 100;

let etcd: ChildProcess | null = null;
let dir = '';
let hostPort = '';

before(async () => {
  const bin = etcdBinary();
  if (bin === null) return;
  const [client, peer] = await freePorts(2);
  hostPort = `127.0.0.1:${client}`;
  dir = await mkdtemp(join(tmpdir(), 'cairnctl-tls-'));
  etcd = spawn(bin, [
    '--name', 'tls', '--data-dir', join(dir, 'data'), '--auto-tls',
    '--listen-client-urls', `https://${hostPort}`, '--advertise-client-urls', `https://${hostPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `tls=http://127.0.0.1:${peer}`, '--logger', 'zap', '--log-level', 'error',
  ], { stdio: 'ignore' });
  const deadline = Date.now() + readyDeadlineMs;
  for (;;) {
    const r = await cairnctlInProcess(`https://${hostPort}`, ['--insecure-skip-tls-verify', '--command-timeout=1s', 'endpoint', 'health']);
    if (r.code === 0) break;
    if (Date.now() > deadline) throw new Error(`etcd with TLS did not become healthy: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, readyPollMs));
  }
});

after(async () => {
  if (etcd && etcd.exitCode === null) {
    const exited = new Promise((res) => etcd?.once('exit', res));
    etcd.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  test('a self-signed server is refused unless trusted', async (t) => {
    if (!etcd) { t.skip('etcd is not installed'); return; }
    const r = await cairnctlInProcess(`https://${hostPort}`, ['--command-timeout=2s', 'put', 'k', 'v']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: .*(certificate|self[- ]signed)/i);
  });

  test('--insecure-skip-tls-verify trusts it; a bare host:port becomes https', async (t) => {
    if (!etcd) { t.skip('etcd is not installed'); return; }
    const r = await cairnctlInProcess(hostPort, ['--insecure-skip-tls-verify', 'put', 'k', 'v']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'OK\n');
  });

  test('--cacert with the server\'s certificate verifies it; ETCDCTL_CACERT works the same', async (t) => {
    if (!etcd) { t.skip('etcd is not installed'); return; }
    const cert = join(dir, 'data', 'fixtures', 'client', 'cert.pem');
    const r = await cairnctlInProcess(`https://${hostPort}`, ['--cacert', cert, 'get', 'k', '--print-value-only']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'v\n');
    const e = await cairnctlInProcess(null, ['get', 'k', '--print-value-only'], { env: { ETCDCTL_ENDPOINTS: `https://${hostPort}`, ETCDCTL_CACERT: cert } });
    assert.equal(e.stdout, 'v\n', e.stderr);
  });
});
