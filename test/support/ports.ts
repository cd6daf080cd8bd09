/**
 * Free TCP ports for test servers, asked of the OS (listen on 127.0.0.1:0, read, close).
 *
 * Owns nothing but short-lived probe sockets. Must never hand out a fixed or guessed port:
 * several engineers' tests share this machine.
 */
import { createServer, type Server } from 'node:net';

/** Upper bound on ports asked for in one call; a cluster of 7 needs 14. */
const maxPortsPerCall = 64;

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('probe socket has no TCP address');
  return address.port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * `count` distinct free ports. All probe sockets stay open until every port is known, so the
 * OS cannot hand the same port out twice within one call.
 */
export async function freePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1 || count > maxPortsPerCall) {
    throw new Error(`freePorts: count must be 1..${maxPortsPerCall}, got ${count}`);
  }
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnAnyPort());
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** One free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}
