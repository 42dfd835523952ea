const MIN_READ = 1024;
const MAX_READ = 64 * 1024;

/**
 * The buffer a socket reads into, and who owns it after a read. It starts small (an idle client
 * holds 1 KiB, not 64) and doubles while reads fill it. A read that fills at least a quarter of
 * it is handed over as it is (the next read gets a new buffer); a read that uses little of it is
 * copied out and the buffer reused, so a chunk never pins more than 4× its length. A read lent to
 * a sink that borrows it (`lend`) leaves the buffer where it is, for the next read.
 */
export class ReadBuffer {
  private buf: Uint8Array | null = null;
  private size = MIN_READ;

  /** Where the next read goes. */
  next(): Uint8Array {
    return (this.buf ??= new Uint8Array(this.size));
  }

  /**
   * The `n` bytes the last read put into `next()`, lent: valid until the next read. A read that
   * filled the buffer makes the next one bigger.
   */
  lend(n: number): Uint8Array {
    const buf = this.buf!;
    if (n === buf.byteLength && this.size < MAX_READ) {
      this.size *= 2;
      this.buf = null;
    }
    return buf.subarray(0, n);
  }

  /** The `n` bytes the last read put into `next()`, as a chunk the caller owns. */
  take(n: number): Uint8Array {
    const buf = this.buf!;
    if (n === buf.byteLength) {
      this.buf = null;
      this.size = Math.min(MAX_READ, this.size * 2);
      return buf;
    }
    if (n * 4 >= buf.byteLength) {
      this.buf = null;
      return buf.subarray(0, n);
    }
    return buf.slice(0, n);
  }
}
