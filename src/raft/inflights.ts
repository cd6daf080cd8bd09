/**
 * The window of append messages sent to one follower and not yet acknowledged.
 *
 * Owns: a fixed-capacity ring of the last index carried by each in-flight MsgApp and the bytes
 * it carried. Must never: grow past its capacity — when full, the leader stops sending to that
 * follower until an acknowledgement frees a slot (that is the flow control).
 */
export class Inflights {
  /** Maximum number of in-flight messages (config maxInflightMsgs). */
  readonly capacityMsgs: number;
  /** Maximum bytes in flight; Infinity when only the message count bounds the window. */
  readonly capacityBytes: number;
  private readonly lastIndexes: Float64Array;
  private readonly sizes: Float64Array;
  private start = 0;
  private count = 0;
  private bytes = 0;

  constructor(capacityMsgs: number, capacityBytes: number) {
    this.capacityMsgs = capacityMsgs;
    this.capacityBytes = capacityBytes;
    this.lastIndexes = new Float64Array(capacityMsgs);
    this.sizes = new Float64Array(capacityMsgs);
  }

  get length(): number {
    return this.count;
  }

  get bytesInFlight(): number {
    return this.bytes;
  }

  full(): boolean {
    return this.count === this.capacityMsgs || this.bytes >= this.capacityBytes;
  }

  /** Records a sent message whose last entry is `lastIndex`. Callers check full() first. */
  add(lastIndex: number, bytes: number): void {
    if (this.count === this.capacityMsgs) throw new Error('raft: inflights overflow');
    let slot = this.start + this.count;
    if (slot >= this.capacityMsgs) slot -= this.capacityMsgs;
    this.lastIndexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is ≤ `index` (acknowledged by the follower). */
  freeLE(index: number): void {
    while (this.count > 0 && this.lastIndexes[this.start] <= index) {
      this.bytes -= this.sizes[this.start];
      this.start++;
      if (this.start === this.capacityMsgs) this.start = 0;
      this.count--;
    }
    if (this.count === 0) {
      this.start = 0;
      this.bytes = 0;
    }
  }

  /** Frees the oldest message: a heartbeat answer proves the follower is alive although an
   * append was lost, so one more append may go out and expose the gap. */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.lastIndexes[this.start]);
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
