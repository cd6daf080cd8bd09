/**
 * The binary codec: every message shape round-trips exactly; damaged bytes are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeEntry, decodeHardState, decodeMessage, decodeSnapshot, encodeEntry, encodeHardState,
  encodeMessage, encodeSnapshot, isRaftError, seededRandom, MESSAGE_TYPE_NAMES,
  type Entry, type Message, type MessageType, type Snapshot,
} from '../../src/raft/index.js';

const rand = seededRandom(7);
const int = (max: number): number => Math.floor(rand() * max);
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
const bigNumber = (): number => [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER][int(9)];
const id = (): bigint => [1n, 2n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0001n][int(4)];

function randomEntry(): Entry {
  return { term: bigNumber(), index: bigNumber(), type: rand() < 0.8 ? 'normal' : 'confChange', data: bytes(int(40)) };
}

function randomSnapshot(): Snapshot {
  return {
    metadata: { index: bigNumber(), term: bigNumber(), confState: { voters: [id(), id()], learners: rand() < 0.5 ? [] : [id()] } },
    data: bytes(int(100)),
  };
}

function randomMessage(type: number): Message {
  return {
    type: type as MessageType, to: id(), from: id(), term: bigNumber(), logTerm: bigNumber(), index: bigNumber(),
    entries: Array.from({ length: int(5) }, randomEntry), commit: bigNumber(),
    snapshot: rand() < 0.3 ? randomSnapshot() : null, reject: rand() < 0.5, rejectHint: bigNumber(),
    context: bytes(int(12)),
  };
}

test('every message type round-trips, including 2^53 - 1 numbers and uint64 ids', () => {
  for (let type = 0; type < MESSAGE_TYPE_NAMES.length; type++) {
    for (let i = 0; i < 20; i++) {
      const m = randomMessage(type);
      assert.deepEqual(decodeMessage(encodeMessage(m)), m);
      assert.deepEqual(decodeMessage(encodeMessage(m), false), m);
    }
  }
});

test('decoded bytes are copies by default and views on request', () => {
  const m = randomMessage(3);
  m.entries = [{ term: 1, index: 1, type: 'normal', data: new Uint8Array([1, 2, 3]) }];
  const wire = encodeMessage(m);
  const copied = decodeMessage(wire);
  const viewed = decodeMessage(wire, false);
  wire.fill(0);
  assert.deepEqual(Array.from(copied.entries[0].data), [1, 2, 3]);
  assert.deepEqual(Array.from(viewed.entries[0].data), [0, 0, 0]);
});

test('every truncation of a message is refused as CorruptData', () => {
  const wire = encodeMessage({ ...randomMessage(3), snapshot: randomSnapshot() });
  for (let n = 0; n < wire.length; n++) {
    assert.throws(() => decodeMessage(wire.subarray(0, n)), (e) => isRaftError(e, 'CorruptData'), `length ${n}`);
  }
});

test('wrong version, unknown type, bad flags, trailing bytes and oversized numbers are refused', () => {
  const wire = encodeMessage(randomMessage(8));
  const mutate = (f: (b: Uint8Array) => Uint8Array): void => {
    assert.throws(() => decodeMessage(f(wire.slice())), (e) => isRaftError(e, 'CorruptData'));
  };
  mutate((b) => { b[0] = 9; return b; });
  mutate((b) => { b[1] = 200; return b; });
  mutate((b) => Uint8Array.from([...b, 0]));
  // term = 2^56 - 1 as an 8-byte varint: beyond 2^53
  const huge = Uint8Array.from([1, 8, ...new Uint8Array(16).fill(1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
  assert.throws(() => decodeMessage(huge), (e) => isRaftError(e, 'CorruptData') && /2\^53/.test((e as Error).message));
});

test('entries, hard states and snapshots round-trip on their own', () => {
  for (let i = 0; i < 50; i++) {
    const e = randomEntry();
    assert.deepEqual(decodeEntry(encodeEntry(e)), e);
    const hs = { term: bigNumber(), vote: id(), commit: bigNumber() };
    assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
    const s = randomSnapshot();
    assert.deepEqual(decodeSnapshot(encodeSnapshot(s)), s);
  }
  assert.throws(() => decodeHardState(new Uint8Array([1, 1])), (e) => isRaftError(e, 'CorruptData'));
});

test('a small append costs a few bytes of framing per entry', () => {
  const m = randomMessage(3);
  m.term = 5; m.logTerm = 5; m.index = 1000; m.commit = 990; m.rejectHint = 0; m.context = new Uint8Array(0);
  m.snapshot = null;
  m.entries = Array.from({ length: 100 }, (_, i) => ({ term: 5, index: 1001 + i, type: 'normal' as const, data: new Uint8Array(16) }));
  const framing = encodeMessage(m).length - 100 * 16;
  assert.ok(framing <= 100 * 5 + 40, `${framing} bytes of framing for 100 entries`);
});
