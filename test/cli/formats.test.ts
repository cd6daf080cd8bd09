/**
 * The Go formatting etcdctl's output depends on, re-done in TypeScript: each case is what Go
 * prints for the same value (fmt %q, encoding/json, time.Duration, go-humanize, tablewriter).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { argify } from '../../src/cli/argify.js';
import { parseGoDurationMs, parseGoInt } from '../../src/cli/go-parse.js';
import { goDuration, goJson, goQuote, hex016, hex16Spaces, hexEscaped, humanizeBytes } from '../../src/cli/printers/go-format.js';
import { renderTable } from '../../src/cli/printers/table-layout.js';
import { Crc32c } from '../../src/cli/snapshot/crc32c.js';

describe('Go formatting', () => {
  test('%q of bytes: escapes, UTF-8 kept, invalid bytes as \\x', () => {
    assert.equal(goQuote(Buffer.from('v\x01\n"é\\')), '"v\\x01\\n\\"é\\\\"');
    assert.equal(goQuote(Buffer.from([0xff, 0x61])), '"\\xffa"');
    assert.equal(goQuote(Buffer.from('\u200b')), '"\\u200b"');
  });

  test('encoding/json: 64-bit numbers exact, HTML characters escaped, struct order kept', () => {
    assert.equal(goJson({ id: 12951443523626285679n, s: '<a&b>', list: [1n, true, null] }), '{"id":12951443523626285679,"s":"\\u003ca\\u0026b\\u003e","list":[1,true,null]}');
  });

  test('time.Duration String', () => {
    assert.equal(goDuration(1_336_245n), '1.336245ms');
    assert.equal(goDuration(500n), '500ns');
    assert.equal(goDuration(1_000n), '1µs');
    assert.equal(goDuration(1_500_000_000n), '1.5s');
    assert.equal(goDuration(90_000_000_000n), '1m30s');
    assert.equal(goDuration(3_600_000_000_000n), '1h0m0s');
  });

  test('go-humanize Bytes: SI units, one decimal below 10, exact halves to even', () => {
    assert.equal(humanizeBytes(9), '9 B');
    assert.equal(humanizeBytes(1500), '1.5 kB');
    assert.equal(humanizeBytes(20480), '20 kB');
    assert.equal(humanizeBytes(24576), '25 kB');
    assert.equal(humanizeBytes(22020096), '22 MB');
  });

  test('IDs: %016x for leases, %16x for members, --hex bytes', () => {
    assert.equal(hex016(0x1234n), '0000000000001234');
    assert.equal(hex16Spaces(0xabcn), '             abc');
    assert.equal(hex016(-1n), 'ffffffffffffffff');
    assert.equal(hexEscaped(Buffer.from('hk')), '\\x68\\x6b');
  });

  test('tables: right-aligned cells, centred upper-case headers (tablewriter)', () => {
    assert.equal(renderTable(['ID', 'Status', 'Name'], [['b3bcc543da473a6f', 'started', 'e1']]),
      '+------------------+---------+------+\n'
      + '|        ID        | STATUS  | NAME |\n'
      + '+------------------+---------+------+\n'
      + '| b3bcc543da473a6f | started |   e1 |\n'
      + '+------------------+---------+------+\n');
  });

  test('CRC-32C check value', () => {
    const c = new Crc32c();
    c.update(Buffer.from('123456789'));
    assert.equal(c.sum(), 0xe3069283);
  });
});

describe('parsing as etcdctl', () => {
  test('argify: quoted words with Go escapes, single quotes verbatim', () => {
    assert.deepEqual(argify('put k "a \\"b\\"\\n" \'c d\' plain'), ['put', 'k', 'a "b"\n', 'c d', 'plain']);
  });

  test('durations and integers with Go\'s error texts', () => {
    assert.equal(parseGoDurationMs('1m30s'), 90_000);
    assert.equal(parseGoDurationMs('500ms'), 500);
    assert.equal(parseGoDurationMs('1.5s'), 1_500);
    assert.throws(() => parseGoDurationMs('5'), /time: missing unit in duration "5"/);
    assert.equal(parseGoInt('7fffffffffffffff', 16), 0x7fffffffffffffffn);
    assert.throws(() => parseGoInt('zz', 16), /strconv.ParseInt: parsing "zz": invalid syntax/);
    assert.throws(() => parseGoInt('8000000000000000', 16), /value out of range/);
  });
});
