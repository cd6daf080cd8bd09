/**
 * Durability with a real process. Crash: 16 connections put fresh keys; the moment the 200th
 * acknowledgement arrives the server gets SIGKILL (other puts are still in flight); after a
 * restart on the same data dir every acknowledged key must be there with its value and its
 * acknowledged revision, the revision must cover every acknowledgement, and an unacknowledged
 * key, if present, must hold the value that was sent. Graceful stop: SIGTERM while puts are in
 * flight; each put sent before the signal must get an HTTP answer (one refused at connect was
 * never in flight), the process must exit 0, and a restart must find every acknowledged key.
 *
 * SIGKILL leaves the page cache intact, so this proves "no acknowledgement before the write
 * reached the OS", not "fsync before acknowledgement" (that needs power-loss simulation).
 *
 * Env: CRASH_TARGETS=cairn,etcd (default cairn; etcd checks the test itself), CRASH_ROUNDS
 * (default 3), CRASH_ACKS (default 200). Skipped when the target is not there.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { b64, cairnBuilt, cairnEntry, etcdAvailable, gw, unb64s, withServers, type ServerHandle, type ServerScope }
  from '../support/harness.js';
import { runWriters, type Ack, type WriteOutcome } from './writers.js';

const targets = (process.env.CRASH_TARGETS ?? 'cairn').split(',').map((t) => t.trim()).filter((t) => t !== '');
const rounds = Number(process.env.CRASH_ROUNDS ?? 3);
const acksBeforeKill = Number(process.env.CRASH_ACKS ?? 200);
const connections = 16;
/** Writes allowed per round beyond the acks waited for: bounds the loops if the kill is slow. */
const maxWritesPerRound = acksBeforeKill * 4;
const testTimeoutMs = 120_000;

type Target = 'cairn' | 'etcd';

function skipReason(target: Target): string | false {
  if (target === 'etcd') return etcdAvailable() ? false : 'etcd not installed';
  return cairnBuilt() ? false : `cairn not built (${cairnEntry().file} missing)`;
}

function start(scope: ServerScope, target: Target): Promise<ServerHandle> {
  return target === 'etcd' ? scope.startEtcd() : scope.startCairn();
}

/** Every key under `prefix` → { value, mod_revision }, read from the server in one range. */
async function readBack(url: string, prefix: string): Promise<{ kvs: Map<string, { value: string; mod: bigint }>; revision: bigint }> {
  const res = await gw(url, '/v3/kv/range', { key: b64(prefix), range_end: b64(`${prefix.slice(0, -1)}0`) });
  assert.equal(res.status, 200, res.text);
  const kvs = new Map<string, { value: string; mod: bigint }>();
  for (const kv of res.json.kvs ?? []) kvs.set(unb64s(kv.key), { value: unb64s(kv.value), mod: BigInt(kv.mod_revision) });
  return { kvs, revision: BigInt(res.json.header.revision) };
}

/** Acknowledged keys present with their value and revision; unacknowledged ones intact if present. */
function checkDurable(out: WriteOutcome, found: Map<string, { value: string; mod: bigint }>, logs: () => string): void {
  const ackedKeys = new Set(out.acks.map((a: Ack) => a.key));
  for (const ack of out.acks) {
    const got = found.get(ack.key);
    assert.ok(got !== undefined, `acknowledged key ${ack.key} (revision ${ack.revision}) lost after restart\n${logs()}`);
    assert.equal(got.value, ack.value, `value of ${ack.key}`);
    assert.equal(got.mod, ack.revision, `mod_revision of ${ack.key} differs from the acknowledged revision`);
  }
  for (const [key, got] of found) {
    const sent = out.attempted.get(key);
    assert.ok(sent !== undefined, `key ${key} present but never written`);
    if (!ackedKeys.has(key)) assert.equal(got.value, sent, `in-flight key ${key} holds a value that was not sent`);
  }
}

async function crashRound(server: ServerHandle, round: number): Promise<{ out: WriteOutcome; prefix: string }> {
  const prefix = `crash/r${round}/`;
  let killed = false;
  const out = await runWriters({
    url: server.clientUrl, keyPrefix: prefix, connections, maxWrites: maxWritesPerRound,
    shouldStop: () => killed,
    onAck: (n) => {
      if (n === acksBeforeKill && !killed) {
        killed = true;
        void server.kill9(); // sends SIGKILL now, synchronously, with puts still in flight
      }
    },
  });
  const exit = await server.kill9();
  assert.equal(exit.signal, 'SIGKILL', `server ended on its own before the kill: ${JSON.stringify(exit)}\n${server.logs()}`);
  assert.ok(out.acks.length >= acksBeforeKill, `only ${out.acks.length} acks; refused ${JSON.stringify(out.refused.slice(0, 3))}`);
  return { out, prefix };
}

async function crashTest(scope: ServerScope, target: Target): Promise<void> {
  let server = await start(scope, target);
  let totalAcks = 0;
  for (let round = 0; round < rounds; round++) {
    const { out, prefix } = await crashRound(server, round);
    totalAcks += out.acks.length;
    server = scope.adopt(await server.restart());
    const { kvs, revision } = await readBack(server.clientUrl, prefix);
    checkDurable(out, kvs, () => server.logs());
    // Each acknowledged put made its own revision, on top of the initial revision 1.
    assert.ok(revision >= BigInt(totalAcks + 1), `revision ${revision} < ${totalAcks + 1} after ${totalAcks} acks`);
    console.log(`crash round ${round} (${target}): ${out.acks.length} acked, ${kvs.size - out.acks.length} of ` +
      `${out.attempted.size - out.acks.length} unacked present, revision ${revision}`);
  }
}

async function sigtermTest(scope: ServerScope, target: Target): Promise<void> {
  const server = await start(scope, target);
  let stopping = false;
  let stopped: ReturnType<ServerHandle['stop']> | undefined;
  const out = await runWriters({
    url: server.clientUrl, keyPrefix: 'term/', connections, maxWrites: maxWritesPerRound,
    shouldStop: () => stopping,
    onAck: (n) => {
      if (n === acksBeforeKill / 2 && !stopping) {
        stopping = true;
        stopped = server.stop(); // SIGTERM now, with puts in flight
      }
    },
  });
  const exit = await stopped!;
  // A put that could not even connect (the listener was already closed) was never in flight;
  // one sent on an open connection and then cut off (ECONNRESET, "other side closed") was.
  const dropped = out.failed.filter((f) => f.code !== 'ECONNREFUSED');
  // etcd 3.4 itself cuts some gateway connections at SIGTERM (seen in 2 of 5 runs: ECONNRESET,
  // "other side closed"); cairn promises more, so only cairn is held to it.
  if (target === 'cairn') assert.deepEqual(dropped, [], `puts in flight at SIGTERM got no answer\n${server.logs()}`);
  // etcd finishes its graceful shutdown, then re-raises SIGTERM on itself; cairn exits 0.
  const clean = exit.code === 0 || (target === 'etcd' && exit.signal === 'SIGTERM');
  assert.ok(clean, `exit after SIGTERM: ${JSON.stringify(exit)}\n${server.logs()}`);
  const again = scope.adopt(await server.restart());
  const { kvs } = await readBack(again.clientUrl, 'term/');
  checkDurable(out, kvs, () => again.logs());
  console.log(`sigterm (${target}): ${out.acks.length} acked, ${out.refused.length} refused, ` +
    `${out.failed.length - dropped.length} could not connect, ${dropped.length} cut off, exit ${JSON.stringify(exit)}`);
}

for (const target of targets as Target[]) {
  describe(`process durability: ${target}`, { skip: skipReason(target), timeout: testTimeoutMs }, () => {
    it(`keeps every acknowledged put across SIGKILL with ${connections} writers in flight (${rounds} rounds)`, async () => {
      await withServers((scope) => crashTest(scope, target));
    });

    it('answers in-flight puts on SIGTERM, exits cleanly, and restarts with them', async () => {
      await withServers((scope) => sigtermTest(scope, target));
    });
  });
}
