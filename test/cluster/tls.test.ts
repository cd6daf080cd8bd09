/**
 * A cluster of three real cairn processes with TLS on both sides, certificates made at run
 * time by openssl: clients need a certificate from the trusted CA (--client-cert-auth), peers
 * need one from the peer CA with an allowed CN (--peer-client-cert-auth, --peer-cert-allowed-cn).
 * Shows what etcd does: allowed clients and peers get in (writes replicate over https peer
 * URLs, a member joins with --initial-cluster-state existing), everyone else is refused — a
 * client without a certificate or with one from another CA at the handshake, a peer with a
 * certificate from another CA or with another CN cannot join.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { freePorts } from '../support/ports.js';
import { hasOpenssl, TestPki, type LeafFiles } from '../support/tls-certs.js';
import { spawnCairn, waitHealthy, type TlsProcess } from '../support/tls-member.js';
import { cairnctlInProcess } from '../cli/compare.js';

const skip = hasOpenssl() ? false : 'openssl is not installed';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

let pki: TestPki;
let dataRoot = '';
const files: Record<string, LeafFiles> = {};
let caFile = '';
let peerCaFile = '';
const procs: TlsProcess[] = [];
const clientUrls: string[] = [];
const peerUrls: string[] = [];
let initialCluster = '';
let token = '';
let good: Agent;

function agentWith(leaf: LeafFiles | null, ca: string = caFile): Agent {
  return new Agent({
    connect: { ca: pki.read(ca), ...(leaf ? { cert: pki.read(leaf.cert), key: pki.read(leaf.key) } : {}) },
  });
}

async function post(url: string, path: string, body: unknown, dispatcher: Agent = good): Promise<{ status: number; json: any }> {
  const res = await request(url + path, { method: 'POST', body: JSON.stringify(body), dispatcher, signal: AbortSignal.timeout(10_000) });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) };
}

function memberArgs(name: string, client: string, peer: string, peerLeaf: LeafFiles, state: 'new' | 'existing', cluster: string): string[] {
  return [
    '--name', name, '--data-dir', join(dataRoot, name), '--log-level', 'warn',
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', cluster, '--initial-cluster-token', token, '--initial-cluster-state', state,
    '--cert-file', files.server.cert, '--key-file', files.server.key, '--trusted-ca-file', caFile, '--client-cert-auth',
    '--peer-cert-file', peerLeaf.cert, '--peer-key-file', peerLeaf.key, '--peer-trusted-ca-file', peerCaFile,
    '--peer-client-cert-auth', '--peer-cert-allowed-cn', 'cairn-peer',
    '--heartbeat-interval', '50', '--election-timeout', '500',
  ];
}

before(async () => {
  if (skip) return;
  pki = new TestPki();
  caFile = pki.ca('client-ca');
  peerCaFile = pki.ca('peer-ca');
  pki.ca('rogue-ca');
  files.server = pki.leaf('server', 'client-ca');
  files.alice = pki.leaf('alice', 'client-ca', 'alice', 'IP:127.0.0.1,DNS:localhost,DNS:alice.example');
  files.bob = pki.leaf('bob', 'client-ca');
  files.stranger = pki.leaf('stranger', 'rogue-ca');
  for (const n of ['p1', 'p2', 'p3', 'p4']) files[n] = pki.leaf(n, 'peer-ca', 'cairn-peer');
  files.wrongCn = pki.leaf('wrong-cn', 'peer-ca', 'someone-else');
  files.roguePeer = pki.leaf('rogue-peer', 'rogue-ca', 'cairn-peer');
  dataRoot = mkdtempSync(join(tmpdir(), 'cairn-tls-cluster-'));
  good = agentWith(files.alice);
  const ports = await freePorts(6);
  token = `tls-${ports[0]}`;
  for (let i = 0; i < 3; i++) {
    clientUrls.push(`https://127.0.0.1:${ports[2 * i]}`);
    peerUrls.push(`https://127.0.0.1:${ports[2 * i + 1]}`);
  }
  initialCluster = peerUrls.map((u, i) => `m${i + 1}=${u}`).join(',');
  for (let i = 0; i < 3; i++) {
    // m3 also checks client certificates' host names.
    const extra = i === 2 ? ['--client-cert-allowed-hostname', 'alice.example'] : [];
    procs.push(spawnCairn([...memberArgs(`m${i + 1}`, clientUrls[i], peerUrls[i], files[`p${i + 1}`], 'new', initialCluster), ...extra]));
  }
  await Promise.all(procs.map((p, i) => waitHealthy(p, clientUrls[i], good)));
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await good?.close();
  if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
  pki?.dispose();
});

/** What a client gets: 'ok' with a status, or the error's code and message. */
async function attempt(dispatcher: Agent, url = clientUrls[0]): Promise<string> {
  try {
    const res = await request(`${url}/v3/kv/range`, { method: 'POST', body: '{"key":"YQ=="}', dispatcher, signal: AbortSignal.timeout(5_000) });
    await res.body.text();
    return `ok ${res.statusCode}`;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `refused ${err.code ?? ''} ${err.message}`;
  } finally {
    await dispatcher.close().catch(() => {});
  }
}

describe('TLS cluster of three', { skip }, () => {
  test('a write on one member is read on another: raft traffic flows over https peer URLs', async () => {
    const put = await post(clientUrls[0], '/v3/kv/put', { key: b64('tls/k'), value: b64('secret') });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const got = await post(clientUrls[2], '/v3/kv/range', { key: b64('tls/k') });
    assert.equal(got.json.kvs[0].value, b64('secret'));
    for (const p of procs) assert.doesNotMatch(p.logs(), /peer certificate refused/);
  });

  test('a client without a certificate is refused in the handshake', async () => {
    const r = await attempt(agentWith(null));
    assert.match(r, /^refused /);
    assert.match(r, /certificate|ECONNRESET|socket/i);
  });

  test('a client whose certificate is signed by another CA is refused in the handshake', async () => {
    const r = await attempt(agentWith(files.stranger));
    assert.match(r, /^refused /);
  });

  test('--client-cert-allowed-hostname: a CA-signed certificate without that SAN is refused; one with it is served', async () => {
    assert.match(await attempt(agentWith(files.bob), clientUrls[0]), /^ok 200/);
    assert.match(await attempt(agentWith(files.bob), clientUrls[2]), /^refused /);
    assert.match(await attempt(agentWith(files.alice), clientUrls[2]), /^ok 200/);
  });

  test('a client that does not trust the server CA refuses the server', async () => {
    const r = await attempt(agentWith(files.alice, peerCaFile));
    assert.match(r, /^refused .*(certificate|signature)/i);
  });

  test('plain http on the https port gets no answer from the API', async () => {
    const url = clientUrls[0].replace('https:', 'http:');
    let status = 0;
    try {
      const res = await request(`${url}/v3/kv/range`, { method: 'POST', body: '{"key":"YQ=="}', signal: AbortSignal.timeout(5_000) });
      await res.body.text();
      status = res.statusCode;
    } catch {
      status = -1;
    }
    assert.notEqual(status, 200);
  });

  test('cairnctl with --cacert, --cert and --key works; without --cert it is refused', async () => {
    const ep = clientUrls[1];
    const ok = await cairnctlInProcess(ep, ['--cacert', caFile, '--cert', files.alice.cert, '--key', files.alice.key, 'get', 'tls/k', '--print-value-only']);
    assert.equal(ok.stderr, '');
    assert.equal(ok.stdout, 'secret\n');
    const noCert = await cairnctlInProcess(ep, ['--cacert', caFile, '--command-timeout=3s', 'get', 'tls/k']);
    assert.equal(noCert.code, 1);
    assert.match(noCert.stderr, /^Error: /);
  });

  test('raft messages from a peer certificate of another CA are refused in the handshake, from another CN with 403', async () => {
    const send = async (leaf: LeafFiles): Promise<string> => {
      const dispatcher = agentWith(leaf, peerCaFile);
      try {
        const res = await request(`${peerUrls[0]}/raft/messages`, { method: 'POST', body: Buffer.alloc(16), dispatcher, signal: AbortSignal.timeout(5_000) });
        return `status ${res.statusCode} ${await res.body.text()}`;
      } catch (e) {
        return `refused ${(e as Error).message}`;
      } finally {
        await dispatcher.close().catch(() => {});
      }
    };
    assert.match(await send(files.roguePeer), /^refused /);
    assert.match(await send(files.wrongCn), /^status 403 peer certificate refused/);
    assert.match(await send(files.p4), /^status 400 /, 'a valid certificate gets past TLS to the protocol checks');
  });

  test('a peer certificate from another CA cannot join; one with another CN cannot join; a valid one joins', async () => {
    const [client4, peer4] = await freePorts(2);
    const c4 = `https://127.0.0.1:${client4}`;
    const p4 = `https://127.0.0.1:${peer4}`;
    const added = await post(clientUrls[0], '/v3/cluster/member/add', { peerURLs: [p4] });
    assert.equal(added.status, 200, JSON.stringify(added.json));
    const cluster4 = `${initialCluster},m4=${p4}`;
    for (const [leaf, why] of [[files.roguePeer, 'another CA'], [files.wrongCn, 'CN not allowed']] as const) {
      rmSync(join(dataRoot, 'm4'), { recursive: true, force: true });
      const p = spawnCairn(memberArgs('m4', c4, p4, leaf, 'existing', cluster4));
      const code = await Promise.race([p.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 30_000).unref())]);
      await p.stop();
      assert.equal(code, 1, `${why}: ${p.logs().slice(-2000)}`);
      assert.match(p.logs(), /cannot join the existing cluster/, why);
    }
    assert.match(procs.map((p) => p.logs()).join('\n'), /peer certificate refused: certificate CN \\"someone-else\\"/);
    rmSync(join(dataRoot, 'm4'), { recursive: true, force: true });
    const m4 = spawnCairn(memberArgs('m4', c4, p4, files.p4, 'existing', cluster4));
    procs.push(m4);
    await waitHealthy(m4, c4, good);
    const got = await post(c4, '/v3/kv/range', { key: b64('tls/k') });
    assert.equal(got.json.kvs?.[0]?.value, b64('secret'));
  });
});

describe('auto-TLS cluster of three (--auto-tls, --peer-auto-tls)', { skip }, () => {
  test('self-signed certificates are made in <data-dir>/fixtures, peers talk over https, clients trust the member certificate', async () => {
    const ports = await freePorts(6);
    const root = mkdtempSync(join(tmpdir(), 'cairn-autotls-'));
    const urls = [0, 1, 2].map((i) => ({ client: `https://127.0.0.1:${ports[2 * i]}`, peer: `https://127.0.0.1:${ports[2 * i + 1]}` }));
    const cluster = urls.map((u, i) => `a${i + 1}=${u.peer}`).join(',');
    const members = urls.map((u, i) => spawnCairn([
      '--name', `a${i + 1}`, '--data-dir', join(root, `a${i + 1}`), '--log-level', 'warn', '--auto-tls', '--peer-auto-tls',
      '--listen-client-urls', u.client, '--advertise-client-urls', u.client, '--listen-peer-urls', u.peer,
      '--initial-advertise-peer-urls', u.peer, '--initial-cluster', cluster, '--initial-cluster-token', `auto-${ports[0]}`,
      '--heartbeat-interval', '50', '--election-timeout', '500',
    ]));
    const insecure = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      await Promise.all(members.map((m, i) => waitHealthy(m, urls[i].client, insecure)));
      const put = await post(urls[0].client, '/v3/kv/put', { key: b64('auto'), value: b64('tls') }, insecure);
      assert.equal(put.status, 200);
      const trusting = new Agent({ connect: { ca: pki.read(join(root, 'a3', 'fixtures', 'client', 'cert.pem')) } });
      const got = await post(urls[2].client, '/v3/kv/range', { key: b64('auto') }, trusting);
      await trusting.close();
      assert.equal(got.json.kvs[0].value, b64('tls'));
      assert.match(await attempt(new Agent(), urls[1].client), /^refused .*(self[- ]signed|certificate)/i);
    } finally {
      await insecure.close();
      await Promise.all(members.map((m) => m.stop()));
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('TLS files at start', { skip }, () => {
  test('a missing certificate file stops the member with the flag and the path, before it serves', async () => {
    const [client, peer] = await freePorts(2);
    const root = mkdtempSync(join(tmpdir(), 'cairn-tls-missing-'));
    const missing = join(root, 'no-such.crt');
    const p = spawnCairn([
      '--name', 'x', '--data-dir', join(root, 'x'), '--cert-file', missing, '--key-file', missing,
      '--listen-client-urls', `https://127.0.0.1:${client}`, '--advertise-client-urls', `https://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `x=http://127.0.0.1:${peer}`,
    ]);
    try {
      const code = await Promise.race([p.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 20_000).unref())]);
      assert.equal(code, 1, p.logs());
      assert.ok(p.logs().includes(`cairn: --cert-file ${missing}: ENOENT`), p.logs());
    } finally {
      await p.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
