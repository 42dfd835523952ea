import { mutableField } from "../mutable-field.ts";

/** How often an idle pool gives back what it did not lend out (ms). */
const TRIM_INTERVAL_MS = 10_000;

/** Smallest size `lend` hands out. */
const MIN_LEND = 4096;
/** Largest size `lend` pools (a power of two above it would not be a small integer). */
const MAX_LEND = 1 << 30;

/**
 * Released buffers shared by a server, by size, bounded in bytes, so that a busy server recycles
 * its buffers instead of leaving them to the garbage collector. A server has two:
 * - KMP logs: a track's own free list (kmp_max_free_buffers, still charged to it as the reference
 *   does) overflows into it and new 64 KiB and 4 KiB buffers come from it first;
 * - RTMP messages being reassembled (`lend`): power-of-two sizes, given back once the message's
 *   batch was taken.
 *
 * Buffers are cleared on neither side: each user writes every byte before anyone reads it, and a
 * new one comes from `alloc` (the runtime's `allocUnfilled`: pages never written are never
 * touched).
 *
 * It shrinks when idle: every 10 s (a timer that runs only while the pool holds buffers) the
 * bytes that stayed in the pool the whole interval — its low-water mark — are let go, so after
 * the publishers leave the pool is empty within two intervals.
 */
export class BufferPool {
  private readonly bySize = new Map<number, Uint8Array[]>();
  private bytes = 0;
  /** Fewest bytes held since the last trim: what nobody needed in that interval. */
  private low = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  readonly maxBytes: number;
  /** A new buffer when the pool has none of the size. */
  readonly alloc: (size: number) => Uint8Array;

  constructor(maxBytes = 32 * 1024 * 1024, alloc: (size: number) => Uint8Array = (size) => new Uint8Array(size)) {
    this.maxBytes = maxBytes;
    this.alloc = alloc;
    // written by the first trim, seconds in (see mutableField)
    mutableField(this, "low", 1);
  }

  take(size: number): Uint8Array | null {
    const b = this.bySize.get(size)?.pop();
    if (!b) return null;
    this.bytes -= size;
    // no branch: one first taken minutes in had no type feedback and cost the frame path a recompile
    this.low = Math.min(this.low, this.bytes);
    return b;
  }

  /**
   * A buffer of at least `size` bytes for a short use (one RTMP message being reassembled): the
   * next power of two from 4 KiB up, from the pool when it holds one.
   */
  lend(size: number): Uint8Array {
    // a shift, not `2 **`: its result is a heap number, and one stored into `bytes` turned the
    // field into a double — a new layout for the pool, and every optimized caller (the chunk
    // decoder, the KMP logs' release) threw its code away mid-publish; above 1 GiB no pooling
    if (size > MAX_LEND) return this.alloc(size);
    const n = size <= MIN_LEND ? MIN_LEND : 1 << (32 - Math.clz32(size - 1));
    return this.take(n) ?? this.alloc(n);
  }

  give(b: Uint8Array): void {
    if (this.bytes + b.byteLength > this.maxBytes) return;
    let list = this.bySize.get(b.byteLength);
    if (!list) this.bySize.set(b.byteLength, (list = []));
    list.push(b);
    this.bytes += b.byteLength;
    if (this.timer === null) {
      this.timer = setInterval(() => this.trim(), TRIM_INTERVAL_MS);
      // never what keeps a process alive (Node and Bun timers; Deno's are numbers)
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Lets go of (about) the low-water bytes of the last interval; stops the timer once empty. */
  trim(): void {
    let drop = this.low;
    for (const list of this.bySize.values()) {
      while (drop > 0 && list.length) {
        const n = list.pop()!.byteLength;
        drop -= n;
        this.bytes -= n;
      }
    }
    this.low = this.bytes;
    if (this.bytes === 0) this.stop();
  }

  /** Lets go of everything and stops the timer (server stop). */
  clear(): void {
    this.bySize.clear();
    this.bytes = 0;
    this.low = 0;
    this.stop();
  }

  /** Bytes held for reuse (metrics). */
  get held(): number {
    return this.bytes;
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
