/**
 * Regression (found by the chaos campaign, seed 20261203): a peer that closes its connection
 * after answering one of several pipelined batches must not receive the others twice. undici
 * re-sends pipelined idempotent requests on a new connection when one closes, although the
 * peer has already read and stepped them; a forwarded proposal stepped twice was appended to
 * the log twice and one client put was applied at two revisions. The peer client now writes
 * each request to a connection at most once: the others fail, and Raft resends what matters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Client } from 'undici';
import { sentAtMostOnce } from '../../src/transport/peer-client.js';

async function pipelineThroughClosingPeer(wrap: (c: Client) => { request: Client['request'] }): Promise<{ received: Map<string, number>; settled: string[] }> {
  const received = new Map<string, number>();
  let answered = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      received.set(body, (received.get(body) ?? 0) + 1);
      if (++answered === 1) res.setHeader('connection', 'close'); // e.g. a refusal that closes
      setTimeout(() => res.end(), 20); // the later batches are read before this answer leaves
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 4 });
  try {
    const requests = wrap(client);
    const settled = await Promise.all(['b1', 'b2', 'b3', 'b4'].map(async (body) => {
      try {
        const res = await requests.request({ path: '/raft/messages', method: 'POST', body, idempotent: true, blocking: false });
        await res.body.dump();
        return `${body}:${res.statusCode}`;
      } catch {
        return `${body}:failed`;
      }
    }));
    return { received, settled };
  } finally {
    await client.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('undici alone re-sends pipelined batches a closing peer already read (why the guard exists)', async () => {
  const { received } = await pipelineThroughClosingPeer((c) => c);
  assert.ok([...received.values()].some((n) => n > 1), `expected a duplicate, got ${JSON.stringify([...received])}`);
});

test('through sentAtMostOnce every batch reaches the peer at most once; the rest fail', async () => {
  const { received, settled } = await pipelineThroughClosingPeer((c) => sentAtMostOnce(c));
  assert.deepEqual([...received.entries()].filter(([, n]) => n > 1), []);
  assert.equal(received.get('b1'), 1);
  assert.equal(settled[0], 'b1:200');
  // Those the peer read but could not answer fail at the sender (counted lost), not re-sent.
  for (const s of settled.slice(1)) assert.ok(s.endsWith(':200') || s.endsWith(':failed'), s);
});
