import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, newMessage, MessageType, type Message } from '../../src/raft/index.js';
import { decodeBatch, encodeBatch, idText, parseIdText, WireError } from '../../src/transport/wire.js';
import { BoundedFrameQueue } from '../../src/transport/bounded-queue.js';
import { RateLimitedLog } from '../../src/transport/logger.js';
import { resolveLimits, DEFAULT_LIMITS } from '../../src/transport/limits.js';
import { membersFromJson, membersToJson } from '../../src/transport/members.js';
import { normalisePeerUrl } from '../../src/transport/transport.js';
import { appMessage } from './peers.js';

const A = 0xaaaa_0000_0000_0001n;
const B = 0xffff_ffff_ffff_fff1n; // above 2^63: IDs are uint64

function batchOf(messages: Message[]): Buffer {
  const frames = messages.map(encodeMessage);
  return encodeBatch(frames, frames.reduce((n, f) => n + f.length, 0));
}

test('a batch round-trips every message in order, uint64 IDs intact', () => {
  const sent = [appMessage(A, B, 1), appMessage(A, B, 2, 1000), { ...newMessage(MessageType.Heartbeat, B, A, 7), commit: 3 }];
  const got = decodeBatch(batchOf(sent), A, B);
  assert.equal(got.length, 3);
  assert.deepEqual(got.map((m) => m.index), [1, 2, 0]);
  assert.equal(got[0].from, A);
  assert.equal(got[0].to, B);
  assert.deepEqual(Buffer.from(got[1].entries[0].data), Buffer.from(sent[1].entries[0].data));
  assert.equal(got[2].type, MessageType.Heartbeat);
  assert.deepEqual(decodeBatch(batchOf([]), A, B), []);
});

test('a damaged batch is refused whole, naming the problem', () => {
  const good = batchOf([appMessage(A, B, 1), appMessage(A, B, 2)]);
  const cases: [string, Buffer, RegExp][] = [
    ['empty body', Buffer.alloc(0), /version/],
    ['unknown version', Buffer.from([9]), /version/],
    ['truncated length', good.subarray(0, good.length - (good.length - 3)), /truncated length/],
    ['truncated frame', good.subarray(0, good.length - 1), /past the end/],
    ['trailing byte inside a frame', Buffer.concat([good, Buffer.from([0, 0, 0, 1, 0xff])]), /frame 2/],
  ];
  for (const [name, body, why] of cases) {
    assert.throws(() => decodeBatch(body, A, B), (e: unknown) => e instanceof WireError && why.test(e.message), name);
  }
});

test('a batch whose messages claim another sender or receiver, a local type, or MsgSnap is refused', () => {
  assert.throws(() => decodeBatch(batchOf([appMessage(B, B, 1)]), A, B), /from/);
  assert.throws(() => decodeBatch(batchOf([appMessage(A, A, 1)]), A, B), /to/);
  assert.throws(() => decodeBatch(batchOf([newMessage(MessageType.Hup, B, A, 1)]), A, B), /local message type/);
  assert.throws(() => decodeBatch(batchOf([newMessage(MessageType.Snap, B, A, 1)]), A, B), /MsgSnap/);
});

test('IDs are written as etcd prints them and parsed strictly', () => {
  assert.equal(idText(0x8e9e05c52164694dn), '8e9e05c52164694d');
  assert.equal(parseIdText('8e9e05c52164694d'), 0x8e9e05c52164694dn);
  assert.equal(parseIdText('ffffffffffffffff'), 2n ** 64n - 1n);
  for (const bad of ['', '1'.repeat(17), 'xyz', '-1', undefined, ['1']]) assert.equal(parseIdText(bad as string), null);
});

test('the queue drops the oldest frames when the count limit is reached', () => {
  const q = new BoundedFrameQueue(3, 1 << 20);
  for (let i = 0; i < 5; i++) q.push(new Uint8Array([i]));
  assert.equal(q.length, 3);
  assert.equal(q.dropped, 2);
  assert.deepEqual([q.shift(), q.shift(), q.shift()].map((f) => f?.[0]), [2, 3, 4]);
  assert.equal(q.shift(), undefined);
});

test('the queue drops the oldest frames when the byte limit is reached, and refuses a frame over it', () => {
  const q = new BoundedFrameQueue(100, 10);
  q.push(new Uint8Array(4));
  q.push(new Uint8Array(4));
  q.push(new Uint8Array(4)); // 12 > 10: the first goes
  assert.equal(q.length, 2);
  assert.equal(q.byteLength, 8);
  assert.equal(q.push(new Uint8Array(11)), 1);
  assert.equal(q.length, 2);
  assert.equal(q.dropped, 2);
});

test('the queue keeps order while its ring grows and wraps', () => {
  const q = new BoundedFrameQueue(1000, 1 << 20);
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 37; i++) q.push(Uint8Array.of(next++ & 0xff));
    for (let i = 0; i < 30; i++) assert.equal(q.shift()?.[0], expect++ & 0xff);
  }
  assert.equal(q.length, next - expect);
  assert.equal(q.dropped, 0);
});

test('the rate-limited log lets one line per interval through and counts the rest', () => {
  let now = 0;
  const log = new RateLimitedLog(1000, () => now);
  const emitted: number[] = [];
  for (let i = 0; i < 5; i++) log.maybe('k', (s) => emitted.push(s));
  now = 1500;
  log.maybe('k', (s) => emitted.push(s));
  log.maybe('other', (s) => emitted.push(s));
  assert.deepEqual(emitted, [0, 4, 0]);
});

test('limits: defaults are valid, bad overrides are refused by name', () => {
  assert.deepEqual(resolveLimits(), DEFAULT_LIMITS);
  assert.throws(() => resolveLimits({ maxInflightRequestsPerPeer: 0 }), /maxInflightRequestsPerPeer/);
  assert.throws(() => resolveLimits({ requestTimeoutMs: 1.5 }), /requestTimeoutMs/);
  assert.throws(() => resolveLimits({ backoffInitialMs: 10, backoffMaxMs: 5 }), /backoffMaxMs/);
  assert.throws(() => resolveLimits({ maxQueuedBytesPerPeer: 10 }), /maxQueuedBytesPerPeer/);
});

test('the member list round-trips through JSON with uint64 IDs as hex, and bad lists are refused', () => {
  const members = [{ id: B, name: 'm1', peerUrls: ['http://10.0.0.1:2380'], clientUrls: ['http://10.0.0.1:2379'], isLearner: false }];
  const json = JSON.parse(JSON.stringify(membersToJson(members)));
  assert.equal(json[0].id, 'fffffffffffffff1');
  assert.deepEqual(json[0].peerURLs, ['http://10.0.0.1:2380']);
  assert.deepEqual(membersFromJson(json), members);
  assert.throws(() => membersFromJson({}), /not an array/);
  assert.throws(() => membersFromJson([{ id: 'zz', name: 'x', peerURLs: [], clientURLs: [] }]), /member 0: bad id/);
  assert.throws(() => membersFromJson([{ id: '1', name: 'x', peerURLs: [3], clientURLs: [] }]), /member 0: bad name or URLs/);
});

test('peer URLs are normalised to scheme://host:port and anything else is refused', () => {
  assert.equal(normalisePeerUrl('http://127.0.0.1:2380/'), 'http://127.0.0.1:2380');
  assert.equal(normalisePeerUrl('https://[::1]:2380'), 'https://[::1]:2380');
  assert.throws(() => normalisePeerUrl('unix://x'), /scheme/);
  assert.throws(() => normalisePeerUrl('http://h:1/raft'), /no path/);
  assert.throws(() => normalisePeerUrl('http://u:p@h:1'), /credentials/);
});
