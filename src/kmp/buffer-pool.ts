/**
 * Released log buffers shared by every track of a server, by size, bounded in bytes: a track's
 * own free list (kmp_max_free_buffers, still charged to it as the reference does) overflows into
 * it and new buffers come from it first, so a busy server recycles its 64 KiB and 4 KiB buffers
 * instead of leaving them to the garbage collector. Buffers are zeroed on neither side: a log
 * writes every byte before an upstream reads it.
 */
export class BufferPool {
  private readonly bySize = new Map<number, Uint8Array[]>();
  private bytes = 0;
  readonly maxBytes: number;

  constructor(maxBytes = 32 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  take(size: number): Uint8Array | null {
    const b = this.bySize.get(size)?.pop();
    if (!b) return null;
    this.bytes -= size;
    return b;
  }

  give(b: Uint8Array): void {
    if (this.bytes + b.byteLength > this.maxBytes) return;
    let list = this.bySize.get(b.byteLength);
    if (!list) this.bySize.set(b.byteLength, (list = []));
    list.push(b);
    this.bytes += b.byteLength;
  }

  /** Bytes held for reuse (metrics). */
  get held(): number {
    return this.bytes;
  }
}
