import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { load, urls, yamlFile } from './helpers.js';

describe('flags', () => {
  it('takes --flag value, --flag=value, -flag value and -flag=value alike', () => {
    for (const argv of [
      ['--heartbeat-interval', '200', '--election-timeout', '2000'],
      ['--heartbeat-interval=200', '--election-timeout=2000'],
      ['-heartbeat-interval', '200', '-election-timeout', '2000'],
      ['-heartbeat-interval=200', '-election-timeout=2000'],
    ]) {
      const { config } = load(argv);
      assert.equal(config.heartbeatIntervalMs, 200, argv.join(' '));
      assert.equal(config.electionTimeoutMs, 2000, argv.join(' '));
    }
  });

  it('booleans: --flag means true, --flag=false|0|f means false, --flag=true|1|T means true', () => {
    assert.equal(load(['--strict-reconfig-check=false']).config.strictReconfigCheck, false);
    assert.equal(load(['--strict-reconfig-check=0']).config.strictReconfigCheck, false);
    assert.equal(load(['--strict-reconfig-check=f']).config.strictReconfigCheck, false);
    assert.equal(load(['--client-cert-auth']).config.clientTls.clientCertAuth, true);
    assert.equal(load(['--client-cert-auth=1']).config.clientTls.clientCertAuth, true);
    assert.equal(load(['--client-cert-auth=T']).config.clientTls.clientCertAuth, true);
  });

  it('a boolean does not swallow the next argument (Go flag rule)', () => {
    const { config } = load(['--auto-tls', '--name', 'n1']);
    assert.equal(config.clientTls.autoTls, true);
    assert.equal(config.name, 'n1');
  });

  it('a value may start with a dash, and a value may contain "="', () => {
    const { config } = load(['--initial-cluster-token', '-tok=en-']);
    assert.equal(config.initialClusterToken, '-tok=en-');
  });

  it('the last occurrence of a flag wins, as in etcd', () => {
    assert.equal(load(['--name', 'a', '--name', 'b', '--initial-cluster', 'b=http://localhost:2380']).config.name, 'b');
  });

  it('records where each non-default came from', () => {
    const { config } = load(['--name', 'n1'], { ETCD_SNAPSHOT_COUNT: '500' });
    assert.deepEqual(config.origins, { name: '--name', 'snapshot-count': 'ETCD_SNAPSHOT_COUNT' });
  });
});

describe('environment', () => {
  it('reads ETCD_* variables the way an etcd systemd EnvironmentFile sets them', () => {
    const { config, warnings } = load([], {
      ETCD_NAME: 'etcd3',
      ETCD_DATA_DIR: '/var/lib/etcd/etcd3',
      ETCD_LISTEN_PEER_URLS: 'http://192.168.132.133:2380',
      ETCD_LISTEN_CLIENT_URLS: 'http://192.168.132.133:2379,http://127.0.0.1:2379',
      ETCD_INITIAL_ADVERTISE_PEER_URLS: 'http://192.168.132.133:2380',
      ETCD_ADVERTISE_CLIENT_URLS: 'http://192.168.132.133:2379',
      ETCD_INITIAL_CLUSTER_STATE: 'existing',
      ETCD_INITIAL_CLUSTER: 'etcd1=http://192.168.132.131:2380,etcd2=http://192.168.132.132:2380,etcd3=http://192.168.132.133:2380',
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.name, 'etcd3');
    assert.equal(config.dataDir, '/var/lib/etcd/etcd3');
    assert.deepEqual(urls(config.listenClientUrls), ['http://192.168.132.133:2379', 'http://127.0.0.1:2379']);
    assert.equal(config.initialClusterState, 'existing');
    assert.deepEqual(config.initialCluster.map((m) => m.name), ['etcd1', 'etcd2', 'etcd3']);
  });

  it('reads CAIRN_* variables with the same names', () => {
    const { config } = load([], { CAIRN_DATA_DIR: '/data', CAIRN_MAX_TXN_OPS: '64', CAIRN_AUTO_TLS: 'true' });
    assert.equal(config.dataDir, '/data');
    assert.equal(config.maxTxnOps, 64);
    assert.equal(config.clientTls.autoTls, true);
  });

  it('an empty variable counts as unset (ETCD_X="" in an EnvironmentFile)', () => {
    const { config } = load([], { ETCD_NAME: '', ETCD_WAL_DIR: '' });
    assert.equal(config.name, 'default');
    assert.equal(config.walDir, null);
  });

  it('an unknown ETCD_* variable is a warning, as in etcd 3.4 ("unrecognized environment variable")', () => {
    const { warnings } = load([], { ETCD_FOO: '1', ETCDCTL_API: '3', ETCD_UNSUPPORTED_ARCH: 'arm64' });
    assert.deepEqual(warnings, ['unrecognized environment variable ETCD_FOO=1 (ignored)']);
  });

  it('ignores the variables Kubernetes injects for a Service named cairn or etcd', () => {
    const { warnings } = load([], {
      CAIRN_PORT: 'tcp://10.96.0.10:2379',
      CAIRN_SERVICE_HOST: '10.96.0.10',
      CAIRN_SERVICE_PORT: '2379',
      CAIRN_SERVICE_PORT_CLIENT: '2379',
      CAIRN_PORT_2379_TCP: 'tcp://10.96.0.10:2379',
      CAIRN_PORT_2379_TCP_PROTO: 'tcp',
      CAIRN_PORT_2379_TCP_PORT: '2379',
      CAIRN_PORT_2379_TCP_ADDR: '10.96.0.10',
      ETCD_PORT: 'tcp://10.96.0.11:2379',
      CAIRN_CLIENT_SERVICE_HOST: '10.96.0.12',
    });
    assert.deepEqual(warnings, []);
  });

  it('variables that are not ETCD_ or CAIRN_ are none of its business', () => {
    assert.deepEqual(load([], { PATH: '/bin', HOME: '/root', NAME: 'x' }).warnings, []);
  });
});

describe('config file (etcd YAML format)', () => {
  it('reads top-level keys, comma-separated URL strings and nested TLS sections', () => {
    const path = yamlFile('full.yaml', [
      "name: 'infra1'",
      'data-dir: /var/lib/cairn/infra1',
      'wal-dir: /wal',
      'snapshot-count: 5000',
      'heartbeat-interval: 200',
      'election-timeout: 2500',
      'quota-backend-bytes: 8589934592',
      'listen-peer-urls: https://10.0.1.11:2380',
      'listen-client-urls: https://10.0.1.11:2379,http://127.0.0.1:2379',
      'initial-advertise-peer-urls: https://10.0.1.11:2380',
      'advertise-client-urls: https://10.0.1.11:2379',
      'initial-cluster: infra0=https://10.0.1.10:2380,infra1=https://10.0.1.11:2380,infra2=https://10.0.1.12:2380',
      "initial-cluster-token: 'etcd-cluster-1'",
      "initial-cluster-state: 'new'",
      'strict-reconfig-check: false',
      'enable-pprof: true',
      'client-transport-security:',
      '  cert-file: /etc/cairn/server.crt',
      '  key-file: /etc/cairn/server.key',
      '  client-cert-auth: true',
      '  trusted-ca-file: /etc/cairn/ca.crt',
      '  auto-tls: false',
      'peer-transport-security:',
      '  cert-file: /etc/cairn/peer.crt',
      '  key-file: /etc/cairn/peer.key',
      '  client-cert-auth: true',
      '  trusted-ca-file: /etc/cairn/ca.crt',
      '  allowed-cn: [peer.cairn.local]',
      'log-level: debug',
      'log-outputs: [stderr]',
      'auto-compaction-mode: periodic',
      'auto-compaction-retention: "1"',
      'cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]',
      "tls-min-version: 'TLS1.2'",
    ].join('\n'));
    const { config, warnings } = load(['--config-file', path]);
    assert.deepEqual(warnings, []);
    assert.equal(config.configFile, path);
    assert.equal(config.name, 'infra1');
    assert.equal(config.walDir, '/wal');
    assert.equal(config.snapshotCount, 5000);
    assert.equal(config.heartbeatIntervalMs, 200);
    assert.equal(config.electionTimeoutMs, 2500);
    assert.equal(config.quotaBackendBytes, 8 * 1024 ** 3);
    assert.deepEqual(urls(config.listenClientUrls), ['https://10.0.1.11:2379', 'http://127.0.0.1:2379']);
    assert.equal(config.initialCluster.length, 3);
    assert.equal(config.initialClusterToken, 'etcd-cluster-1');
    assert.equal(config.strictReconfigCheck, false);
    assert.equal(config.enablePprof, true);
    assert.deepEqual(config.clientTls, {
      certFile: '/etc/cairn/server.crt', keyFile: '/etc/cairn/server.key', trustedCaFile: '/etc/cairn/ca.crt',
      clientCertAuth: true, autoTls: false, crlFile: null, allowedCn: [], allowedHostname: [],
    });
    assert.equal(config.peerTls.certFile, '/etc/cairn/peer.crt');
    assert.equal(config.peerTls.clientCertAuth, true);
    assert.deepEqual(config.peerTls.allowedCn, ['peer.cairn.local']);
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(config.logOutputs, ['stderr']);
    assert.equal(config.autoCompactionPeriodMs, 3_600_000, 'a bare number is hours in periodic mode');
    assert.equal(config.opensslCiphers, 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384');
    assert.equal(config.tlsMinVersion, 'TLSv1.2');
    assert.equal(config.origins['client-cert-auth'], `key "client-transport-security.client-cert-auth" in config file ${path}`);
  });

  it("loads a file shaped like etcd's etcd.conf.yml.sample: empty keys are unset, inert etcd-only keys accepted", () => {
    const path = yamlFile('sample.yaml', [
      "name: 'default'", 'data-dir:', 'wal-dir:', 'snapshot-count: 10000', 'heartbeat-interval: 100',
      'election-timeout: 1000', 'quota-backend-bytes: 0', 'listen-peer-urls: http://localhost:2380',
      'listen-client-urls: http://localhost:2379', 'max-snapshots: 5', 'max-wals: 5', 'cors:',
      'initial-advertise-peer-urls: http://localhost:2380', 'advertise-client-urls: http://localhost:2379',
      'discovery:', "discovery-fallback: 'proxy'", 'discovery-proxy:', 'discovery-srv:', 'initial-cluster:',
      "initial-cluster-token: 'etcd-cluster'", "initial-cluster-state: 'new'", 'strict-reconfig-check: false',
      'enable-pprof: true', "proxy: 'off'", 'proxy-failure-wait: 5000',
      'client-transport-security:', '  cert-file:', '  key-file:', '  client-cert-auth: false', '  trusted-ca-file:', '  auto-tls: false',
      'peer-transport-security:', '  cert-file:', '  key-file:', '  client-cert-auth: false', '  trusted-ca-file:', '  auto-tls: false',
      'log-level: debug', 'logger: zap', 'log-outputs: [stderr]', 'force-new-cluster: false',
      'auto-compaction-mode: periodic', 'auto-compaction-retention: "1"',
    ].join('\n'));
    const { config, warnings } = load(['--config-file', path]);
    assert.equal(config.dataDir, 'default.etcd');
    assert.equal(config.initialCluster[0].name, 'default');
    assert.deepEqual(warnings, [
      `key "discovery-fallback" in config file ${path} (value "proxy") is accepted for etcd compatibility and ignored: Cairn has no discovery service; list the members with --initial-cluster`,
      `key "proxy-failure-wait" in config file ${path} (value "5000") is accepted for etcd compatibility and ignored: Cairn has no v2 proxy mode`,
    ]);
  });

  it('an empty file is an empty configuration', () => {
    assert.equal(load(['--config-file', yamlFile('empty.yaml', '# nothing\n')]).config.name, 'default');
  });

  it('keeps integers exact beyond 2^53 (revision retention)', () => {
    const path = yamlFile('big.yaml', 'auto-compaction-mode: revision\nauto-compaction-retention: 9007199254740993\n');
    assert.equal(load(['--config-file', path]).config.autoCompactionRevisions, 9007199254740993n);
  });

  it('the config file path may come from CAIRN_CONFIG_FILE or ETCD_CONFIG_FILE', () => {
    const path = yamlFile('via-env.yaml', 'name: n7\ninitial-cluster: n7=http://localhost:2380\n');
    assert.equal(load([], { ETCD_CONFIG_FILE: path }).config.name, 'n7');
    assert.equal(load([], { CAIRN_CONFIG_FILE: path }).config.name, 'n7');
  });
});

describe('precedence: flag > CAIRN_* > ETCD_* > config file > default', () => {
  const file = () => yamlFile('precedence.yaml', 'snapshot-count: 1\nmax-txn-ops: 1\nmax-wals: 1\nmax-snapshots: 1\n');

  it('each source overrides the ones below it, setting by setting', () => {
    const { config, warnings } = load(
      ['--config-file', file(), '--snapshot-count', '4'],
      { CAIRN_SNAPSHOT_COUNT: '3', ETCD_SNAPSHOT_COUNT: '2', CAIRN_MAX_TXN_OPS: '3', ETCD_MAX_TXN_OPS: '2', ETCD_MAX_WALS: '2' },
    );
    assert.equal(config.snapshotCount, 4, 'flag beats everything');
    assert.equal(config.maxTxnOps, 3, 'CAIRN_ beats ETCD_ and the file');
    assert.equal(config.maxWals, 2, 'ETCD_ beats the file');
    assert.equal(config.maxSnapshots, 1, 'the file beats the default');
    assert.equal(config.heartbeatIntervalMs, 100, 'the default when nothing sets it');
    assert.deepEqual([...warnings].sort(), [
      'CAIRN_SNAPSHOT_COUNT=3 is overridden by --snapshot-count',
      'ETCD_MAX_TXN_OPS=2 is overridden by CAIRN_MAX_TXN_OPS',
      'ETCD_SNAPSHOT_COUNT=2 is overridden by --snapshot-count',
    ]);
  });

  it('unlike etcd, flags still apply when a config file is given', () => {
    const path = yamlFile('flags-apply.yaml', 'name: from-file\n');
    const { config } = load(['--config-file', path, '--name', 'from-flag']);
    assert.equal(config.name, 'from-flag');
  });

  it('an override with the same value is not worth a warning', () => {
    assert.deepEqual(load(['--max-wals', '7'], { ETCD_MAX_WALS: '7' }).warnings, []);
  });
});
