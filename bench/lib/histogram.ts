/**
 * A latency histogram with bounded memory: log-linear buckets over microseconds (each power of
 * two split into 64 sub-buckets, so a percentile is within about 1.6% of the true value),
 * exact count, min, max and mean.
 *
 * Owns only counts. Must never keep one sample per request (a long run would grow without
 * bound).
 */

const subBucketBits = 6;
const subBuckets = 1 << subBucketBits;
/** 2^40 µs is about 12 days: anything longer is clamped into the last bucket. */
const maxExponent = 40;
const bucketCount = (maxExponent + 1) * subBuckets;

function bucketOf(us: number): number {
  const v = Math.max(1, Math.floor(us));
  const exponent = Math.min(maxExponent, Math.floor(Math.log2(v)));
  if (exponent < subBucketBits) return v; // exact below 64 µs
  const sub = Math.floor(v / 2 ** (exponent - subBucketBits)) - subBuckets;
  return Math.min(bucketCount - 1, exponent * subBuckets + sub);
}

/** The middle of a bucket's range, in µs. */
function valueOf(bucket: number): number {
  if (bucket < subBuckets) return bucket;
  const exponent = Math.floor(bucket / subBuckets);
  const sub = bucket % subBuckets;
  const width = 2 ** (exponent - subBucketBits);
  return (subBuckets + sub) * width + width / 2;
}

export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(bucketCount);
  private count = 0;
  private sumUs = 0;
  private minUs = Infinity;
  private maxUs = 0;

  recordUs(us: number): void {
    this.counts[bucketOf(us)]++;
    this.count++;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The latency at quantile q (0..1), in µs; 0 when empty. */
  quantileUs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < bucketCount; b++) {
      seen += this.counts[b];
      if (seen >= rank) return Math.min(this.maxUs, Math.max(this.minUs, valueOf(b)));
    }
    return this.maxUs;
  }

  summary(): LatencySummary {
    const ms = (us: number): number => Math.round(us) / 1000;
    return {
      count: this.count,
      minMs: this.count === 0 ? 0 : ms(this.minUs),
      meanMs: this.count === 0 ? 0 : ms(this.sumUs / this.count),
      p50Ms: ms(this.quantileUs(0.5)),
      p90Ms: ms(this.quantileUs(0.9)),
      p99Ms: ms(this.quantileUs(0.99)),
      p999Ms: ms(this.quantileUs(0.999)),
      maxMs: ms(this.maxUs),
    };
  }
}
