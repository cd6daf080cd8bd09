/**
 * A seeded pseudo-random generator (mulberry32) so that a differential run replays exactly
 * from its printed seed.
 *
 * Owns only its 32-bit state. Must never read Math.random or the clock.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** Choose a branch by weight: `weighted([[3, 'a'], [1, 'b']])`. */
  weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let roll = this.next() * total;
    for (const [w, v] of choices) {
      roll -= w;
      if (roll < 0) return v;
    }
    return choices[choices.length - 1][1];
  }
}

/** A fresh 32-bit seed for runs that were not given one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}
