/**
 * A lock holder killed with SIGKILL releases the lock by lease expiry: a real cairn process, a
 * holder in a child process that keeps its lease alive, a waiter in this process. While the
 * holder lives (past its TTL) the waiter waits; after kill -9 the waiter gets the lock within a
 * few TTLs. Skipped when cairn cannot be started.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cairnBuilt, cairnEntry, gw, b64, unb64s, withServers } from '../support/harness.js';

const holderTtlSec = 2;
const holderScript = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './lock-holder.ts' : './lock-holder.js', import.meta.url));
const nodeArgs = holderScript.endsWith('.ts') ? ['--import', 'tsx', holderScript] : [holderScript];

function startHolder(url: string, name: string): Promise<{ pid: number; key: string; kill(): void; exited: Promise<void> }> {
  const child = spawn(process.execPath, [...nodeArgs, url, name, String(holderTtlSec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`holder never locked: ${err}`)); }, 15_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /LOCKED (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({ pid: child.pid!, key: m[1], kill: () => child.kill('SIGKILL'), exited });
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`holder exited (${code}) before locking: ${err}`)); });
  });
}

describe('lock holder killed with kill -9 (process)', { skip: cairnBuilt() ? false : `cairn not built (${cairnEntry().file})`, timeout: 60_000 }, () => {
  it('the next waiter gets the lock within a few TTLs of the kill, not before', async () => {
    await withServers(async (scope) => {
      const cairn = await scope.startCairn();
      const url = cairn.clientUrl;
      const holder = await startHolder(url, 'k9');
      try {
        const lease = (await gw(url, '/v3/lease/grant', { TTL: 30 })).json.ID;
        let lockedAtMs = 0;
        const waiting = gw(url, '/v3/lock/lock', { name: b64('k9'), lease }).then((r) => { lockedAtMs = Date.now(); return r; });
        // Longer than the holder's TTL: its keep-alives must hold the lock.
        await new Promise((r) => setTimeout(r, (holderTtlSec + 1) * 1000));
        assert.equal(lockedAtMs, 0, 'the waiter got the lock while the holder was alive');
        const killedAtMs = Date.now();
        holder.kill();
        await holder.exited;
        const r = await waiting;
        assert.equal(r.status, 200, r.text);
        assert.equal(unb64s(r.json.key), `k9/${BigInt(lease).toString(16)}`);
        const waitedMs = lockedAtMs - killedAtMs;
        assert.ok(waitedMs <= 3 * holderTtlSec * 1000, `lock passed ${waitedMs} ms after the kill (TTL ${holderTtlSec} s)`);
        const gone = await gw(url, '/v3/kv/range', { key: holder.key });
        assert.equal(gone.json.kvs, undefined, 'the dead holder\'s key is gone');
        process.stdout.write(`# lock passed ${waitedMs} ms after kill -9 of the holder (TTL ${holderTtlSec} s)\n`);
      } finally {
        holder.kill();
      }
    });
  });
});
