/**
 * The partition proxy on its own: requests carrying `x-cairn-from` pass while the pair is
 * connected; a cut closes the open keep-alive connection and black-holes new requests (no
 * answer) from the cut sender only; healing lets them through again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Agent, request } from 'undici';
import { freePorts } from '../support/ports.js';
import { PartitionProxies } from './partition-proxy.js';

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
}

test('a cut pair is black-holed, other senders pass, and a heal restores the link', { timeout: 30_000 }, async (t) => {
  const [upstreamPort, proxyPort] = await freePorts(2);
  const upstream = createServer((req, res) => res.end(`hello ${String(req.headers['x-cairn-from'])}`));
  await listen(upstream, upstreamPort);
  const proxies = new PartitionProxies();
  proxies.add('b', upstreamPort);
  await proxies.listen('b', proxyPort);
  proxies.setMemberIds(new Map([['a', 'a1'], ['b', 'b2'], ['c', 'c3']]));
  // One pool per sender, as in Cairn's transport: a connection carries one sender's requests.
  const agents = new Map(['a1', 'c3'].map((id) => [id, new Agent({ connections: 1, headersTimeout: 500, bodyTimeout: 500 })]));
  t.after(async () => {
    for (const a of agents.values()) await a.close();
    await proxies.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });
  const send = async (from: string): Promise<string> => {
    try {
      const res = await request(`http://127.0.0.1:${proxyPort}/raft/messages`, { method: 'POST', body: 'x', headers: { 'x-cairn-from': from }, dispatcher: agents.get(from)! });
      return await res.body.text();
    } catch (e) {
      return `error ${(e as { code?: string }).code ?? (e as Error).name}`;
    }
  };
  assert.equal(await send('a1'), 'hello a1');
  proxies.partition([['a'], ['b', 'c']]);
  assert.match(await send('a1'), /^error /); // the kept-alive connection was closed, a new one hangs
  assert.equal(await send('c3'), 'hello c3');
  assert.match(await send('a1'), /^error UND_ERR_HEADERS_TIMEOUT/);
  proxies.heal();
  assert.equal(await send('a1'), 'hello a1');
});
