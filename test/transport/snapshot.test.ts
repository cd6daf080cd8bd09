import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { encodeMessage } from '../../src/raft/index.js';
import { frameHeader, PEER_PROTOCOL_VERSION } from '../../src/transport/wire.js';
import { closeAll, connectAll, snapMessage, startMember, waitFor } from './peers.js';

const A = 0xa1n;
const B = 0xb2n;
const C = 0xc3n;
const CHUNK_BYTES = 256 * 1024;

/** Yields `data` in pieces of `pieceBytes` (deliberately not a multiple of the chunk size). */
async function* pieces(data: Buffer, pieceBytes: number): AsyncGenerator<Uint8Array> {
  for (let pos = 0; pos < data.length; pos += pieceBytes) yield new Uint8Array(data.subarray(pos, pos + pieceBytes));
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('a multi-MiB snapshot streams in bounded chunks and arrives byte for byte', async () => {
  const data = randomBytes(8 * 1024 * 1024 + 12_345);
  const a = await startMember(A, { limits: { snapshotChunkBytes: CHUNK_BYTES }, transport: { openSnapshotData: () => pieces(data, 333_333) } });
  const b = await startMember(B, { limits: { snapshotChunkBytes: CHUNK_BYTES } });
  try {
    connectAll([a, b]);
    a.transport.send([snapMessage(A, B, 77)]);
    await waitFor(() => a.events.snapshotStatus.length === 1, 'snapshot status', 10_000);
    assert.deepEqual(a.events.snapshotStatus, [{ id: B, ok: true }]);
    assert.equal(b.snapshots.length, 1);
    const got = b.snapshots[0];
    assert.equal(got.bytes, data.length);
    assert.equal(got.sha256, sha256(data));
    assert.ok(got.maxChunkBytes <= CHUNK_BYTES, `largest chunk ${got.maxChunkBytes}`);
    assert.equal(got.message.snapshot?.metadata.index, 77);
    assert.deepEqual(got.message.snapshot?.metadata.confState.voters, [A, B]);
    assert.deepEqual([...(got.message.snapshot?.data ?? [])], [1, 2, 3]);
    assert.equal(a.transport.stats().snapshotsSent, 1);
  } finally {
    await closeAll([a, b]);
  }
});

test('sendSnapshot takes a Readable (a file stream) and closes it when done', async () => {
  const data = randomBytes(3 * 1024 * 1024);
  const [a, b] = [await startMember(A), await startMember(B)];
  try {
    connectAll([a, b]);
    const source = Readable.from([data.subarray(0, 1000), data.subarray(1000)], { objectMode: false });
    a.transport.sendSnapshot(B, snapMessage(A, B, 5), () => source);
    await waitFor(() => a.events.snapshotStatus.length === 1, 'snapshot status', 10_000);
    assert.deepEqual(a.events.snapshotStatus, [{ id: B, ok: true }]);
    assert.equal(b.snapshots[0].sha256, sha256(data));
    assert.equal(source.destroyed, true);
  } finally {
    await closeAll([a, b]);
  }
});

function snapshotBody(data: Buffer, digest: Buffer, chunks = 1): Buffer {
  const frame = encodeMessage(snapMessage(A, B, 9));
  const parts = [Buffer.from([PEER_PROTOCOL_VERSION]), frameHeader(frame.length), frame];
  for (let i = 0; i < chunks; i++) parts.push(frameHeader(data.length), data);
  return Buffer.concat([...parts, frameHeader(0), digest]);
}

const headers = {
  'x-cairn-cluster-id': 'c1a5', 'x-cairn-from': 'a1', 'x-cairn-to': 'b2', 'x-cairn-peer-protocol': String(PEER_PROTOCOL_VERSION),
};

test('a damaged, cut or oversized snapshot stream is refused with 400 and never ends cleanly for the host', async () => {
  const b = await startMember(B, { limits: { snapshotChunkBytes: 4096, maxSnapshotBytes: 10_000 } });
  const outcomes: string[] = [];
  b.handler.snapshotHook = async (_m, data) => {
    try {
      for await (const _ of data) { /* store */ }
      outcomes.push('end');
    } catch (e) {
      outcomes.push((e as Error).message);
      throw e;
    }
  };
  try {
    const data = randomBytes(3000);
    const good = snapshotBody(data, createHash('sha256').update(data).digest());
    const cases: [string, Buffer, RegExp][] = [
      ['bad checksum', snapshotBody(data, Buffer.alloc(32)), /checksum mismatch/],
      ['cut short', good.subarray(0, good.length - 40), /cut short/],
      ['trailing bytes', Buffer.concat([good, Buffer.from([1])]), /bytes after the snapshot checksum/],
      ['chunk over the limit', snapshotBody(randomBytes(5000), Buffer.alloc(32)), /larger than snapshotChunkBytes/],
      ['total over maxSnapshotBytes', snapshotBody(randomBytes(4000), Buffer.alloc(32), 3), /larger than maxSnapshotBytes/],
    ];
    for (const [name, body, why] of cases) {
      const res = await request(b.url + '/raft/snapshot', { method: 'POST', headers, body });
      const text = await res.body.text();
      assert.equal(res.statusCode, 400, `${name}: ${text}`);
      assert.match(text, why, name);
    }
    assert.equal(outcomes.filter((o) => o === 'end').length, 0, 'no damaged stream ended cleanly');
    const res = await request(b.url + '/raft/snapshot', { method: 'POST', headers, body: good });
    await res.body.dump();
    assert.equal(res.statusCode, 204);
    assert.deepEqual(outcomes.at(-1), 'end');
  } finally {
    await closeAll([b]);
  }
});

test('a host that fails to store the snapshot makes the send fail', async () => {
  const [a, b] = [await startMember(A), await startMember(B)];
  b.handler.snapshotHook = async () => { throw new Error('disk full'); };
  try {
    connectAll([a, b]);
    a.transport.sendSnapshot(B, snapMessage(A, B, 5), () => pieces(randomBytes(100_000), 10_000));
    await waitFor(() => a.events.snapshotStatus.length === 1, 'snapshot status');
    assert.deepEqual(a.events.snapshotStatus, [{ id: B, ok: false }]);
  } finally {
    await closeAll([a, b]);
  }
});

test('an upload the receiver stops reading is aborted after the idle timeout; the source is closed', async () => {
  const a = await startMember(A, { limits: { snapshotIdleTimeoutMs: 300 } });
  // A receiver that stops reading cannot see the sender's close (its socket is paused): the
  // server's idle timeout is what frees it.
  const b = await startMember(B, { limits: { serverIdleTimeoutMs: 600 } });
  let hostSaw = '';
  b.handler.snapshotHook = (_m, data) => new Promise<void>((_resolve, reject) => {
    data.once('error', (e) => { hostSaw = e.message; reject(e); }); // never reads
  });
  let produced = 0;
  const source = Readable.from((function* () {
    for (let i = 0; i < 256; i++) { produced++; yield Buffer.alloc(256 * 1024, i); }
  })(), { objectMode: false });
  try {
    connectAll([a, b]);
    a.transport.sendSnapshot(B, snapMessage(A, B, 5), () => source);
    await waitFor(() => a.events.snapshotStatus.length === 1, 'snapshot status', 5_000);
    assert.deepEqual(a.events.snapshotStatus, [{ id: B, ok: false }]);
    assert.ok(produced < 256, `stopped producing after ${produced} of 256 chunks`);
    assert.equal(source.destroyed, true);
    await waitFor(() => hostSaw !== '', 'the host hears the stream ended');
    assert.match(hostSaw, /closed the snapshot stream/);
  } finally {
    await closeAll([a, b]);
  }
});

test('snapshots past maxConcurrentIncomingSnapshots are answered 503; a second MsgSnap to a busy peer is dropped', async () => {
  const b = await startMember(B, { limits: { maxConcurrentIncomingSnapshots: 1 } });
  const [a, c] = [await startMember(A), await startMember(C)];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => { release = r; });
  b.handler.snapshotHook = async (_m, data) => {
    for await (const _ of data) { /* store */ }
    await released;
  };
  try {
    connectAll([a, b, c]);
    a.transport.sendSnapshot(B, snapMessage(A, B, 5), () => pieces(randomBytes(1000), 100));
    a.transport.sendSnapshot(B, snapMessage(A, B, 6), () => pieces(randomBytes(1000), 100)); // dropped
    await waitFor(() => b.server.stats().receivedSnapshots === 0 && a.transport.stats().peers.size === 2, 'setup');
    await new Promise((r) => setTimeout(r, 100));
    c.transport.sendSnapshot(B, snapMessage(C, B, 7), () => pieces(randomBytes(1000), 100));
    await waitFor(() => c.events.snapshotStatus.length === 1, 'refused while busy');
    assert.deepEqual(c.events.snapshotStatus, [{ id: B, ok: false }]);
    release();
    await waitFor(() => a.events.snapshotStatus.length === 1, 'first snapshot');
    assert.deepEqual(a.events.snapshotStatus, [{ id: B, ok: true }]);
    assert.equal(b.server.stats().receivedSnapshots, 1);
  } finally {
    release();
    await closeAll([a, b, c]);
  }
});
