/**
 * Tests of the harness itself against a real etcd: free ports are distinct and bindable, a
 * member starts healthy in its own temp dir, keeps data across kill9 + restart, stops on
 * SIGTERM, and its data dir is removed at the end of a passing scope.
 *
 * Skipped (with a message) when etcd is not installed. Must never use a fixed port.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { b64, etcdAvailable, freePorts, gw, isHealthy, prefixEnd, unb64s, withServers } from './harness.js';

describe('harness: ports and helpers', () => {
  it('freePorts returns distinct ports that can be bound on 127.0.0.1', async () => {
    const ports = await freePorts(8);
    assert.equal(new Set(ports).size, 8);
    for (const port of ports) {
      await new Promise<void>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
      });
    }
  });

  it('prefixEnd increments the last byte below 0xff, as etcd clients do', () => {
    assert.deepEqual([...prefixEnd('a/')], [...Buffer.from('a0')]);
    assert.deepEqual([...prefixEnd(Uint8Array.of(0x61, 0xff))], [0x62]);
    assert.deepEqual([...prefixEnd(Uint8Array.of(0xff))], [0]);
  });
});

describe('harness: a real etcd member', { skip: etcdAvailable() ? false : 'etcd not installed' }, () => {
  it('starts healthy, survives kill9 and restart with its data, and is cleaned up', async () => {
    let dataDir = '';
    await withServers(async (scope) => {
      const first = await scope.startEtcd();
      dataDir = first.dataDir;
      const put = await gw(first.clientUrl, '/v3/kv/put', { key: b64('k'), value: b64('v') });
      assert.equal(put.status, 200, put.text);
      const killed = await first.kill9();
      assert.equal(killed.signal, 'SIGKILL');
      assert.equal(await isHealthy(first.clientUrl), false);
      const second = scope.adopt(await first.restart());
      assert.notEqual(second.pid, first.pid);
      assert.equal(second.clientUrl, first.clientUrl);
      const got = await gw(second.clientUrl, '/v3/kv/range', { key: b64('k') });
      assert.equal(unb64s(got.json.kvs[0].value), 'v');
      const stopped = await second.stop();
      // etcd shuts down gracefully on SIGTERM, then re-raises the signal on itself (osutil.HandleInterrupts).
      assert.ok(stopped.code === 0 || stopped.signal === 'SIGTERM', JSON.stringify(stopped));
    });
    assert.equal(existsSync(dataDir), false, 'data dir removed after a passing scope');
  });

  it('keeps the data dir when the scope body throws', async () => {
    let dataDir = '';
    await assert.rejects(withServers(async (scope) => {
      dataDir = (await scope.startEtcd()).dataDir;
      throw new Error('deliberate');
    }), /deliberate/);
    assert.equal(existsSync(dataDir), true);
    const { rm } = await import('node:fs/promises');
    await rm(dataDir, { recursive: true, force: true });
  });
});
