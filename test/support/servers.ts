/**
 * A scope of test servers: everything started through it is stopped at the end; data dirs are
 * removed when the body succeeds and kept (and printed, with the log tail) when it throws, so
 * a failure can be inspected.
 *
 * Owns the handles it started. Must never hide the body's error behind a cleanup error.
 * (startCluster(n) will join startCairn/startEtcd here when the cluster issue lands.)
 */
import { startCairn } from './cairn.js';
import { startEtcd } from './etcd.js';
import type { ServerHandle, StartOptions } from './member.js';

export interface ServerScope {
  startCairn(opts?: StartOptions): Promise<ServerHandle>;
  startEtcd(opts?: StartOptions): Promise<ServerHandle>;
  /** Track a handle made elsewhere (e.g. by `restart()`) so the scope cleans it up too. */
  adopt(handle: ServerHandle): ServerHandle;
}

export async function withServers<T>(body: (scope: ServerScope) => Promise<T>): Promise<T> {
  const handles: ServerHandle[] = [];
  // Starts still in flight when the body throws (one of several started together failed)
  // must be awaited, or their processes would outlive the scope.
  const starting: Array<Promise<unknown>> = [];
  const adopt = (h: ServerHandle): ServerHandle => { handles.push(h); return h; };
  const track = (start: Promise<ServerHandle>): Promise<ServerHandle> => {
    const adopted = start.then(adopt);
    starting.push(adopted);
    return adopted;
  };
  const scope: ServerScope = {
    startCairn: (opts) => track(startCairn(opts)),
    startEtcd: (opts) => track(startEtcd(opts)),
    adopt,
  };
  let failed = true;
  try {
    const result = await body(scope);
    failed = false;
    return result;
  } finally {
    await Promise.allSettled(starting);
    const results = await Promise.allSettled(handles.map((h) => h.dispose({ keepData: failed })));
    for (const r of results) {
      if (r.status === 'rejected') console.error('cleanup failed:', r.reason);
    }
  }
}
