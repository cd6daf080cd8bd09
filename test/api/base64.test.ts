import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64, firstIllegalBase64Byte, Base64Error } from '../../src/api/gateway/base64.js';

test('valid standard base64 decodes, including padding and newlines', () => {
  assert.equal(firstIllegalBase64Byte('Zm9v'), -1);
  assert.equal(firstIllegalBase64Byte('Zm9vYg=='), -1);
  assert.equal(firstIllegalBase64Byte('Zm9vYmE='), -1);
  assert.equal(firstIllegalBase64Byte('Zm9v\nYmFy'), -1);
  assert.deepEqual(Buffer.from(decodeBase64('Zm9vYmFy')).toString(), 'foobar');
  assert.equal(decodeBase64('').length, 0);
});

test('errors report the byte offset Go reports (as etcd 3.4 answers)', () => {
  // Observed on etcd 3.4.23: "Zm9" → byte 0, "Zm9v!" → byte 4.
  assert.equal(firstIllegalBase64Byte('Zm9'), 0);
  assert.equal(firstIllegalBase64Byte('Zm9v!'), 4);
  assert.equal(firstIllegalBase64Byte('Zm9vY'), 4);
  assert.equal(firstIllegalBase64Byte('Zm-v'), 2, 'URL-safe alphabet is refused');
  assert.equal(firstIllegalBase64Byte('Zg='), 3, 'missing second pad');
  assert.equal(firstIllegalBase64Byte('Z==='), 1, 'pad too early');
  assert.equal(firstIllegalBase64Byte('Zg==Zg=='), 4, 'data after padding');
  assert.throws(() => decodeBase64('Zm9'), (e: unknown) => e instanceof Base64Error && e.message === 'illegal base64 data at input byte 0');
});
