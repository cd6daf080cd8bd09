import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createPeerServer, PeerTransport, type PeerTlsOptions } from '../../src/transport/index.js';
import { appMessage, closeAll, connectAll, snapMessage, startMember, waitFor } from './peers.js';

const A = 0xa1n;
const B = 0xb2n;
const X = 0xe7n;

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

const skip = hasOpenssl() ? false : 'openssl is not installed';
let dir = '';
const pem: Record<string, Buffer> = {};

/** A CA and two certificates it signs: "member" (SANs 127.0.0.1 and localhost) and
 * "intruder" (SAN 127.0.0.1 only), both usable as server and client certificates. */
function makeCertificates(): void {
  dir = mkdtempSync(join(tmpdir(), 'cairn-peer-tls-'));
  const run = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 20_000 }); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=cairn-test-ca');
  for (const [name, san] of [['member', 'IP:127.0.0.1,DNS:localhost'], ['intruder', 'IP:127.0.0.1']]) {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }
  for (const f of ['ca.crt', 'member.crt', 'member.key', 'intruder.crt', 'intruder.key']) pem[f] = readFileSync(join(dir, f));
}

function tlsAs(name: 'member' | 'intruder', extra: Partial<PeerTlsOptions> = {}): PeerTlsOptions {
  return {
    cert: pem[`${name}.crt`], key: pem[`${name}.key`], ca: pem['ca.crt'],
    clientCertAuth: true, allowedCn: ['member'], ...extra,
  };
}

before(() => { if (skip === false) makeCertificates(); });
after(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }); });

test('members exchange messages and a snapshot over https with client certificate auth', { skip }, async () => {
  const members = [await startMember(A, { scheme: 'https', tls: tlsAs('member') }), await startMember(B, { scheme: 'https', tls: tlsAs('member') })];
  const [a, b] = members;
  try {
    assert.match(b.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    connectAll(members);
    a.transport.send([appMessage(A, B, 1), appMessage(A, B, 2)]);
    b.transport.send([appMessage(B, A, 3)]);
    await waitFor(() => b.received.length === 2 && a.received.length === 1, 'messages over TLS');
    a.transport.sendSnapshot(B, snapMessage(A, B, 4), async function* () { yield new Uint8Array(300_000).fill(7); });
    await waitFor(() => a.events.snapshotStatus.length === 1, 'snapshot over TLS');
    assert.deepEqual(a.events.snapshotStatus, [{ id: B, ok: true }]);
    assert.equal(b.snapshots[0].bytes, 300_000);
  } finally {
    await closeAll(members);
  }
});

test('a CA-signed certificate whose CN is not allowed is refused with 403 and reported unreachable', { skip }, async () => {
  const b = await startMember(B, { scheme: 'https', tls: tlsAs('member') });
  const x = await startMember(X, { scheme: 'https', tls: tlsAs('intruder') });
  try {
    x.transport.addPeer(B, [b.url]);
    x.transport.send([appMessage(X, B, 1)]);
    await waitFor(() => x.events.unreachable.includes(B), 'refusal');
    assert.equal(b.received.length, 0);
    const dispatcher = new Agent({ connect: { ca: pem['ca.crt'], cert: pem['intruder.crt'], key: pem['intruder.key'] } });
    const res = await request(`${b.url}/raft/probe`, { dispatcher });
    assert.equal(res.statusCode, 403);
    assert.match(await res.body.text(), /CN "intruder" is not in --peer-cert-allowed-cn/);
    await dispatcher.close();
  } finally {
    await closeAll([b, x]);
  }
});

test('a member does not send to a peer whose server certificate CN is not allowed (etcd checks both ends)', { skip }, async () => {
  const a = await startMember(A, { scheme: 'https', tls: tlsAs('member') });
  const x = await startMember(X, { scheme: 'https', tls: tlsAs('intruder') });
  try {
    a.transport.addPeer(X, [x.url]);
    a.transport.send([appMessage(A, X, 1)]);
    await waitFor(() => a.events.unreachable.includes(X), 'refusal of the dialed peer');
    assert.equal(x.received.length, 0);
  } finally {
    await closeAll([a, x]);
  }
});

test('allowed host names are checked against the client certificate\'s SANs', { skip }, async () => {
  const b = await startMember(B, { scheme: 'https', tls: tlsAs('member', { allowedCn: [], allowedHostname: ['localhost'] }) });
  try {
    for (const [name, status] of [['member', 200], ['intruder', 403]] as const) {
      const dispatcher = new Agent({ connect: { ca: pem['ca.crt'], cert: pem[`${name}.crt`], key: pem[`${name}.key`] } });
      const res = await request(`${b.url}/raft/probe`, { dispatcher });
      assert.equal(res.statusCode, status, name);
      await res.body.dump();
      await dispatcher.close();
    }
  } finally {
    await closeAll([b]);
  }
});

test('with client certificate auth, a client without a certificate fails the handshake', { skip }, async () => {
  const b = await startMember(B, { scheme: 'https', tls: tlsAs('member') });
  const dispatcher = new Agent({ connect: { ca: pem['ca.crt'] } });
  try {
    await assert.rejects(request(`${b.url}/raft/probe`, { dispatcher }));
  } finally {
    await dispatcher.close();
    await closeAll([b]);
  }
});

test('an https listen URL without peer TLS options is refused at start', async () => {
  const t = new PeerTransport({ clusterId: 1n, memberId: A });
  const handler = { onMessages: () => {}, onSnapshot: async () => {}, members: () => [] };
  await assert.rejects(createPeerServer({ transport: t, handler, listenUrls: ['https://127.0.0.1:0'] }), /no peer TLS certificate/);
  t.close();
});
