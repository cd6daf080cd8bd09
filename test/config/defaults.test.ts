import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, helpText, loadServerConfig } from '../../src/config/index.js';
import { COMPAT_SETTINGS, SETTINGS } from '../../src/config/settings.js';
import { load, urls } from './helpers.js';

describe('config defaults (etcd 3.4 flags, snapshot-count as etcd 3.5)', () => {
  it('with no flags, no environment and no file, every setting has etcd default', () => {
    const { config, warnings } = load([]);
    assert.deepEqual(warnings, []);
    assert.equal(config.name, 'default');
    assert.equal(config.dataDir, 'default.etcd');
    assert.equal(config.walDir, null);
    assert.equal(config.snapshotCount, 10_000);
    assert.equal(config.maxSnapshots, 5);
    assert.equal(config.maxWals, 5);
    assert.equal(config.heartbeatIntervalMs, 100);
    assert.equal(config.electionTimeoutMs, 1000);
    assert.deepEqual(urls(config.listenPeerUrls), ['http://localhost:2380']);
    assert.deepEqual(urls(config.listenClientUrls), ['http://localhost:2379']);
    assert.deepEqual(urls(config.initialAdvertisePeerUrls), ['http://localhost:2380']);
    assert.deepEqual(urls(config.advertiseClientUrls), ['http://localhost:2379']);
    assert.deepEqual(config.initialCluster.map((m) => [m.name, urls(m.peerUrls)]), [['default', ['http://localhost:2380']]]);
    assert.equal(config.initialClusterState, 'new');
    assert.equal(config.initialClusterToken, 'etcd-cluster');
    assert.equal(config.quotaBackendBytes, 2 * 1024 ** 3, '0 means the 2 GiB default');
    assert.equal(config.maxRequestBytes, 1_572_864);
    assert.equal(config.maxTxnOps, 128);
    assert.equal(config.strictReconfigCheck, true);
    assert.equal(config.autoCompactionMode, 'periodic');
    assert.equal(config.autoCompactionPeriodMs, 0);
    assert.equal(config.bcryptCost, 10);
    assert.equal(config.authTokenTtlSeconds, 300);
    assert.deepEqual(config.authToken, { kind: 'simple' });
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.logOutputs, ['default']);
    assert.equal(config.metrics, 'basic');
    assert.deepEqual(config.listenMetricsUrls, []);
    assert.equal(config.enablePprof, false);
    assert.equal(config.configFile, null);
    assert.deepEqual(config.origins, {});
  });

  it('matches the exported DEFAULTS object field by field', () => {
    const { config } = load([]);
    const asPlain = (value: unknown): unknown =>
      Array.isArray(value) ? value.map((item) => (item instanceof URL ? `${item.protocol}//${item.host}` : item)) : value;
    for (const [field, expected] of Object.entries(DEFAULTS)) {
      if (field === 'jwtTtlMs') continue; // only inside authToken when jwt is chosen
      assert.deepEqual(asPlain((config as unknown as Record<string, unknown>)[field]), asPlain(expected), field);
    }
  });

  it('the TLS sections default to off', () => {
    const { config } = load([]);
    for (const tls of [config.clientTls, config.peerTls]) {
      assert.deepEqual(tls, {
        certFile: null, keyFile: null, trustedCaFile: null, clientCertAuth: false, autoTls: false,
        crlFile: null, allowedCn: [], allowedHostname: [],
      });
    }
    assert.equal(config.opensslCiphers, null);
  });

  it('data-dir and initial-cluster follow --name, as in etcd', () => {
    const { config } = load(['--name', 'infra0']);
    assert.equal(config.dataDir, 'infra0.etcd');
    assert.deepEqual(config.initialCluster.map((m) => [m.name, urls(m.peerUrls)]), [['infra0', ['http://localhost:2380']]]);
  });

  it('the default initial-cluster lists every advertised peer URL under this name', () => {
    const { config } = load(['--name', 'n1', '--initial-advertise-peer-urls', 'http://10.0.0.1:2380,https://10.0.0.1:2381', '--peer-auto-tls']);
    assert.deepEqual(config.initialCluster.map((m) => [m.name, urls(m.peerUrls)]), [['n1', ['http://10.0.0.1:2380', 'https://10.0.0.1:2381']]]);
  });
});

describe('help and version', () => {
  it('--help, -h and -help return the help text, which names every flag and its default', () => {
    for (const flag of ['--help', '-h', '-help']) {
      const result = loadServerConfig([flag], {});
      assert.equal(result.kind, 'help');
    }
    for (const spec of SETTINGS) assert.match(helpText, new RegExp(`--${spec.flag} '`), spec.flag);
    for (const compat of COMPAT_SETTINGS) assert.ok(helpText.includes(`--${compat.flag} `), compat.flag);
    assert.match(helpText, /--heartbeat-interval '100'/);
    assert.match(helpText, /--data-dir '\$\{name\}\.etcd'/);
    assert.match(helpText, /flag > CAIRN_\* > ETCD_\* >/);
  });

  it('--help wins over a bad value after it but not over an unknown flag before it (Go flag order)', () => {
    assert.equal(loadServerConfig(['--help', '--heartbeat-interval', 'abc'], {}).kind, 'help');
    assert.throws(() => loadServerConfig(['--nope', '--help'], {}), /unknown flag --nope/);
  });

  it('--version returns version; --version=false does not', () => {
    assert.deepEqual(loadServerConfig(['--version'], {}), { kind: 'version' });
    assert.equal(loadServerConfig(['--version=false'], {}).kind, 'config');
  });
});
