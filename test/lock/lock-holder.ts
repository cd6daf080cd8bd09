/**
 * A lock holder in its own process, for the kill -9 test: grants a lease, takes the lock through
 * HTTP, prints `LOCKED <base64 key>` and keeps the lease alive until it is killed.
 * Usage: node lock-holder.js <client url> <lock name> <ttl seconds>
 *
 * Owns nothing but its lease and lock; never exits on its own (the test kills it).
 */
const [url, name, ttl] = process.argv.slice(2);
const keepAliveEveryMs = 300;

async function post(path: string, body: unknown): Promise<any> {
  const r = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${text}`);
  return JSON.parse(text.split('\n')[0]);
}

async function holdLock(): Promise<void> {
  const grant = await post('/v3/lease/grant', { TTL: Number(ttl) });
  setInterval(() => {
    post('/v3/lease/keepalive', { ID: grant.ID }).catch((e: Error) => process.stderr.write(`keepalive: ${e.message}\n`));
  }, keepAliveEveryMs);
  const lock = await post('/v3/lock/lock', { name: Buffer.from(name).toString('base64'), lease: grant.ID });
  process.stdout.write(`LOCKED ${lock.key} ${grant.ID}\n`);
}

// `node --test dist/test/` also runs this file, without arguments: then there is nothing to do.
if (ttl !== undefined) {
  holdLock().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
