/**
 * The TLS material of one side of a member, clients or peers: the certificate, key, trusted CA
 * and CRL read from the files named by --cert-file, --key-file, --trusted-ca-file and
 * --client-crl-file (or their --peer-* twins), or, for --auto-tls / --peer-auto-tls, a
 * self-signed certificate kept under `<data-dir>/fixtures/client` or `fixtures/peer` (made on
 * the first start, reused afterwards, as etcd does).
 *
 * Owns: reading those files (a missing or unreadable one is a TlsSetupError naming the flag
 * and the path) and generating the auto-TLS certificate. Must never: log key material, or
 * turn verification off except for a self-signed (auto-TLS) certificate, where etcd does too.
 *
 * etcd's rules kept here: a given certificate wins over auto-TLS (with a warning); auto-TLS
 * replaces the whole side's settings, so --client-cert-auth and --trusted-ca-file have no
 * effect with it (etcd 3.4's SelfCert does the same) — a warning says so.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { TLSSocket } from 'node:tls';
import { peerCertificateProblem, serverTlsOptions, type PeerTlsOptions } from '../transport/index.js';

/** node:https server options for a side's material (the client listener uses the peer rules). */
export const httpsServerOptions = serverTlsOptions;

/** Why a connected client's certificate fails --client-cert-allowed-hostname, or null; null
 * as a whole when no such rule is set. */
export function clientCertificateCheck(material: PeerTlsOptions): ((socket: TLSSocket) => string | null) | null {
  if ((material.allowedHostname ?? []).length === 0) return null;
  return (socket) => peerCertificateProblem(socket, material);
}
export type { PeerTlsOptions as TlsMaterial };

/** One side's TLS settings as configured (the shape of config's TlsConfig). */
export interface TlsSideSettings {
  readonly certFile: string | null;
  readonly keyFile: string | null;
  readonly trustedCaFile: string | null;
  readonly clientCertAuth: boolean;
  readonly autoTls: boolean;
  readonly crlFile: string | null;
  readonly allowedCn: readonly string[];
  readonly allowedHostname: readonly string[];
}

/** The settings both sides share. */
export interface TlsCommonSettings {
  readonly opensslCiphers: string | null;
  readonly tlsMinVersion: 'TLSv1.2' | 'TLSv1.3' | null;
  readonly tlsMaxVersion: 'TLSv1.2' | 'TLSv1.3' | null;
}

export class TlsSetupError extends Error {}

export type TlsSide = 'client' | 'peer';

/** etcd's self-signed certificates are valid for one year (--self-signed-cert-validity 1). */
const AUTO_TLS_VALIDITY_MS = 365 * 24 * 3600 * 1000;

function flagName(side: TlsSide, name: 'cert-file' | 'key-file' | 'trusted-ca-file' | 'crl-file'): string {
  if (name === 'crl-file') return side === 'peer' ? '--peer-crl-file' : '--client-crl-file';
  return side === 'peer' ? `--peer-${name}` : `--${name}`;
}

function readNamed(side: TlsSide, name: 'cert-file' | 'key-file' | 'trusted-ca-file' | 'crl-file', path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TlsSetupError(`${flagName(side, name)} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * The material for one side, or null when the side has no certificate (plain http only).
 * `hosts` are the host names and IPs the auto-TLS certificate is made for.
 */
export async function loadTlsMaterial(
  side: TlsSide, settings: TlsSideSettings, common: TlsCommonSettings, dataDir: string, hosts: readonly string[], logger: Logger,
): Promise<PeerTlsOptions | null> {
  const shared = {
    ciphers: common.opensslCiphers, minVersion: common.tlsMinVersion, maxVersion: common.tlsMaxVersion,
    allowedCn: settings.allowedCn, allowedHostname: settings.allowedHostname,
  };
  const autoFlag = side === 'peer' ? '--peer-auto-tls' : '--auto-tls';
  if (settings.certFile !== null && settings.keyFile !== null) {
    if (settings.autoTls) logger.warn(`ignoring ${autoFlag} since ${flagName(side, 'cert-file')} is given`);
    return {
      ...shared,
      cert: readNamed(side, 'cert-file', settings.certFile),
      key: readNamed(side, 'key-file', settings.keyFile),
      ca: settings.trustedCaFile === null ? null : readNamed(side, 'trusted-ca-file', settings.trustedCaFile),
      crl: settings.crlFile === null ? null : readNamed(side, 'crl-file', settings.crlFile),
      clientCertAuth: settings.clientCertAuth,
    };
  }
  if (!settings.autoTls) return null;
  if (settings.clientCertAuth || settings.trustedCaFile !== null) {
    const authFlag = side === 'peer' ? '--peer-client-cert-auth/--peer-trusted-ca-file' : '--client-cert-auth/--trusted-ca-file';
    logger.warn(`${authFlag} have no effect with ${autoFlag}: a self-signed certificate encrypts but authenticates no one (as in etcd)`);
  }
  const dir = join(dataDir, 'fixtures', side);
  const { cert, key } = await selfSignedCertificate(dir, hosts, logger);
  return { ...shared, cert, key, ca: null, crl: null, clientCertAuth: false, selfSigned: true };
}

/** The certificate and key in `dir` (cert.pem, key.pem), made first if either is missing. */
async function selfSignedCertificate(dir: string, hosts: readonly string[], logger: Logger): Promise<{ cert: Buffer; key: Buffer }> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
  }
  const made = await generateSelfSigned(hosts);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, made.key, { mode: 0o600 });
    writeFileSync(certPath, made.cert, { mode: 0o644 });
  } catch (e) {
    throw new TlsSetupError(`cannot write the auto-TLS certificate in ${dir}: ${(e as Error).message}`);
  }
  logger.info({ dir, hosts }, 'generated a self-signed TLS certificate');
  return { cert: Buffer.from(made.cert), key: Buffer.from(made.key) };
}

/**
 * An ECDSA P-256 certificate for `hosts` (IPs as IP SANs, names as DNS SANs), usable as server
 * and client certificate, as etcd's SelfCert makes. Node's crypto makes keys but cannot sign
 * X.509, so @peculiar/x509 builds the certificate (loaded only when auto-TLS is used).
 */
async function generateSelfSigned(hosts: readonly string[]): Promise<{ cert: string; key: string }> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const { webcrypto, randomBytes } = await import('node:crypto');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as import('node:crypto').webcrypto.CryptoKeyPair;
  const unique = [...new Set(hosts.map((h) => h.replace(/^\[|\]$/g, '')).filter((h) => h !== ''))];
  const names = unique.map((h) => (isIP(h) !== 0 ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01' + randomBytes(15).toString('hex'),
    name: 'O=cairn',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + AUTO_TLS_VALIDITY_MS),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem') + '\n', key: keyPem };
}
