/**
 * Member URLs and the --initial-cluster list: parsing and the checks etcd makes on them.
 *
 * Owns: which URLs a member may listen on and advertise (http or https, explicit host:port, no
 * path, query or credentials), and the `name=url,...` syntax of --initial-cluster. Must never:
 * resolve DNS or open sockets; comparing advertised URLs with --initial-cluster is textual
 * (etcd also resolves names; Cairn leaves that to the transport at start).
 */
import { isIP } from 'node:net';
import { ConfigError, invalidValue, type Origin } from './config-error.js';
import { list, type RawEntry } from './values.js';

/** One member of the bootstrap cluster: a name and the peer URLs it is reached on. */
export interface ClusterMember {
  readonly name: string;
  readonly peerUrls: readonly URL[];
}

export type UrlUse = 'listen' | 'advertise';

const MAX_PORT = 65_535;

/**
 * The TCP port of a member URL. WHATWG URL objects report '' for a scheme's default port
 * (http://h:80), so read the port through this, never through `url.port` alone.
 */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** `http://h:2379` without a trailing slash: the form etcd prints and compares. */
export function urlText(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** Parses one URL, or says exactly what is wrong with it, naming the setting. */
export function parseMemberUrl(text: string, origin: Origin, use: UrlUse): URL {
  const trimmed = text.trim();
  const parts = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(trimmed);
  if (parts === null) throw invalidValue(trimmed, origin, 'expected a URL like http://10.0.0.1:2379');
  const scheme = parts[1].toLowerCase();
  if (scheme === 'unix' || scheme === 'unixs') {
    throw invalidValue(trimmed, origin, 'unix sockets are not supported by Cairn; use http:// or https:// with host:port');
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw invalidValue(trimmed, origin, 'URL scheme must be http or https');
  }
  const authority = parts[2];
  if (authority.includes('@')) throw invalidValue(trimmed, origin, 'URL must not contain user credentials');
  checkHostPort(trimmed, authority, origin, use);
  const rest = parts[3];
  if (rest !== '' && rest !== '/') {
    const what = rest.startsWith('/') && !/[?#]/.test(rest) ? 'a path' : 'a path, query or fragment';
    throw invalidValue(trimmed, origin, `URL must not contain ${what}`);
  }
  return new URL(`${scheme}://${authority}`);
}

function checkHostPort(text: string, authority: string, origin: Origin, use: UrlUse): void {
  const hostPort = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d+)$/.exec(authority);
  if (hostPort === null) throw invalidValue(text, origin, 'URL address does not have the form "host:port"');
  const port = Number(hostPort[2]);
  const minPort = use === 'listen' ? 0 : 1;
  if (port < minPort || port > MAX_PORT) {
    throw invalidValue(text, origin, `port must be between ${minPort} and ${MAX_PORT}`);
  }
  const host = hostPort[1].replace(/^\[|\]$/g, '');
  if (use === 'listen' && host !== 'localhost' && isIP(host) === 0) {
    // Binding to a DNS name is ambiguous (which of its addresses?); etcd refuses it the same way.
    throw invalidValue(text, origin, 'expected an IP address (or localhost) in a URL to listen on');
  }
}

/** A comma-separated list of URLs; duplicates refused (a second listener on one port fails later and obscurely). */
export function parseUrlList(entry: RawEntry, use: UrlUse, allowEmpty: boolean): URL[] {
  const texts = list(entry);
  if (texts.length === 0 && !allowEmpty) throw invalidValue(entry.value, entry.origin, 'expected at least one URL');
  const urls = texts.map((text) => parseMemberUrl(text, entry.origin, use));
  const seen = new Set<string>();
  for (const url of urls) {
    const key = urlText(url);
    if (seen.has(key)) throw invalidValue(entry.value, entry.origin, `URL ${key} is listed twice`);
    seen.add(key);
  }
  return urls;
}

const CLUSTER_SYNTAX = 'expected name=peer-url pairs separated by commas, e.g. n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380';

/**
 * `n1=http://a:2380,n2=http://b:2380`. A name listed twice is one member with several peer
 * URLs (etcd's syntax for that); a URL listed twice is refused, as etcd does.
 */
export function parseInitialCluster(entry: RawEntry): ClusterMember[] {
  const byName = new Map<string, URL[]>();
  const seenUrls = new Set<string>();
  for (const pair of list(entry)) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (name === '') throw invalidValue(pair, entry.origin, CLUSTER_SYNTAX);
    const url = parseMemberUrl(pair.slice(eq + 1), entry.origin, 'advertise');
    const key = urlText(url);
    if (seenUrls.has(key)) {
      throw new ConfigError(`${entry.origin.label} lists peer URL ${key} twice (initial cluster ${JSON.stringify(joinRaw(entry))} has duplicate url)`);
    }
    seenUrls.add(key);
    const urls = byName.get(name) ?? [];
    urls.push(url);
    byName.set(name, urls);
  }
  if (byName.size === 0) throw invalidValue(entry.value, entry.origin, CLUSTER_SYNTAX);
  return [...byName].map(([name, peerUrls]) => ({ name, peerUrls }));
}

function joinRaw(entry: RawEntry): string {
  return typeof entry.value === 'string' ? entry.value : entry.value.join(',');
}

/** The text form of a cluster list, as etcd prints it: `n1=http://a:2380,n2=http://b:2380`. */
export function clusterText(members: readonly ClusterMember[]): string {
  return members.flatMap((member) => member.peerUrls.map((url) => `${member.name}=${urlText(url)}`)).join(',');
}

/** True when both lists hold the same URLs, in any order. */
export function sameUrlSet(a: readonly URL[], b: readonly URL[]): boolean {
  const left = a.map(urlText).sort();
  const right = b.map(urlText).sort();
  return left.length === right.length && left.every((text, index) => text === right[index]);
}
