/**
 * The process-level test harness in one import: free ports, cairn and etcd members, a server
 * scope that cleans up, and the JSON gateway client.
 *
 * Re-exports only; must never hold logic of its own.
 */
export { freePort, freePorts } from './ports.js';
export { projectRoot, runningCompiled, cairnEntry, nodeEntry } from './paths.js';
export type { ServerHandle, ServerKind, StartOptions, ExitInfo } from './member.js';
export { isHealthy } from './member.js';
export { startCairn, cairnBuilt } from './cairn.js';
export { startEtcd, etcdAvailable, etcdBinary, etcdVersion } from './etcd.js';
export { withServers, type ServerScope } from './servers.js';
export { gw, b64, unb64, unb64s, prefixEnd, type GwResponse } from './gateway.js';
