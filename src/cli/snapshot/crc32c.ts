/**
 * CRC-32C (Castagnoli), the hash etcd's `snapshot status` reports over a snapshot's contents.
 *
 * Must never: allocate per byte (the table is built once).
 */
const table = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** A running CRC-32C: update with chunks, read with sum(). */
export class Crc32c {
  private crc = 0xffffffff;
  update(b: Uint8Array): void {
    let c = this.crc;
    for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]) & 0xff] ^ (c >>> 8);
    this.crc = c >>> 0;
  }
  sum(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}
