/**
 * Cairn's peer transport — the public face of src/transport (raft messages and snapshots
 * between members over HTTP, the peer listener, the member list for joining members).
 *
 * Owns nothing itself; see transport.ts (sending), peer-server.ts (receiving), wire.ts (the
 * protocol). Must never: be imported by src/raft (the core stays free of I/O). It imports
 * only node: modules, undici, and src/raft's types and codec.
 *
 * HOST WIRING (src/server):
 *   const transport = new PeerTransport({ clusterId, memberId, peerUrls, logger, tls, limits,
 *     onUnreachable: (id) => node.reportUnreachable(id),
 *     onSnapshotStatus: (id, ok) => node.reportSnapshot(id, ok),
 *     onClusterMismatch: (id, theirs) => ..., onRemoved: () => stop the member,
 *     openSnapshotData: (m) => fs.createReadStream(<the LMDB file of m's snapshot>) });
 *   for each other member: transport.addPeer(id, peerUrls)
 *   const peerServer = await createPeerServer({ transport, listenUrls, tls, handler: {
 *     onMessages: (msgs) => msgs.forEach((m) => node.step(m)),
 *     onSnapshot: async (m, data) => { store data (install after a clean end); node.step(m) },
 *     members: () => the member list, isKnownMember: (id) => !removed.has(id) } });
 *   each Ready: transport.send(rd.messages)     (after persisting, per the raft contract)
 */
export { PeerTransport, PeerCallError, normalisePeerUrl, type PeerTransportOptions, type ProbeResult, type TransportStats } from './transport.js';
export {
  createPeerServer, CallError, type PeerHandler, type PeerServer, type PeerServerOptions, type PeerServerIdentity,
  type PeerServerStats,
} from './peer-server.js';
export { fetchClusterMembers, type PeerMember, type ClusterMembers } from './members.js';
export { type SnapshotData } from './snapshot-sender.js';
export { peerCertificateProblem, serverTlsOptions, type PeerTlsOptions } from './tls.js';
export { DEFAULT_LIMITS, resolveLimits, type TransportLimits } from './limits.js';
export { type TransportLogger, SILENT_LOGGER } from './logger.js';
export { type PeerSenderStats } from './peer-sender.js';
export { PEER_PROTOCOL_VERSION } from './wire.js';
