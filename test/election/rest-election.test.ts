/**
 * Locks and elections on the REST face: the leader as JSON (404 when nobody leads), observe as
 * Server-Sent Events read by a real EventSource (every change, in order, id = revision), and
 * lock/unlock with names in the path.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { request } from 'undici';
import { startFixture, b64, type Fixture } from '../api/app-fixture.js';

let f: Fixture;
let url: string;
before(async () => {
  f = await startFixture();
  url = await f.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => { await f.close(); });

const hex = (id: string) => BigInt(id).toString(16);

async function grant(): Promise<string> {
  return (await f.gw('/v3/lease/grant', { TTL: 30 })).json.ID;
}

function collect(es: EventSource, n: number, timeoutMs = 10_000): Promise<MessageEvent[]> {
  const got: MessageEvent[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${got.length} of ${n} leader events`)), timeoutMs);
    es.addEventListener('leader', (e) => {
      got.push(e as MessageEvent);
      if (got.length === n) { clearTimeout(t); resolve(got); }
    });
  });
}

test('GET /election/{name}: 404 with etcd\'s message when nobody leads, else the leader\'s kv as text', async () => {
  const none = await request(`${url}/election/rest-none`);
  assert.equal(none.statusCode, 404);
  assert.deepEqual(await none.body.json(), { error: 'election: no leader', code: 5 });
  const lease = await grant();
  const c = await f.gw('/v3/election/campaign', { name: b64('rest-one'), lease, value: b64('hello') });
  const r = await request(`${url}/election/rest-one`);
  assert.equal(r.statusCode, 200);
  const j: any = await r.body.json();
  assert.equal(j.key, `rest-one/${hex(lease)}`);
  assert.equal(j.value, 'hello');
  assert.equal(j.create_revision, c.json.leader.rev);
  await f.gw('/v3/election/resign', { leader: c.json.leader });
});

test('GET /election/{name}/observe streams every leader change as SSE, id = revision', async () => {
  const es = new EventSource(`${url}/election/sse-el/observe`);
  const events = collect(es, 3);
  try {
    const [la, lb] = [await grant(), await grant()];
    const a = await f.gw('/v3/election/campaign', { name: b64('sse-el'), lease: la, value: b64('a1') });
    const bP = f.gw('/v3/election/campaign', { name: b64('sse-el'), lease: lb, value: b64('b1') });
    await f.gw('/v3/election/proclaim', { leader: a.json.leader, value: b64('a2') });
    await f.gw('/v3/election/resign', { leader: a.json.leader });
    await bP;
    const got = await events;
    const data = got.map((e) => JSON.parse(e.data));
    assert.deepEqual(data.map((d) => `${d.key}=${d.value}`), [`sse-el/${hex(la)}=a1`, `sse-el/${hex(la)}=a2`, `sse-el/${hex(lb)}=b1`]);
    for (let i = 0; i < got.length; i++) assert.equal(got[i].lastEventId, data[i].revision);
    assert.ok(BigInt(data[0].revision) < BigInt(data[1].revision) && BigInt(data[1].revision) < BigInt(data[2].revision));
  } finally {
    es.close();
  }
});

test('POST /lock/{name} waits until held and DELETE /lock?key= releases it', async () => {
  const [la, lb] = [await grant(), await grant()];
  const a = await request(`${url}/lock/rest-lock?lease=${la}`, { method: 'POST' });
  assert.equal(a.statusCode, 200);
  const aj: any = await a.body.json();
  assert.equal(aj.key, `rest-lock/${hex(la)}`);
  let bDone = false;
  const b = request(`${url}/lock/rest-lock?lease=${lb}`, { method: 'POST' }).then(async (r) => { bDone = true; return r.body.json(); });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(bDone, false);
  const u = await request(`${url}/lock?key=${encodeURIComponent(aj.key)}`, { method: 'DELETE' });
  assert.equal(u.statusCode, 200);
  const bj: any = await b;
  assert.equal(bj.key, `rest-lock/${hex(lb)}`);
  const bad = await request(`${url}/lock/x?lease=abc`, { method: 'POST' });
  assert.equal(bad.statusCode, 400);
  await bad.body.dump();
});
