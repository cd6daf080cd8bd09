/**
 * The client-certificate hook: on a TLS connection whose client certificate the listener
 * verified, the certificate's common name is the caller (etcd's --client-cert-auth); a token
 * still wins; plain HTTP and unverified certificates name nobody.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { verifiedCommonName } from '../../src/api/caller.js';

function requestOn(socket: object): FastifyRequest {
  return { raw: { socket } } as unknown as FastifyRequest;
}

const tlsSocket = (authorized: boolean, cn: unknown) => ({ authorized, getPeerCertificate: () => ({ subject: { CN: cn } }) });

describe('verifiedCommonName', () => {
  it('is the CN of a verified client certificate', () => {
    assert.equal(verifiedCommonName(requestOn(tlsSocket(true, 'alice'))), 'alice');
    assert.equal(verifiedCommonName(requestOn(tlsSocket(true, ['bob', 'x']))), 'bob', 'several CNs: the first');
  });

  it('is null on plain HTTP, for an unverified certificate, and without a CN', () => {
    assert.equal(verifiedCommonName(requestOn({})), null);
    assert.equal(verifiedCommonName(requestOn(tlsSocket(false, 'mallory'))), null);
    assert.equal(verifiedCommonName(requestOn(tlsSocket(true, undefined))), null);
    assert.equal(verifiedCommonName(requestOn(tlsSocket(true, ''))), null);
  });
});
