import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { encodeMessage, newMessage, MessageType } from '../../src/raft/index.js';
import { encodeBatch, PEER_PROTOCOL_VERSION } from '../../src/transport/wire.js';
import { appMessage, closeAll, connectAll, startMember, waitFor, type TestMember } from './peers.js';

const A = 0xa1n;
const B = 0xb2n;
const C = 0xfedc_ba98_7654_3210n;

function identity(from: bigint, to: bigint, clusterId = 0xc1a5n): Record<string, string> {
  return {
    'x-cairn-cluster-id': clusterId.toString(16), 'x-cairn-from': from.toString(16), 'x-cairn-to': to.toString(16),
    'x-cairn-peer-protocol': String(PEER_PROTOCOL_VERSION),
  };
}

async function post(url: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<{ status: number; text: string }> {
  const res = await request(url + path, { method: 'POST', headers, body });
  return { status: res.statusCode, text: await res.body.text() };
}

function batchBody(...messages: ReturnType<typeof appMessage>[]): Buffer {
  const frames = messages.map(encodeMessage);
  return encodeBatch(frames, frames.reduce((n, f) => n + f.length, 0));
}

test('two members exchange batches both ways; per-peer order is kept as sent', async () => {
  const members = [await startMember(A), await startMember(B)];
  const [a, b] = members;
  try {
    connectAll(members);
    const perCall = 10;
    const calls = 200;
    for (let c = 0; c < calls; c++) {
      a.transport.send(Array.from({ length: perCall }, (_, i) => appMessage(A, B, c * perCall + i)));
      b.transport.send([appMessage(B, A, c)]);
      if (c % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => b.received.length === calls * perCall && a.received.length === calls, 'all messages');
    assert.deepEqual(b.received.map((m) => m.index), Array.from({ length: calls * perCall }, (_, i) => i));
    assert.deepEqual(a.received.map((m) => m.index), Array.from({ length: calls }, (_, i) => i));
    assert.equal(b.received[7].entries[0].data.length, 16);
    // The receiver may have all messages before the sender has read every answer.
    await waitFor(() => a.transport.stats().peers.get(B)?.sentMessages === calls * perCall, 'answers read');
    const stats = a.transport.stats().peers.get(B);
    assert.equal(stats?.droppedMessages, 0);
    // A call is never split (it fits a batch); calls that wait behind a full pipeline merge.
    assert.ok((stats?.sentBatches ?? 0) <= calls, `batches ${stats?.sentBatches} ≤ calls ${calls}`);
    assert.equal(b.server.stats().receivedBatches, stats?.sentBatches);
    assert.deepEqual(a.events.unreachable, []);
  } finally {
    await closeAll(members);
  }
});

test('one send() call becomes one request per destination peer, each peer getting only its own', async () => {
  const members = [await startMember(A), await startMember(B), await startMember(C)];
  const [a, b, c] = members;
  try {
    connectAll(members);
    const out = [];
    for (let i = 0; i < 30; i++) out.push(appMessage(A, i % 2 === 0 ? B : C, i));
    out.push({ ...newMessage(MessageType.Heartbeat, C, A, 1), commit: 5 });
    a.transport.send(out);
    await waitFor(() => b.received.length === 15 && c.received.length === 16, 'both peers');
    assert.equal(b.server.stats().receivedBatches, 1);
    assert.equal(c.server.stats().receivedBatches, 1);
    assert.ok(b.received.every((m) => m.to === B && m.from === A));
    assert.deepEqual(c.received.map((m) => m.type).at(-1), MessageType.Heartbeat);
    assert.deepEqual(b.received.map((m) => m.index), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28]);
  } finally {
    await closeAll(members);
  }
});

test('messages for an unknown peer or for this member are dropped and counted, never thrown', async () => {
  const a = await startMember(A);
  try {
    a.transport.send([appMessage(A, B, 1), appMessage(A, A, 2)]);
    assert.equal(a.transport.stats().droppedUnroutable, 2);
    assert.throws(() => a.transport.addPeer(A, ['http://127.0.0.1:1']), /own peer/);
    assert.throws(() => a.transport.addPeer(B, ['ftp://x:1']), /scheme/);
  } finally {
    await closeAll([a]);
  }
});

test('a cluster ID mismatch is refused with 412 both ways and reported to each sender', async () => {
  const a = await startMember(A, { clusterId: 0x1111n });
  const b = await startMember(B, { clusterId: 0x2222n });
  try {
    connectAll([a, b]);
    a.transport.send([appMessage(A, B, 1)]);
    b.transport.send([appMessage(B, A, 1)]);
    await waitFor(() => a.events.clusterMismatch.length > 0 && b.events.clusterMismatch.length > 0, 'mismatch callbacks');
    assert.deepEqual(a.events.clusterMismatch[0], { peer: B, theirs: 0x2222n });
    assert.deepEqual(b.events.clusterMismatch[0], { peer: A, theirs: 0x1111n });
    assert.ok(a.events.unreachable.includes(B));
    assert.equal(a.received.length + b.received.length, 0);
    const raw = await post(b.url, '/raft/messages', identity(A, B, 0x1111n), batchBody(appMessage(A, B, 1)));
    assert.equal(raw.status, 412);
    assert.match(raw.text, /cluster ID mismatch \(got 1111 want 2222\)/);
  } finally {
    await closeAll([a, b]);
  }
});

test('a removed member is refused with 410 "member removed" and told once through onRemoved', async () => {
  const members = [await startMember(A), await startMember(B)];
  const [a, b] = members;
  try {
    connectAll(members);
    b.handler.known = (id) => id !== A;
    for (let i = 0; i < 5; i++) {
      a.transport.send([appMessage(A, B, i)]);
      await waitFor(() => a.events.unreachable.length > i, 'failure');
    }
    assert.deepEqual(a.events.removed, [B]);
    assert.equal(b.received.length, 0);
    const raw = await post(b.url, '/raft/messages', identity(A, B), batchBody(appMessage(A, B, 1)));
    assert.equal(raw.status, 410);
    assert.match(raw.text, /member removed/);
  } finally {
    await closeAll(members);
  }
});

test('a request for another member ID is refused with 421 and counts as a failure', async () => {
  const members = [await startMember(A), await startMember(B)];
  const [a, b] = members;
  try {
    // A believes C lives at B's URL (C's old address, now reused by B).
    a.transport.addPeer(C, [b.url]);
    a.transport.send([appMessage(A, C, 1)]);
    await waitFor(() => a.events.unreachable.includes(C), 'unreachable');
    assert.equal(b.received.length, 0);
    const raw = await post(b.url, '/raft/messages', identity(A, C), batchBody(appMessage(A, C, 1)));
    assert.equal(raw.status, 421);
    assert.match(raw.text, /member ID mismatch/);
  } finally {
    await closeAll(members);
  }
});

async function expectRefused(b: TestMember, headers: Record<string, string>, body: Uint8Array, status: number, why: RegExp): Promise<void> {
  const res = await post(b.url, '/raft/messages', headers, body);
  assert.equal(res.status, status, res.text);
  assert.match(res.text, why);
}

test('malformed requests are refused (400/404/413) and the server keeps serving', async () => {
  const members = [await startMember(A), await startMember(B, { limits: { maxBatchBytes: 64 * 1024 } })];
  const [a, b] = members;
  try {
    const good = batchBody(appMessage(A, B, 1));
    await expectRefused(b, identity(A, B), Buffer.from('garbage'), 400, /malformed request: batch version/);
    await expectRefused(b, identity(A, B), good.subarray(0, good.length - 3), 400, /past the end/);
    const badFrame = Buffer.from(good);
    badFrame[6] = 200; // the message type byte
    await expectRefused(b, identity(A, B), badFrame, 400, /frame 0/);
    await expectRefused(b, identity(A, B), batchBody(appMessage(C, B, 1)), 400, /from fedcba9876543210 but sent by a1/);
    await expectRefused(b, { ...identity(A, B), 'x-cairn-peer-protocol': '99' }, good, 400, /protocol version 99/);
    const { 'x-cairn-from': _, ...noFrom } = identity(A, B);
    await expectRefused(b, noFrom, good, 400, /x-cairn-from/);
    await expectRefused(b, identity(A, B), Buffer.alloc(65 * 1024), 413, /maxBatchBytes/);
    const missing = await request(b.url + '/nope');
    assert.equal(missing.statusCode, 404);
    await missing.body.dump();
    assert.equal(b.received.length, 0);
    assert.ok(b.server.stats().refusedRequests >= 8);
    // Still serving, through the real sender too.
    connectAll(members);
    a.transport.send([appMessage(A, B, 42)]);
    await waitFor(() => b.received.length === 1, 'a good batch after bad ones');
    assert.equal(b.received[0].index, 42);
  } finally {
    await closeAll(members);
  }
});

test('a handler that throws answers 500 to that batch; later batches still arrive', async () => {
  const members = [await startMember(A), await startMember(B)];
  const [a, b] = members;
  try {
    connectAll(members);
    let fail = true;
    const original = b.handler.onMessages;
    b.handler.onMessages = (msgs, from) => {
      if (fail) throw new Error('host bug');
      return original(msgs, from);
    };
    a.transport.send([appMessage(A, B, 1)]);
    await waitFor(() => a.events.unreachable.length === 1, 'failure reported');
    fail = false;
    await waitFor(() => {
      a.transport.send([appMessage(A, B, 2)]);
      return b.received.length > 0;
    }, 'recovery');
    assert.equal(b.received[0].index, 2);
  } finally {
    await closeAll(members);
  }
});

test('probe and /members answer with this member\'s identity and the host\'s member list', async () => {
  const members = [await startMember(A), await startMember(B)];
  const [a, b] = members;
  try {
    connectAll(members);
    b.handler.members = () => [{ id: B, name: 'b', peerUrls: [b.url], clientUrls: ['http://127.0.0.1:2379'], isLearner: true }];
    const probe = await a.transport.probe(B);
    assert.equal(probe.memberId, B);
    assert.equal(probe.clusterId, 0xc1a5n);
    assert.equal(probe.serverVersion, 'test');
    assert.equal(probe.protocolVersion, PEER_PROTOCOL_VERSION);
    const { fetchClusterMembers, resolveLimits } = await import('../../src/transport/index.js');
    const listed = await fetchClusterMembers(['http://127.0.0.1:1', b.url], { limits: resolveLimits({ connectTimeoutMs: 500 }) });
    assert.equal(listed.clusterId, 0xc1a5n);
    assert.equal(listed.url, b.url);
    assert.deepEqual(listed.members, [{ id: B, name: 'b', peerUrls: [b.url], clientUrls: ['http://127.0.0.1:2379'], isLearner: true }]);
    await assert.rejects(fetchClusterMembers(['http://127.0.0.1:1'], { limits: resolveLimits() }), /could not get the member list/);
  } finally {
    await closeAll(members);
  }
});

test('a pino logger is taken as is; peer state changes are logged, not each batch', async () => {
  const { pino } = await import('pino');
  const lines: { msg: string; peer?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line)); } });
  const a = await startMember(A, { transport: { logger } });
  const b = await startMember(B);
  try {
    connectAll([a, b]);
    for (let i = 0; i < 20; i++) a.transport.send([appMessage(A, B, i)]);
    await waitFor(() => b.received.length === 20, 'messages');
    await closeAll([b]);
    a.transport.send([appMessage(A, B, 99)]);
    await waitFor(() => lines.some((l) => l.msg === 'peer became inactive'), 'inactive line');
    const msgs = lines.map((l) => l.msg);
    assert.equal(msgs.filter((m) => m === 'peer became active').length, 1);
    assert.ok(msgs.includes('added peer'));
    assert.ok(lines.length < 10, `${lines.length} lines for 21 sends`);
  } finally {
    await closeAll([a]);
  }
});

test('updatePeer moves traffic to the new URL; removePeer drops the queue and later messages', async () => {
  const a = await startMember(A);
  const oldB = await startMember(B);
  const newB = await startMember(B);
  try {
    a.transport.addPeer(B, [oldB.url]);
    a.transport.send([appMessage(A, B, 1)]);
    await waitFor(() => oldB.received.length === 1, 'old address');
    a.transport.updatePeer(B, [newB.url]);
    a.transport.send([appMessage(A, B, 2)]);
    await waitFor(() => newB.received.length === 1, 'new address');
    assert.equal(oldB.received.length, 1);
    assert.throws(() => a.transport.updatePeer(C, [newB.url]), /no peer/);
    a.transport.removePeer(B);
    assert.equal(a.transport.hasPeer(B), false);
    a.transport.send([appMessage(A, B, 3)]);
    assert.equal(a.transport.stats().droppedUnroutable, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(newB.received.length, 1);
  } finally {
    await closeAll([a, oldB, newB]);
  }
});

test('a peer with several URLs is reached through the next one when the first is down', async () => {
  const a = await startMember(A);
  const b = await startMember(B);
  try {
    a.transport.addPeer(B, ['http://127.0.0.1:1', b.url]);
    await waitFor(() => {
      a.transport.send([appMessage(A, B, 1)]);
      return b.received.length > 0;
    }, 'delivery through the second URL');
    assert.ok(a.events.unreachable.length >= 1);
    await waitFor(() => a.transport.stats().peers.get(B)?.url === b.url, 'second URL in use');
  } finally {
    await closeAll([a, b]);
  }
});
