/**
 * Leases across a hard crash of a real cairn process: a lease acknowledged before SIGKILL is
 * there after the restart with its keys and a TTL no shorter than it had, is then expired by the
 * restarted member (its keys deleted, watchers see DELETE events), and a revoked lease stays
 * revoked. Skipped when cairn cannot be started.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cairnBuilt, cairnEntry, gw, withServers } from '../support/harness.js';
import { GatewayStreamClient } from '../watch/stream-client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('leases across SIGKILL and restart (process)', { skip: cairnBuilt() ? false : `cairn not built (${cairnEntry().file})`, timeout: 90_000 }, () => {
  it('keeps acknowledged leases and their keys, then expires them after the restart', async () => {
    await withServers(async (scope) => {
      const first = await scope.startCairn();
      assert.equal((await gw(first.clientUrl, '/v3/lease/grant', { ID: 11, TTL: 4 })).status, 200);
      assert.equal((await gw(first.clientUrl, '/v3/lease/grant', { ID: 12, TTL: 600 })).status, 200);
      assert.equal((await gw(first.clientUrl, '/v3/lease/grant', { ID: 13, TTL: 600 })).status, 200);
      for (const [k, id] of [['pk/a', 11], ['pk/b', 11], ['pk/c', 12], ['pk/d', 13]] as const) {
        assert.equal((await gw(first.clientUrl, '/v3/kv/put', { key: b64(k), value: b64('v'), lease: id })).status, 200);
      }
      assert.equal((await gw(first.clientUrl, '/v3/lease/revoke', { ID: 13 })).status, 200);
      await first.kill9();
      const second = scope.adopt(await first.restart());
      const ttl = await gw(second.clientUrl, '/v3/lease/timetolive', { ID: 11, keys: true });
      assert.equal(ttl.json.grantedTTL, '4');
      assert.ok(Number(ttl.json.TTL) >= 4, `TTL after restart ${ttl.json.TTL}: the full TTL plus an election timeout`);
      assert.deepEqual([...ttl.json.keys].sort(), [b64('pk/a'), b64('pk/b')]);
      assert.equal((await gw(second.clientUrl, '/v3/lease/timetolive', { ID: 13 })).json.TTL, '-1');
      const leases = (await gw(second.clientUrl, '/v3/lease/leases', {})).json.leases.map((l: { ID: string }) => l.ID).sort();
      assert.deepEqual(leases, ['11', '12']);
      const watch = new GatewayStreamClient(second.clientUrl, '/v3/watch', [{ create_request: { key: b64('pk/'), range_end: b64('pk0') } }]);
      watch.endRequest();
      try {
        const [, events] = await watch.waitFor(2, 15_000);
        assert.deepEqual(events.result.events.map((e: { type: string; kv: { key: string } }) => [e.type, e.kv.key]), [['DELETE', b64('pk/a')], ['DELETE', b64('pk/b')]]);
      } finally {
        watch.close();
      }
      const range = await gw(second.clientUrl, '/v3/kv/range', { key: b64('pk/'), range_end: b64('pk0') });
      assert.deepEqual(range.json.kvs.map((kv: { key: string }) => kv.key), [b64('pk/c')]);
    });
  });
});
