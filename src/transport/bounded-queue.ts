/**
 * A FIFO of encoded frames bounded by count and by bytes, dropping the oldest when full.
 *
 * Owns: the per-peer waiting room between `send()` and the next batch. Must never: grow past
 * its limits (a dead peer costs at most maxFrames/maxBytes), or reorder frames.
 *
 * Why drop the oldest: Raft tolerates message loss, and the newest messages carry the newest
 * term, commit index and entries a peer needs; old ones are the likeliest to be obsolete.
 */

export class BoundedFrameQueue {
  private frames: (Uint8Array | undefined)[];
  private head = 0;
  private count = 0;
  private bytes = 0;
  /** Frames dropped because the queue was full or a frame alone exceeded maxBytes. */
  dropped = 0;

  constructor(private readonly maxFrames: number, private readonly maxBytes: number) {
    this.frames = new Array<Uint8Array | undefined>(Math.min(maxFrames, 64));
  }

  get length(): number {
    return this.count;
  }

  get byteLength(): number {
    return this.bytes;
  }

  /** Appends a frame, dropping the oldest until both limits hold; returns frames dropped. */
  push(frame: Uint8Array): number {
    if (frame.length > this.maxBytes) {
      this.dropped++;
      return 1;
    }
    let droppedNow = 0;
    while (this.count >= this.maxFrames || this.bytes + frame.length > this.maxBytes) {
      this.shift();
      droppedNow++;
    }
    if (this.count === this.frames.length) this.grow();
    this.frames[(this.head + this.count) % this.frames.length] = frame;
    this.count++;
    this.bytes += frame.length;
    this.dropped += droppedNow;
    return droppedNow;
  }

  /** The oldest frame's size, or -1 when empty: lets the caller cut a batch before taking. */
  peekLength(): number {
    return this.count === 0 ? -1 : (this.frames[this.head] as Uint8Array).length;
  }

  shift(): Uint8Array | undefined {
    if (this.count === 0) return undefined;
    const frame = this.frames[this.head] as Uint8Array;
    this.frames[this.head] = undefined;
    this.head = (this.head + 1) % this.frames.length;
    this.count--;
    this.bytes -= frame.length;
    return frame;
  }

  /** Drops everything (peer removed); counts the drops. */
  clear(): void {
    this.dropped += this.count;
    this.frames = new Array<Uint8Array | undefined>(Math.min(this.maxFrames, 64));
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
  }

  /** Doubles the ring, never past maxFrames slots. */
  private grow(): void {
    const size = Math.min(this.frames.length * 2, this.maxFrames);
    const next = new Array<Uint8Array | undefined>(size);
    for (let i = 0; i < this.count; i++) next[i] = this.frames[(this.head + i) % this.frames.length];
    this.frames = next;
    this.head = 0;
  }
}
