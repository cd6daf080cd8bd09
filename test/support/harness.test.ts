/**
 * Tests of the harness itself against a real etcd: free ports are distinct and bindable, a
 * member starts healthy in its own temp dir, keeps data across kill9 + restart, stops on
 * SIGTERM, and its data dir is removed at the end of a passing scope; and, with a stand-in
 * server (fixtures/fake-member.ts), that the harness passes etcd's flags, reports a crash or a
 * missed readiness deadline with the output, escalates to SIGKILL, and leaks no process.
 *
 * The real-etcd part is skipped (with a message) when etcd is not installed. Must never use a fixed port.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { b64, etcdAvailable, freePorts, gw, isHealthy, prefixEnd, startCairn, unb64s, withServers } from './harness.js';

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

describe('harness: member lifecycle against a stand-in server', () => {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const fake = fileURLToPath(new URL(`./fixtures/fake-member${ext}`, import.meta.url));
  const withFakeEntry = async (body: () => Promise<void>): Promise<void> => {
    const saved = process.env.CAIRN_ENTRY;
    process.env.CAIRN_ENTRY = fake;
    try {
      await body();
    } finally {
      if (saved === undefined) delete process.env.CAIRN_ENTRY;
      else process.env.CAIRN_ENTRY = saved;
    }
  };

  it("passes etcd's flags: name, data dir, client and peer URLs, initial cluster", () => withFakeEntry(async () => {
    await withServers(async (scope) => {
      const m = await scope.startCairn({ name: 'm1' });
      const argv = JSON.parse(readFileSync(join(m.dataDir, 'argv.json'), 'utf8')) as string[];
      const value = (f: string): string => argv[argv.indexOf(f) + 1];
      assert.equal(value('--name'), 'm1');
      assert.equal(value('--data-dir'), m.dataDir);
      assert.equal(value('--listen-client-urls'), m.clientUrl);
      assert.equal(value('--advertise-client-urls'), m.clientUrl);
      assert.equal(value('--listen-peer-urls'), m.peerUrl);
      assert.equal(value('--initial-cluster'), `m1=${m.peerUrl}`);
      assert.match(m.clientUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    });
  }));

  it('fails fast with the output when the server exits before it is healthy', () => withFakeEntry(async () => {
    await assert.rejects(startCairn({ env: { FAKE_MODE: 'crash' } }), (e: Error) => {
      assert.match(e.message, /exited before it was ready \(code 3/);
      assert.match(e.message, /deliberate crash at startup/);
      const dir = /data dir (\S+)/.exec(e.message)?.[1];
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      return true;
    });
  }));

  it('gives up at the readiness deadline when /health never says true', () => withFakeEntry(async () => {
    const t0 = Date.now();
    await assert.rejects(startCairn({ env: { FAKE_MODE: 'unhealthy' }, readyTimeoutMs: 1_500 }), (e: Error) => {
      assert.match(e.message, /not healthy .* within 1500 ms/);
      const dir = /data dir (\S+)/.exec(e.message)?.[1];
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000);
  }));

  it('stop() falls back to SIGKILL when SIGTERM is ignored', () => withFakeEntry(async () => {
    await withServers(async (scope) => {
      const m = await scope.startCairn({ env: { FAKE_MODE: 'ignore-term' }, stopTimeoutMs: 500 });
      assert.deepEqual(await m.stop(), { code: null, signal: 'SIGKILL' });
    });
  }));

  it('a scope whose parallel start fails leaves no server running', () => withFakeEntry(async () => {
    const pids: number[] = [];
    const dirs: string[] = [];
    await assert.rejects(withServers(async (scope) => {
      const slow = scope.startCairn({ env: { FAKE_MODE: 'ok' } }).then((h) => { pids.push(h.pid); dirs.push(h.dataDir); return h; });
      const failing = scope.startCairn({ env: { FAKE_MODE: 'crash' } });
      await Promise.all([slow, failing]);
    }), (e: Error) => {
      assert.match(e.message, /exited before it was ready/);
      const dir = /data dir (\S+)/.exec(e.message)?.[1];
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      return true;
    });
    assert.equal(pids.length, 1);
    assert.throws(() => process.kill(pids[0], 0), /ESRCH/, 'the started server outlived its scope');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); // kept because the scope failed
  }));
});
