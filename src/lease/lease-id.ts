/**
 * Lease IDs the server picks when a grant asks for ID 0. Like etcd's request ID generator:
 * the member ID's low 16 bits, then the start time in ms (40 bits), then a counter, masked to
 * 63 bits so the ID is a positive int64. Unique per member without coordination; a collision
 * with a client-chosen ID is caught at apply (`lease already exists`) and retried by the caller.
 *
 * Pure arithmetic on bigint: never a JavaScript number (IDs exceed 2^53).
 */

const MASK_63 = (1n << 63n) - 1n;
const MASK_48 = (1n << 48n) - 1n;
const MASK_40 = (1n << 40n) - 1n;

export class LeaseIdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, startMs: number = Date.now()) {
    this.prefix = (memberId & 0xffffn) << 48n;
    this.suffix = (BigInt(Math.floor(startMs)) & MASK_40) << 8n;
  }

  next(): bigint {
    this.suffix += 1n;
    const id = (this.prefix | (this.suffix & MASK_48)) & MASK_63;
    // 0 means "no lease": skip it (possible only for a member ID whose low bits are 0).
    return id === 0n ? this.next() : id;
  }
}
