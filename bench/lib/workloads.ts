/**
 * The benchmark's request shapes, shared by the load generator (which sends them) and the
 * runner (which names them): put over a 10,000-key space of 8-byte keys with 256-byte values,
 * single-key linearizable range, and compare-and-swap txn (compare mod_revision, then put).
 *
 * Owns request construction and the CAS revision cache. Must never do I/O.
 */

export type WorkloadName = 'put' | 'range' | 'txn-cas' | 'fill';

export const putKeySpace = 10_000;
/** CAS keys are a smaller space so that warmup learns most of their revisions. */
export const casKeySpace = 1_000;
export const valueBytes = 256;

/** 8-byte keys: a letter and 7 digits. */
export function keyOf(letter: 'k' | 'c', n: number): string {
  return `${letter}${String(n).padStart(7, '0')}`;
}

export function b64(text: string | Buffer): string {
  return (typeof text === 'string' ? Buffer.from(text) : text).toString('base64');
}

/** One fixed pseudo-random value, so every request carries the same bytes on every server. */
export function fixedValue(): Buffer {
  const v = Buffer.alloc(valueBytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < valueBytes; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    v[i] = 0x20 + ((x >>> 0) % 95); // printable, as a typical JSON-ish value
  }
  return v;
}

export interface PreparedRequest {
  readonly path: string;
  readonly body: string;
  /** Reads the answer (CAS learns the key's revision from it); returns false on a failed CAS. */
  readonly onAnswer?: (json: any) => boolean;
}

/** Last mod_revision seen per CAS key, shared by all connections of one generator process. */
export class CasCache {
  private readonly known = new Map<string, string>();

  request(key: string, valueB64: string): PreparedRequest {
    const keyB64 = b64(key);
    const expected = this.known.get(key) ?? '0';
    const body = JSON.stringify({
      compare: [{ key: keyB64, target: 'MOD', result: 'EQUAL', mod_revision: expected }],
      success: [{ request_put: { key: keyB64, value: valueB64 } }],
      failure: [{ request_range: { key: keyB64 } }],
    });
    return {
      path: '/v3/kv/txn',
      body,
      onAnswer: (json) => {
        if (json?.succeeded === true) {
          this.known.set(key, String(json.header.revision));
          return true;
        }
        const kv = json?.responses?.[0]?.response_range?.kvs?.[0];
        this.known.set(key, kv === undefined ? '0' : String(kv.mod_revision));
        return false;
      },
    };
  }
}

/** A request maker for a workload; `random` is a uniform [0,1) source, `index` a sequence number. */
export function requestMaker(workload: WorkloadName): (random: () => number, index: number) => PreparedRequest {
  const valueB64 = b64(fixedValue());
  switch (workload) {
    case 'put':
      return (random) => ({ path: '/v3/kv/put', body: JSON.stringify({ key: b64(keyOf('k', Math.floor(random() * putKeySpace))), value: valueB64 }) });
    case 'fill':
      return (_random, index) => ({ path: '/v3/kv/put', body: JSON.stringify({ key: b64(keyOf('k', index % putKeySpace)), value: valueB64 }) });
    case 'range':
      return (random) => ({ path: '/v3/kv/range', body: JSON.stringify({ key: b64(keyOf('k', Math.floor(random() * putKeySpace))) }) });
    case 'txn-cas': {
      const cache = new CasCache();
      return (random) => cache.request(keyOf('c', Math.floor(random() * casKeySpace)), valueB64);
    }
  }
}
