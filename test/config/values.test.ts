import assert from 'node:assert/strict';
import { getCiphers } from 'node:tls';
import { describe, it } from 'node:test';
import { clusterText, portOf } from '../../src/config/index.js';
import { GO_TO_OPENSSL_CIPHERS } from '../../src/config/tls-options.js';
import { parseGoDurationMs } from '../../src/config/values.js';
import { load, urls } from './helpers.js';

describe('URLs and --initial-cluster', () => {
  it('a name listed twice is one member with two peer URLs (etcd syntax), in listed order', () => {
    const { config } = load([
      '--name', 'n1', '--initial-advertise-peer-urls', 'http://10.0.0.1:2380,http://10.0.1.1:2380',
      '--initial-cluster', 'n1=http://10.0.1.1:2380,n2=http://10.0.0.2:2380,n1=http://10.0.0.1:2380',
    ]);
    assert.deepEqual(config.initialCluster.map((m) => [m.name, urls(m.peerUrls)]), [
      ['n1', ['http://10.0.1.1:2380', 'http://10.0.0.1:2380']],
      ['n2', ['http://10.0.0.2:2380']],
    ]);
    assert.equal(clusterText(config.initialCluster), 'n1=http://10.0.1.1:2380,n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380');
  });

  it('accepts IPv6 listen addresses, DNS names in advertised URLs, spaces around commas and a trailing slash', () => {
    const { config } = load([
      '--name', 'n1',
      '--listen-peer-urls', 'http://[::]:2380', '--listen-client-urls', 'http://0.0.0.0:2379, http://[::1]:2379/',
      '--advertise-client-urls', 'http://n1.cairn.default.svc.cluster.local:2379',
      '--initial-advertise-peer-urls', 'http://n1:2380', '--initial-cluster', 'n1=http://n1:2380/',
    ]);
    assert.deepEqual(urls(config.listenClientUrls), ['http://0.0.0.0:2379', 'http://[::1]:2379']);
    assert.deepEqual(urls(config.listenPeerUrls), ['http://[::]:2380']);
    assert.deepEqual(urls(config.advertiseClientUrls), ['http://n1.cairn.default.svc.cluster.local:2379']);
  });

  it('listen URLs may use port 0 (tests ask the OS for a free port)', () => {
    const { config } = load(['--listen-client-urls', 'http://127.0.0.1:0', '--advertise-client-urls', 'http://127.0.0.1:2379']);
    assert.equal(portOf(config.listenClientUrls[0]), 0);
  });

  it('portOf gives the port even when WHATWG URL hides a scheme-default one', () => {
    const { config } = load(['--listen-client-urls', 'http://127.0.0.1:80,https://127.0.0.1:443', '--advertise-client-urls', 'http://10.0.0.1:80', '--auto-tls']);
    assert.equal(config.listenClientUrls[0].port, '', 'the trap portOf exists for');
    assert.deepEqual(config.listenClientUrls.map(portOf), [80, 443]);
  });

  it('https listeners are fine with certificates or auto-tls', () => {
    const client = load(['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://10.0.0.1:2379', '--cert-file', '/c', '--key-file', '/k']);
    assert.equal(client.config.clientTls.certFile, '/c');
    const peer = load(['--listen-peer-urls', 'https://127.0.0.1:2380', '--peer-auto-tls']);
    assert.equal(peer.config.peerTls.autoTls, true);
  });
});

describe('values with units and options', () => {
  it('periodic compaction: a bare number is hours, else a Go duration', () => {
    assert.equal(load(['--auto-compaction-retention', '2']).config.autoCompactionPeriodMs, 7_200_000);
    assert.equal(load(['--auto-compaction-retention', '30m']).config.autoCompactionPeriodMs, 1_800_000);
    assert.equal(load(['--auto-compaction-retention', '1h30m']).config.autoCompactionPeriodMs, 5_400_000);
    assert.equal(load(['--auto-compaction-retention', '0']).config.autoCompactionPeriodMs, 0);
    const revision = load(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1000']).config;
    assert.equal(revision.autoCompactionRevisions, 1000n);
    assert.equal(revision.autoCompactionPeriodMs, 0);
  });

  it("Go durations parse like time.ParseDuration and reject what it rejects", () => {
    assert.equal(parseGoDurationMs('1.5h'), 5_400_000);
    assert.equal(parseGoDurationMs('250ms'), 250);
    assert.equal(parseGoDurationMs('1m30s'), 90_000);
    assert.equal(parseGoDurationMs('10'), null, 'Go needs a unit except for 0');
    assert.equal(parseGoDurationMs(''), null);
    assert.equal(parseGoDurationMs('5 m'), null);
  });

  it('jwt auth tokens: options parsed, ttl defaults to 5 minutes', () => {
    const rs = load(['--auth-token', 'jwt,pub-key=/etc/cairn/jwt.pub,priv-key=/etc/cairn/jwt.key,sign-method=RS256']).config.authToken;
    assert.deepEqual(rs, { kind: 'jwt', signMethod: 'RS256', pubKeyFile: '/etc/cairn/jwt.pub', privKeyFile: '/etc/cairn/jwt.key', ttlMs: 300_000 });
    const hs = load(['--auth-token', 'jwt,priv-key=/s,sign-method=HS256,ttl=10m']).config.authToken;
    assert.deepEqual(hs, { kind: 'jwt', signMethod: 'HS256', pubKeyFile: null, privKeyFile: '/s', ttlMs: 600_000 });
  });

  it("every Go cipher suite name maps to a cipher this Node's OpenSSL has", () => {
    const available = new Set(getCiphers());
    const missing = [...GO_TO_OPENSSL_CIPHERS].filter(([, openssl]) => !available.has(openssl.toLowerCase()));
    assert.deepEqual(missing, []);
  });

  it('quota: 0 is 2 GiB; above 8 GiB is accepted with a warning', () => {
    assert.equal(load(['--quota-backend-bytes', '0']).config.quotaBackendBytes, 2 ** 31);
    const big = load(['--quota-backend-bytes', String(16 * 1024 ** 3)]);
    assert.equal(big.config.quotaBackendBytes, 16 * 1024 ** 3);
    assert.deepEqual(big.warnings, ['--quota-backend-bytes=17179869184 exceeds the maximum recommended quota of 8 GiB']);
  });

  it('accepted-and-ignored settings warn, and say why', () => {
    assert.deepEqual(load(['--enable-v2']).warnings, ['--enable-v2 is ignored: Cairn serves only the v3 API']);
    assert.deepEqual(load(['--enable-v2=false']).warnings, []);
    assert.deepEqual(load([], { ETCD_GRPC_KEEPALIVE_TIMEOUT: '20s' }).warnings, [
      'ETCD_GRPC_KEEPALIVE_TIMEOUT=20s is accepted for etcd compatibility and ignored: Cairn serves HTTP+JSON, not gRPC',
    ]);
    assert.deepEqual(load(['--logger', 'capnslog']).warnings, []);
    assert.deepEqual(load(['--proxy', 'off', '--discovery=', '--force-new-cluster=false']).warnings, [], 'inert values ask for nothing');
  });

  it('a certificate on plain-http listeners is a warning, not an error', () => {
    const { warnings } = load(['--cert-file', '/c', '--key-file', '/k']);
    assert.deepEqual(warnings, ['--cert-file and --key-file are given but every URL in the default of --listen-client-urls is http: the certificate is not used there']);
  });
});
