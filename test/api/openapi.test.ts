import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import createClient from 'openapi-fetch';
import { generateClientTypes, generateOpenApiText, openapiDir } from '../../src/bin/cairn-openapi.js';
import type { paths } from '../../openapi/client.js';
import { startFixture } from './app-fixture.js';

test('the committed openapi/openapi.json and client types are what the routes generate (run `npm run openapi`)', async () => {
  const fresh = await generateOpenApiText();
  const committed = readFileSync(join(openapiDir(), 'openapi.json'), 'utf8');
  assert.equal(committed, fresh, 'openapi/openapi.json is stale: run `npm run openapi`');
  const types = readFileSync(join(openapiDir(), 'client.d.ts'), 'utf8');
  assert.equal(types, await generateClientTypes(fresh), 'openapi/client.d.ts is stale: run `npm run openapi`');
});

test('the document is valid OpenAPI 3.1 and describes both doors', async () => {
  const doc = JSON.parse(readFileSync(join(openapiDir(), 'openapi.json'), 'utf8'));
  const v = new Validator();
  const res = await v.validate(doc);
  assert.equal(res.valid, true, JSON.stringify(res.errors, null, 2));
  for (const p of ['/v3/kv/put', '/v3/kv/range', '/v3/kv/txn', '/v3/kv/deleterange', '/v3/kv/compaction', '/kv/{*}', '/health']) {
    assert.ok(Object.keys(doc.paths).some((k) => k === p || k.startsWith(p.replace('{*}', ''))), `missing ${p}`);
  }
});

test('a client generated from the document puts and reads a key against a live member', async () => {
  const fx = await startFixture();
  try {
    const address = await fx.app.listen({ host: '127.0.0.1', port: 0 });
    const client = createClient<paths>({ baseUrl: address });
    const put = await client.POST('/v3/kv/put', { body: { key: Buffer.from('typed').toString('base64'), value: Buffer.from('client').toString('base64') } });
    assert.equal(put.response.status, 200);
    assert.match(String(put.data?.header?.revision), /^[0-9]+$/);
    const got = await client.POST('/v3/kv/range', { body: { key: Buffer.from('typed').toString('base64') } });
    assert.equal(Buffer.from(String(got.data?.kvs?.[0]?.value), 'base64').toString(), 'client');
  } finally {
    await fx.close();
  }
});
