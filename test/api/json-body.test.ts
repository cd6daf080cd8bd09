import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayJson } from '../../src/api/gateway/json-body.js';
import { CairnError } from '../../src/errors/errors.js';

const badRequest = (message: string) => (e: unknown) => e instanceof CairnError && e.kind === 'BadRequest' && e.message === message;

test('an empty body or null is {}', () => {
  assert.deepEqual(parseGatewayJson(''), {});
  assert.deepEqual(parseGatewayJson('  \n'), {});
  assert.deepEqual(parseGatewayJson('null'), {});
});

test('text after the first JSON value is ignored, as etcd does', () => {
  assert.deepEqual(parseGatewayJson('{"key":"Zm9v"} trailing'), { key: 'Zm9v' });
  assert.deepEqual(parseGatewayJson('{"key":"YQ=="}{"key":"Yg=="}'), { key: 'YQ==' });
});

test('camelCase names become snake_case, nested too; snake_case wins a clash; TTL and ID stay', () => {
  assert.deepEqual(parseGatewayJson('{"rangeEnd":"YQ==","prevKv":true}'), { range_end: 'YQ==', prev_kv: true });
  assert.deepEqual(
    parseGatewayJson('{"success":[{"requestPut":{"key":"YQ==","ignoreLease":true}}]}'),
    { success: [{ request_put: { key: 'YQ==', ignore_lease: true } }] },
  );
  assert.deepEqual(parseGatewayJson('{"range_end":"YQ==","rangeEnd":"Yg=="}'), { range_end: 'YQ==' });
  assert.deepEqual(parseGatewayJson('{"TTL":5,"ID":7}'), { TTL: 5, ID: 7 });
});

test('syntax errors read like Go encoding/json', () => {
  assert.throws(() => parseGatewayJson('{"key":'), badRequest('unexpected EOF'));
  assert.throws(() => parseGatewayJson('["x"]'), badRequest('json: cannot unmarshal array into Go value of type map[string]json.RawMessage'));
  assert.throws(() => parseGatewayJson('5'), badRequest('json: cannot unmarshal number into Go value of type map[string]json.RawMessage'));
  assert.throws(() => parseGatewayJson('{"key" "x"}'), (e: unknown) => e instanceof CairnError && e.kind === 'BadRequest');
});
