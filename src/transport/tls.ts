/**
 * Peer TLS (etcd's --peer-cert-file, --peer-key-file, --peer-trusted-ca-file,
 * --peer-client-cert-auth, --peer-cert-allowed-cn, --peer-cert-allowed-hostname): the options
 * object the host fills from files it has read, and its translation for node:https (server)
 * and undici (client).
 *
 * Owns: how a peer certificate is checked. Must never: read files (the host reads them, so a
 * missing file is reported at start with its path), or turn verification off — except for a
 * self-signed auto-TLS certificate (`selfSigned`), where, as in etcd's --peer-auto-tls, each
 * member has its own certificate that no other can verify: encryption without authentication.
 *
 * One certificate serves both sides, as in etcd: the member presents it as a server on its
 * peer listener and as a client when it connects to other members.
 */
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { ServerOptions as HttpsServerOptions } from 'node:https';

export interface PeerTlsOptions {
  /** PEM certificate chain presented to peers (server and client side). */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** PEM CA(s) that peer certificates must chain to; null = the system's roots. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | null;
  /** Require every connecting peer to present a certificate signed by `ca`. */
  readonly clientCertAuth?: boolean;
  /** Accepted common names of connecting peers' certificates; empty = any. */
  readonly allowedCn?: readonly string[];
  /** Accepted host names (checked against the certificate's SANs); empty = any. */
  readonly allowedHostname?: readonly string[];
  /** OpenSSL cipher list, e.g. from config's parseCipherSuites. */
  readonly ciphers?: string | null;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3' | null;
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3' | null;
  /** PEM certificate revocation list(s). */
  readonly crl?: string | Buffer | null;
  /** The certificate is self-signed (auto-TLS): dialing peers does not verify theirs. */
  readonly selfSigned?: boolean;
}

function caList(ca: PeerTlsOptions['ca']): (string | Buffer)[] | undefined {
  if (ca === undefined || ca === null) return undefined;
  return Array.isArray(ca) ? [...(ca as (string | Buffer)[])] : [ca as string | Buffer];
}

/**
 * Options for https.createServer. As etcd's TLSInfo.ServerConfig, a trusted CA file alone
 * also requires client certificates signed by it (not only --client-cert-auth).
 */
export function serverTlsOptions(tls: PeerTlsOptions): HttpsServerOptions {
  const clientAuth = tls.clientCertAuth === true || (tls.ca !== undefined && tls.ca !== null && tls.selfSigned !== true);
  return {
    cert: tls.cert,
    key: tls.key,
    ca: caList(tls.ca),
    requestCert: clientAuth,
    rejectUnauthorized: clientAuth,
    ...(tls.ciphers ? { ciphers: tls.ciphers } : {}),
    ...(tls.minVersion ? { minVersion: tls.minVersion } : {}),
    ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
    ...(tls.crl ? { crl: tls.crl } : {}),
  };
}

function commonName(cert: PeerCertificate): string {
  return typeof cert.subject?.CN === 'string' ? cert.subject.CN : '';
}

/**
 * Options for undici's connector when dialing an https peer URL. As in etcd (whose TLS config
 * checks the allowed CN on both ends), the peer we dial must also present an allowed CN.
 */
export function clientTlsOptions(tls: PeerTlsOptions | null): Record<string, unknown> {
  if (tls === null) return { rejectUnauthorized: true };
  const allowedCn = tls.allowedCn ?? [];
  const checkCn = allowedCn.length > 0 && tls.selfSigned !== true;
  return {
    cert: tls.cert,
    key: tls.key,
    ca: caList(tls.ca),
    rejectUnauthorized: tls.selfSigned !== true,
    ...(checkCn ? {
      checkServerIdentity: (host: string, cert: PeerCertificate): Error | undefined => checkServerIdentity(host, cert)
        ?? (allowedCn.includes(commonName(cert)) ? undefined : new Error(`peer certificate CN "${commonName(cert)}" is not in --peer-cert-allowed-cn`)),
    } : {}),
    ...(tls.ciphers ? { ciphers: tls.ciphers } : {}),
    ...(tls.minVersion ? { minVersion: tls.minVersion } : {}),
    ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
  };
}

/**
 * Why a connecting peer's certificate is refused by the allowed-CN / allowed-hostname rules,
 * or null if it passes. The chain itself was already verified by the TLS handshake.
 */
export function peerCertificateProblem(socket: TLSSocket, tls: PeerTlsOptions): string | null {
  const allowedCn = tls.allowedCn ?? [];
  const allowedHostname = tls.allowedHostname ?? [];
  if (allowedCn.length === 0 && allowedHostname.length === 0) return null;
  const cert: PeerCertificate = socket.getPeerCertificate();
  if (cert === null || Object.keys(cert).length === 0) return 'no client certificate';
  if (allowedCn.length > 0) {
    const cn = commonName(cert);
    if (!allowedCn.includes(cn)) return `certificate CN "${cn}" is not in --peer-cert-allowed-cn`;
  }
  if (allowedHostname.length > 0) {
    const ok = allowedHostname.some((host) => checkServerIdentity(host, cert) === undefined);
    if (!ok) return 'certificate matches none of --peer-cert-allowed-hostname';
  }
  return null;
}
