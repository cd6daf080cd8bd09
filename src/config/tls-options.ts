/**
 * TLS-related value parsing: etcd's cipher suite names (Go's) mapped to OpenSSL's, TLS versions,
 * and --auth-token's `jwt,...` option string.
 *
 * Owns: those name tables and option syntaxes. Must never: read key or certificate files (the
 * server does, at start, where it can report a missing file with its path).
 */
import { ConfigError, invalidValue } from './config-error.js';
import { DEFAULTS, JWT_SIGN_METHODS, type AuthTokenConfig, type JwtSignMethod, type TlsVersion } from './types.js';
import { list, parseGoDurationMs, scalar, type RawEntry } from './values.js';

/**
 * Go crypto/tls suite names (what etcd's --cipher-suites takes) → OpenSSL names (what Node's
 * `ciphers` option takes). TLS 1.3 suites are not configurable in either. RC4 and 3DES suites are
 * left out on purpose: Node 20's OpenSSL 3 does not offer them (a test checks every name here
 * against tls.getCiphers()), so they are refused at start rather than failing at handshake.
 */
export const GO_TO_OPENSSL_CIPHERS: ReadonlyMap<string, string> = new Map([
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
]);

/** Go names etcd accepts that Node's OpenSSL cannot offer: refused with their own reason. */
const UNAVAILABLE_CIPHERS = new Set([
  'TLS_RSA_WITH_RC4_128_SHA', 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_RC4_128_SHA',
  'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
]);

export interface CipherChoice {
  readonly cipherSuites: string[];
  readonly opensslCiphers: string | null;
}

export function parseCipherSuites(entry: RawEntry): CipherChoice {
  const cipherSuites = list(entry);
  const openssl: string[] = [];
  for (const suite of cipherSuites) {
    const name = GO_TO_OPENSSL_CIPHERS.get(suite);
    if (name === undefined && UNAVAILABLE_CIPHERS.has(suite)) {
      throw invalidValue(suite, entry.origin, 'RC4 and 3DES cipher suites are not available in Node\'s OpenSSL; choose an AES-GCM or CHACHA20 suite');
    }
    if (name === undefined) {
      throw invalidValue(suite, entry.origin, `unexpected TLS cipher suite; expected names like TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`);
    }
    if (!openssl.includes(name)) openssl.push(name);
  }
  return { cipherSuites, opensslCiphers: openssl.length === 0 ? null : openssl.join(':') };
}

/** etcd writes 'TLS1.2'; Node wants 'TLSv1.2'. Empty = the platform default. */
export function parseTlsVersion(entry: RawEntry): TlsVersion | null {
  const text = scalar(entry).trim();
  if (text === '') return null;
  if (text === 'TLS1.2' || text === 'TLSv1.2') return 'TLSv1.2';
  if (text === 'TLS1.3' || text === 'TLSv1.3') return 'TLSv1.3';
  throw invalidValue(text, entry.origin, "expected 'TLS1.2' or 'TLS1.3' (older versions are not supported)");
}

const JWT_OPTIONS = new Set(['pub-key', 'priv-key', 'sign-method', 'ttl']);

/** `simple`, or `jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>[,ttl=<duration>]`. */
export function parseAuthToken(entry: RawEntry): AuthTokenConfig {
  const [kind, ...pairs] = list(entry);
  if (kind === 'simple' && pairs.length === 0) return { kind: 'simple' };
  if (kind !== 'jwt') throw invalidValue(entry.value, entry.origin, "expected 'simple' or 'jwt,pub-key=...,priv-key=...,sign-method=...'");
  const options = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (!JWT_OPTIONS.has(key) || eq < 0) {
      throw invalidValue(entry.value, entry.origin, `unknown or malformed jwt option ${JSON.stringify(pair)}; expected pub-key=, priv-key=, sign-method=, ttl=`);
    }
    options.set(key, pair.slice(eq + 1));
  }
  return jwtFromOptions(entry, options);
}

function jwtFromOptions(entry: RawEntry, options: ReadonlyMap<string, string>): AuthTokenConfig {
  const method = options.get('sign-method');
  const signMethod = JWT_SIGN_METHODS.find((candidate) => candidate === method);
  if (signMethod === undefined) {
    throw invalidValue(entry.value, entry.origin, `jwt needs sign-method= one of ${JWT_SIGN_METHODS.join(', ')}`);
  }
  const pubKeyFile = nonEmpty(options.get('pub-key'));
  const privKeyFile = nonEmpty(options.get('priv-key'));
  checkJwtKeys(entry, signMethod, pubKeyFile, privKeyFile);
  const ttlText = options.get('ttl');
  const ttlMs = ttlText === undefined ? DEFAULTS.jwtTtlMs : parseGoDurationMs(ttlText);
  if (ttlMs === null || ttlMs <= 0) {
    throw invalidValue(entry.value, entry.origin, `jwt ttl= must be a positive duration like 5m or 1h`);
  }
  return { kind: 'jwt', signMethod, pubKeyFile, privKeyFile, ttlMs };
}

function checkJwtKeys(entry: RawEntry, method: JwtSignMethod, pubKeyFile: string | null, privKeyFile: string | null): void {
  if (method.startsWith('HS') && privKeyFile === null) {
    throw new ConfigError(`${entry.origin.label}: jwt with sign-method=${method} needs priv-key=<file> (the shared secret)`);
  }
  if (pubKeyFile === null && privKeyFile === null) {
    throw new ConfigError(`${entry.origin.label}: jwt needs pub-key=<file> to verify tokens and/or priv-key=<file> to sign them`);
  }
}

function nonEmpty(text: string | undefined): string | null {
  return text === undefined || text === '' ? null : text;
}
