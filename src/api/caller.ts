/**
 * Who is calling: the raw token of the `Authorization` header (etcd's gateway sends it bare, no
 * "Bearer"), or, on a TLS connection whose client certificate the listener verified (etcd's
 * --client-cert-auth), the certificate's common name. Resolved by the member's AuthService; an
 * unknown, expired or forged token is refused with etcd's `invalid auth token`.
 */
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import type { CairnServer } from '../server/cairn-server.js';
import type { RequestCaller } from '../server/requests.js';

/** The CN of a client certificate the TLS layer verified, or null (plain HTTP, no cert). */
export function verifiedCommonName(req: FastifyRequest): string | null {
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return null;
  const cn = socket.getPeerCertificate().subject?.CN;
  if (Array.isArray(cn)) return cn[0] ?? null;
  return typeof cn === 'string' && cn !== '' ? cn : null;
}

const CALLER = Symbol('cairn.caller');

/** The request's caller, resolved once per request (throws InvalidAuthToken). */
export function callerOf(server: CairnServer, req: FastifyRequest): RequestCaller {
  const r = req as FastifyRequest & { [CALLER]?: RequestCaller };
  if (r[CALLER] === undefined) {
    const header = req.headers.authorization;
    r[CALLER] = server.auth.callerOf(typeof header === 'string' ? header : undefined, verifiedCommonName(req));
  }
  return r[CALLER];
}
