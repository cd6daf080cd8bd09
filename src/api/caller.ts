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

type WithCaller = FastifyRequest & { [CALLER]?: RequestCaller };

function tokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  return typeof header === 'string' ? header : undefined;
}

/** Resolves the caller once per request (app.ts runs it before every handler); rejects InvalidAuthToken. */
export async function resolveCaller(server: CairnServer, req: FastifyRequest): Promise<RequestCaller> {
  const r = req as WithCaller;
  if (r[CALLER] === undefined) r[CALLER] = await server.auth.resolveCaller(tokenOf(req), verifiedCommonName(req));
  return r[CALLER];
}

/** The request's caller as resolved before the handler (throws InvalidAuthToken). */
export function callerOf(server: CairnServer, req: FastifyRequest): RequestCaller {
  const r = req as WithCaller;
  if (r[CALLER] === undefined) r[CALLER] = server.auth.callerOf(tokenOf(req), verifiedCommonName(req));
  return r[CALLER];
}
