/**
 * Consecutive views into a 64 KiB block that every user shares, a new block when one is full —
 * one allocation per block instead of an `ArrayBuffer` (malloc, free, its sweep) per copy. A
 * block is never written twice, so a view stays valid; one kept for long keeps its block alive,
 * which is why what waits in a queue keeps a copy. Node's socket reads that a reader keeps (the
 * `readable`, a sink that does not borrow) are copied out of its shared read buffer this way.
 */
export class ReadSlab {
  private block = new Uint8Array(0);
  private used = 0;
  private readonly size: number;

  constructor(size = 64 * 1024) {
    this.size = size;
  }

  /** Room for `n` bytes: the offset in `block` where they go. */
  private take(n: number): number {
    if (this.used + n > this.block.byteLength) {
      this.block = new Uint8Array(Math.max(this.size, n));
      this.used = 0;
    }
    const at = this.used;
    this.used = at + n;
    return at;
  }

  /** The first `n` bytes of `src`, copied. */
  copy(src: Uint8Array, n: number): Uint8Array {
    const at = this.take(n);
    this.block.set(n === src.byteLength ? src : src.subarray(0, n), at);
    return this.block.subarray(at, at + n);
  }
}
