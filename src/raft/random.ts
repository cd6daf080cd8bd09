/**
 * A small seeded pseudo-random generator for election timeouts and simulations.
 *
 * Owns: turning a 32-bit seed into a deterministic stream of floats in [0, 1).
 * Must never: read the clock or Math.random — determinism is the point (a failing simulation
 * seed must replay exactly).
 *
 * Construction: a Weyl sequence (add the golden-ratio constant) passed through a 32-bit
 * avalanche mixer. Not cryptographic; plenty for spreading election timeouts.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}
