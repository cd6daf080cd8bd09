import { describe, it } from 'node:test';
import { loadFails, yamlFile } from './helpers.js';

describe('errors name the setting and where its value came from', () => {
  it('unknown flag, missing value, stray argument', () => {
    loadFails(['--foo'], {}, 'unknown flag --foo (see cairn --help)');
    loadFails(['-foo=1'], {}, 'unknown flag --foo (see cairn --help)');
    loadFails(['--max-key-bytes', '10'], {}, 'unknown flag --max-key-bytes (see cairn --help)');
    loadFails(['--name'], {}, 'flag --name needs a value');
    loadFails(['foo'], {}, 'unexpected argument "foo": cairn takes only flags (see cairn --help)');
    loadFails(['--enable-v2', 'true'], {}, 'unexpected argument "true": cairn takes only flags (see cairn --help)');
    loadFails(['---name', 'x'], {}, 'bad flag syntax: ---name');
  });

  it('bad integers, from a flag, an environment variable and the config file', () => {
    const expected = 'expected a positive integer (milliseconds)';
    loadFails(['--heartbeat-interval', 'abc'], {}, `invalid value "abc" for --heartbeat-interval: ${expected}`);
    loadFails([], { ETCD_HEARTBEAT_INTERVAL: 'abc' }, `invalid value "abc" for ETCD_HEARTBEAT_INTERVAL: ${expected}`);
    loadFails([], { CAIRN_HEARTBEAT_INTERVAL: '0' }, `invalid value "0" for CAIRN_HEARTBEAT_INTERVAL: ${expected}`);
    loadFails(['--heartbeat-interval=-5'], {}, `invalid value "-5" for --heartbeat-interval: ${expected}`);
    loadFails(['--heartbeat-interval=1.5'], {}, `invalid value "1.5" for --heartbeat-interval: ${expected}`);
    loadFails(['--heartbeat-interval=0x10'], {}, `invalid value "0x10" for --heartbeat-interval: ${expected}`);
    const path = yamlFile('bad-int.yaml', 'heartbeat-interval: abc\n');
    loadFails(['--config-file', path], {}, `invalid value "abc" for key "heartbeat-interval" in config file ${path}: ${expected}`);
    loadFails(['--quota-backend-bytes=-1'], {}, 'invalid value "-1" for --quota-backend-bytes: expected a non-negative integer at most 1125899906842624 (bytes, 0 = 2 GiB)');
    loadFails(['--bcrypt-cost', '3'], {}, 'invalid value "3" for --bcrypt-cost: expected a positive integer at most 31 (bcrypt cost)');
    loadFails(['--bcrypt-cost', '32'], {}, 'invalid value "32" for --bcrypt-cost: expected a positive integer at most 31 (bcrypt cost)');
  });

  it('bad booleans and enums', () => {
    loadFails([], { ETCD_AUTO_TLS: 'yes' }, 'invalid value "yes" for ETCD_AUTO_TLS: expected true or false');
    loadFails(['--auto-tls=on'], {}, 'invalid value "on" for --auto-tls: expected true or false');
    loadFails(['--initial-cluster-state', 'foo'], {}, 'invalid value "foo" for --initial-cluster-state: expected one of new, existing');
    loadFails(['--log-level', 'verbose'], {}, 'invalid value "verbose" for --log-level: expected one of debug, info, warn, error, panic, fatal');
    loadFails(['--auto-compaction-mode', 'foo'], {}, 'invalid value "foo" for --auto-compaction-mode: expected one of periodic, revision');
    loadFails(['--metrics', 'all'], {}, 'invalid value "all" for --metrics: expected one of basic, extensive');
    loadFails(['--logger', 'logrus'], {}, 'invalid value "logrus" for --logger: expected one of zap, capnslog');
    loadFails(['--name='], {}, 'empty value for --name: expected a member name');
  });

  it('election timeout against heartbeat, with etcd wording and the sources', () => {
    loadFails(['--heartbeat-interval', '300'], {}, '--election-timeout[1000ms] (from the default of --election-timeout) should be at least as 5 times as --heartbeat-interval[300ms]');
    loadFails(['--heartbeat-interval', '300'], { ETCD_ELECTION_TIMEOUT: '1400' }, '--election-timeout[1400ms] (from ETCD_ELECTION_TIMEOUT) should be at least as 5 times as --heartbeat-interval[300ms]');
    loadFails(['--election-timeout', '60000'], {}, '--election-timeout[60000ms] is too long, and should be set less than 50000ms');
  });

  it('bad URLs: scheme, unix sockets, missing port, path, credentials, names to bind, duplicates', () => {
    const adv = ['--advertise-client-urls', 'http://10.0.0.1:2379'];
    loadFails(['--listen-client-urls', 'ftp://127.0.0.1:1', ...adv], {}, 'invalid value "ftp://127.0.0.1:1" for --listen-client-urls: URL scheme must be http or https');
    loadFails(['--listen-client-urls', 'unix://localhost:2379', ...adv], {}, 'invalid value "unix://localhost:2379" for --listen-client-urls: unix sockets are not supported by Cairn; use http:// or https:// with host:port');
    loadFails(['--listen-client-urls', 'http://127.0.0.1', ...adv], {}, 'invalid value "http://127.0.0.1" for --listen-client-urls: URL address does not have the form "host:port"');
    loadFails(['--listen-client-urls', 'http://127.0.0.1:2379/v3', ...adv], {}, 'invalid value "http://127.0.0.1:2379/v3" for --listen-client-urls: URL must not contain a path');
    loadFails(['--listen-client-urls', 'http://127.0.0.1:99999', ...adv], {}, 'invalid value "http://127.0.0.1:99999" for --listen-client-urls: port must be between 0 and 65535');
    loadFails(['--listen-client-urls', 'http://example.com:2379', ...adv], {}, 'invalid value "http://example.com:2379" for --listen-client-urls: expected an IP address (or localhost) in a URL to listen on');
    loadFails(['--advertise-client-urls', 'http://u:p@10.0.0.1:2379'], {}, 'invalid value "http://u:p@10.0.0.1:2379" for --advertise-client-urls: URL must not contain user credentials');
    loadFails(['--advertise-client-urls', 'http://10.0.0.1:0'], {}, 'invalid value "http://10.0.0.1:0" for --advertise-client-urls: port must be between 1 and 65535');
    loadFails(['--advertise-client-urls', 'not a url'], {}, 'invalid value "not a url" for --advertise-client-urls: expected a URL like http://10.0.0.1:2379');
    loadFails(['--listen-client-urls', 'http://127.0.0.1:2379,http://127.0.0.1:2379', ...adv], {}, 'invalid value "http://127.0.0.1:2379,http://127.0.0.1:2379" for --listen-client-urls: URL http://127.0.0.1:2379 is listed twice');
    loadFails(['--listen-client-urls', 'http://10.0.0.1:2379'], {}, '--advertise-client-urls is required when --listen-client-urls is set explicitly');
    loadFails([], { ETCD_LISTEN_CLIENT_URLS: 'http://10.0.0.1:2379' }, '--advertise-client-urls is required when --listen-client-urls (from ETCD_LISTEN_CLIENT_URLS) is set explicitly');
  });

  it('bad --initial-cluster: syntax, this member missing, URL mismatch, duplicate URL', () => {
    loadFails(['--initial-cluster', 'n1'], {}, 'invalid value "n1" for --initial-cluster: expected name=peer-url pairs separated by commas, e.g. n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380');
    loadFails(['--initial-cluster', '=http://a:2380'], {}, /^invalid value "=http:\/\/a:2380" for --initial-cluster: expected name=peer-url pairs/);
    loadFails(['--initial-cluster', 'default=a:2380'], {}, 'invalid value "a:2380" for --initial-cluster: expected a URL like http://10.0.0.1:2379');
    loadFails(['--name', 'n1', '--initial-cluster', 'n2=http://10.0.0.2:2380'], {}, 'couldn\'t find local name "n1" in --initial-cluster "n2=http://10.0.0.2:2380"');
    loadFails(['--name', 'n1', '--initial-cluster-state', 'existing', '--initial-cluster', 'n2=http://10.0.0.2:2380'], {}, /couldn't find local name "n1"/);
    loadFails(
      ['--name', 'n1', '--initial-advertise-peer-urls', 'http://10.0.0.1:2380', '--initial-cluster', 'n1=http://10.0.0.9:2380'], {},
      '--initial-cluster has n1=http://10.0.0.9:2380 but missing from --initial-advertise-peer-urls=http://10.0.0.1:2380',
    );
    loadFails(
      ['--name', 'n1'], { ETCD_INITIAL_CLUSTER: 'n1=http://10.0.0.9:2380' },
      '--initial-cluster (from ETCD_INITIAL_CLUSTER) has n1=http://10.0.0.9:2380 but missing from --initial-advertise-peer-urls=http://localhost:2380 (from the default of --initial-advertise-peer-urls)',
    );
    loadFails(
      ['--initial-cluster', 'default=http://localhost:2380,n2=http://localhost:2380'], {},
      '--initial-cluster lists peer URL http://localhost:2380 twice (initial cluster "default=http://localhost:2380,n2=http://localhost:2380" has duplicate url)',
    );
  });

  it('unknown CAIRN_* variable', () => {
    loadFails([], { CAIRN_FOO: '1' }, 'unknown environment variable CAIRN_FOO');
    loadFails([], { CAIRN_HEARTBEAT_INTERVALL: '100' }, 'unknown environment variable CAIRN_HEARTBEAT_INTERVALL');
  });

  it('config file: missing, unreadable shape, unknown keys, duplicates', () => {
    loadFails(['--config-file', '/nonexistent/cairn.yaml'], {}, 'config file /nonexistent/cairn.yaml (from --config-file) does not exist');
    loadFails([], { ETCD_CONFIG_FILE: '/nonexistent/cairn.yaml' }, 'config file /nonexistent/cairn.yaml (from ETCD_CONFIG_FILE) does not exist');
    const unknown = yamlFile('unknown.yaml', 'name: x\nfoo: 1\n');
    loadFails(['--config-file', unknown], {}, `unknown key "foo" in config file ${unknown}`);
    const nested = yamlFile('nested.yaml', 'client-transport-security:\n  cert-fil: /x\n');
    loadFails(['--config-file', nested], {}, `unknown key "client-transport-security.cert-fil" in config file ${nested}`);
    const self = yamlFile('self.yaml', 'config-file: /other.yaml\n');
    loadFails(['--config-file', self], {}, `key "config-file" is not allowed in config file ${self}`);
    const list = yamlFile('list.yaml', '- name\n- x\n');
    loadFails(['--config-file', list], {}, `config file ${list} must be a mapping of setting names to values`);
    const broken = yamlFile('broken.yaml', 'name: [x\n');
    loadFails(['--config-file', broken], {}, new RegExp(`^config file ${broken} is not valid YAML: `));
    const dup = yamlFile('dup.yaml', 'name: a\nname: b\n');
    loadFails(['--config-file', dup], {}, new RegExp(`^config file ${dup} is not valid YAML: .*[Mm]ap keys must be unique`));
    const twice = yamlFile('twice.yaml', 'cert-file: /a\nclient-transport-security:\n  cert-file: /b\n');
    loadFails(['--config-file', twice], {}, `config file ${twice} sets cert-file twice: as "cert-file" and as "client-transport-security.cert-file"`);
    const scalarList = yamlFile('scalar-list.yaml', 'name: [a, b]\n');
    loadFails(['--config-file', scalarList], {}, `invalid value "a,b" for key "name" in config file ${scalarList}: expected a single value, not a list`);
    const section = yamlFile('section.yaml', 'peer-transport-security: yes\n');
    loadFails(['--config-file', section], {}, `key "peer-transport-security" in config file ${section} must be a mapping`);
  });

  it('etcd features Cairn does not have are refused by name unless set to their etcd default', () => {
    loadFails(['--discovery', 'https://discovery.etcd.io/abc'], {}, '--discovery=https://discovery.etcd.io/abc is not supported by Cairn: Cairn has no discovery service; list the members with --initial-cluster');
    loadFails([], { ETCD_FORCE_NEW_CLUSTER: 'true' }, 'ETCD_FORCE_NEW_CLUSTER=true is not supported by Cairn: Cairn has no unsafe single-member recovery mode');
    loadFails(['--force-new-cluster'], {}, '--force-new-cluster=true is not supported by Cairn: Cairn has no unsafe single-member recovery mode');
    const proxy = yamlFile('proxy.yaml', "proxy: 'on'\n");
    loadFails(['--config-file', proxy], {}, `key "proxy" in config file ${proxy} (value "on") is not supported by Cairn: Cairn has no v2 proxy mode`);
    loadFails(['--cors', 'https://example.com'], {}, '--cors=https://example.com is not supported by Cairn: Cairn does not filter CORS origins');
  });

  it('TLS settings that cannot work', () => {
    loadFails(['--cert-file', '/c.pem'], {}, '--cert-file is given but --key-file is not: a TLS certificate needs both');
    loadFails([], { ETCD_PEER_KEY_FILE: '/k.pem' }, 'ETCD_PEER_KEY_FILE is given but --peer-cert-file is not: a TLS certificate needs both');
    loadFails(
      ['--listen-client-urls', 'https://127.0.0.1:2379', '--advertise-client-urls', 'https://10.0.0.1:2379'], {},
      'https://127.0.0.1:2379 in --listen-client-urls uses https, so --cert-file and --key-file (or --auto-tls) must be given',
    );
    loadFails(
      ['--listen-peer-urls', 'https://127.0.0.1:2380'], {},
      'https://127.0.0.1:2380 in --listen-peer-urls uses https, so --peer-cert-file and --peer-key-file (or --peer-auto-tls) must be given',
    );
    loadFails(['--peer-cert-allowed-cn', 'a', '--peer-cert-allowed-hostname', 'b'], {}, '--peer-cert-allowed-cn and --peer-cert-allowed-hostname cannot both be set: choose one way to check peer certificates');
    loadFails(['--cipher-suites', 'TLS_FOO'], {}, 'invalid value "TLS_FOO" for --cipher-suites: unexpected TLS cipher suite; expected names like TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    loadFails(['--cipher-suites', 'TLS_RSA_WITH_RC4_128_SHA'], {}, 'invalid value "TLS_RSA_WITH_RC4_128_SHA" for --cipher-suites: RC4 and 3DES cipher suites are not available in Node\'s OpenSSL; choose an AES-GCM or CHACHA20 suite');
    loadFails(['--tls-min-version', 'TLS1.1'], {}, "invalid value \"TLS1.1\" for --tls-min-version: expected 'TLS1.2' or 'TLS1.3' (older versions are not supported)");
    loadFails(['--tls-min-version', 'TLS1.3', '--tls-max-version', 'TLS1.2'], {}, '--tls-min-version (TLS1.3) is above --tls-max-version (TLS1.2)');
  });

  it('bad --auth-token', () => {
    loadFails(['--auth-token', 'oauth'], {}, "invalid value \"oauth\" for --auth-token: expected 'simple' or 'jwt,pub-key=...,priv-key=...,sign-method=...'");
    loadFails(['--auth-token', 'jwt,pub-key=/p.pem'], {}, /^invalid value "jwt,pub-key=\/p.pem" for --auth-token: jwt needs sign-method= one of RS256, /);
    loadFails(['--auth-token', 'jwt,sign-method=HS256,pub-key=/p.pem'], {}, '--auth-token: jwt with sign-method=HS256 needs priv-key=<file> (the shared secret)');
    loadFails(['--auth-token', 'jwt,sign-method=RS256'], {}, '--auth-token: jwt needs pub-key=<file> to verify tokens and/or priv-key=<file> to sign them');
    loadFails(['--auth-token', 'jwt,sign-method=RS256,pub-key=/p,colour=blue'], {}, /unknown or malformed jwt option "colour=blue"/);
    loadFails(['--auth-token', 'jwt,sign-method=RS256,pub-key=/p,ttl=forever'], {}, /jwt ttl= must be a positive duration like 5m or 1h/);
  });

  it('bad auto-compaction retention', () => {
    loadFails(['--auto-compaction-retention', '5x'], {}, "invalid value \"5x\" for --auto-compaction-retention: expected hours (e.g. '1') or a duration (e.g. '30m', '1h30m') for periodic compaction");
    loadFails(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1h'], {}, 'invalid value "1h" for --auto-compaction-retention: expected a non-negative integer (revisions to keep, 0 = off)');
  });
});
