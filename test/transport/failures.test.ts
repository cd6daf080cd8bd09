import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PeerTransport } from '../../src/transport/index.js';
import { appMessage, closeAll, FAST_LIMITS, sleep, startMember, waitFor } from './peers.js';

const A = 0xa1n;
const B = 0xb2n;

test('a peer that is down is reported unreachable, retried with backoff, and gets messages again when back', async () => {
  const a = await startMember(A);
  let b = await startMember(B);
  const port = Number(new URL(b.url).port);
  a.transport.addPeer(B, [b.url]);
  a.transport.send([appMessage(A, B, 0)]);
  await waitFor(() => b.received.length === 1, 'first message');
  await closeAll([b]);
  try {
    // Down for ~600 ms while the host keeps sending every 5 ms (as heartbeats would).
    const downUntil = performance.now() + 600;
    let i = 1;
    while (performance.now() < downUntil) {
      a.transport.send([appMessage(A, B, i++)]);
      await sleep(5);
    }
    const failures = a.events.unreachable.filter((id) => id === B).length;
    assert.ok(failures >= 2, `reported unreachable (${failures})`);
    // Backoff 20 ms doubling to 200 ms: a handful of attempts, not one per send.
    assert.ok(failures <= 12, `${failures} attempts in 600 ms with ${i} sends`);
    assert.equal(a.transport.stats().peers.get(B)?.active, false);
    b = await startMember(B, { port });
    await waitFor(() => {
      a.transport.send([appMessage(A, B, i++)]);
      return b.received.length > 0;
    }, 'messages after the peer came back', 3_000);
    await waitFor(() => a.transport.stats().peers.get(B)?.active === true, 'peer active again');
    assert.ok(b.received[0].index > 1, 'stale messages were not resent forever');
  } finally {
    await closeAll([a, b]);
  }
});

function heapUsedAfterGc(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers; // message bytes live in ArrayBuffers, outside the JS heap
}

test('under a peer that accepts but never answers, the queue stays bounded and memory does not grow', async () => {
  const sockets = new Set<Socket>();
  const blackHole = createServer((s) => { sockets.add(s); s.pause(); });
  await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
  const port = (blackHole.address() as { port: number }).port;
  const unreachable: bigint[] = [];
  const maxQueued = 200;
  const t = new PeerTransport({
    clusterId: 1n, memberId: A, onUnreachable: (id) => unreachable.push(id),
    limits: { ...FAST_LIMITS, requestTimeoutMs: 300, maxQueuedMessagesPerPeer: maxQueued, maxQueuedBytesPerPeer: 16 * 1024 * 1024 },
  });
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  try {
    t.addPeer(B, [`http://127.0.0.1:${port}`]);
    const before = heapUsedAfterGc(gc);
    let sent = 0;
    const entryBytes = 1024;
    for (let call = 0; call < 300; call++) {
      t.send(Array.from({ length: 200 }, () => appMessage(A, B, sent++, entryBytes)));
      if (call % 50 === 0) await sleep(100);
      const s = t.stats().peers.get(B);
      assert.ok((s?.queuedMessages ?? 0) <= maxQueued, `queue ${s?.queuedMessages}`);
      assert.ok((s?.inflightRequests ?? 0) <= 1);
    }
    const grownBytes = heapUsedAfterGc(gc) - before;
    const s = t.stats().peers.get(B);
    // The 300 ms request timeout fires on the event loop's schedule: wait for it with a deadline.
    for (const until = Date.now() + 10_000; unreachable.length === 0 && Date.now() < until;) await sleep(20);
    assert.ok(unreachable.length >= 1, 'timeout reported as unreachable');
    assert.equal(s?.sentMessages, 0);
    assert.ok((s?.droppedMessages ?? 0) >= sent - maxQueued - 200 * 10, `dropped ${s?.droppedMessages} of ${sent}`);
    // ~60 MiB of messages went through send(); what stays is one queue and a batch or two.
    assert.ok(grownBytes < 24 * 1024 * 1024, `heap and buffers grew ${(grownBytes / 1048576).toFixed(1)} MiB`);
  } finally {
    t.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => blackHole.close(r));
  }
});

const STOPPABLE_PEER = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(204); res.end(); }); });
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

test('a SIGSTOPped peer times out, the queue stays bounded, and traffic resumes after SIGCONT', { skip: process.platform === 'win32' }, async () => {
  const child = spawn(process.execPath, ['-e', STOPPABLE_PEER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  const unreachable: bigint[] = [];
  const maxQueued = 500;
  const t = new PeerTransport({
    clusterId: 1n, memberId: A, onUnreachable: (id) => unreachable.push(id),
    limits: { ...FAST_LIMITS, requestTimeoutMs: 400, maxQueuedMessagesPerPeer: maxQueued },
  });
  try {
    const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    t.addPeer(B, [`http://127.0.0.1:${port}`]);
    let i = 0;
    const sentNow = (): number => t.stats().peers.get(B)?.sentMessages ?? 0;
    await waitFor(() => { t.send([appMessage(A, B, i++)]); return sentNow() > 0; }, 'peer active');
    child.kill('SIGSTOP');
    const stoppedUntil = performance.now() + 1_200;
    while (performance.now() < stoppedUntil) {
      t.send(Array.from({ length: 20 }, () => appMessage(A, B, i++)));
      assert.ok((t.stats().peers.get(B)?.queuedMessages ?? 0) <= maxQueued);
      await sleep(5);
    }
    assert.ok(unreachable.length >= 1, 'request timeout reported as unreachable');
    assert.equal(t.stats().peers.get(B)?.active, false);
    const sentWhileStopped = sentNow();
    child.kill('SIGCONT');
    await waitFor(() => { t.send([appMessage(A, B, i++)]); return sentNow() > sentWhileStopped; }, 'traffic after SIGCONT', 4_000);
    assert.equal(t.stats().peers.get(B)?.active, true);
  } finally {
    t.close();
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }
});
