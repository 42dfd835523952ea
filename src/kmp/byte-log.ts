import { KmpError } from "./errors.ts";
import type { BufferPool } from "./buffer-pool.ts";

/** Bytes of each buffer the reference loses to its buffer header (spec §5.1). */
const BUFFER_OVERHEAD = 8;

export const PACKET_FRAME = 0;
export const PACKET_MEDIA_INFO = 1;
export const PACKET_OTHER = 2;

/**
 * A track's append-only byte log of KMP packets in fixed-size buffers (spec §5.1): absolute
 * offsets, memory charged per buffer against the track's limit, whole buffers released once
 * every upstream acknowledged past them. A packet index (offset, size, kind) lets acks walk
 * packet by packet without re-parsing.
 */
export class ByteLog {
  readonly bufferSize: number;
  readonly usable: number;
  readonly memLimit: number;
  readonly maxFreeBuffers: number;
  /** Bytes charged outside the buffers (codec extra data). */
  private extraCharge = 0;
  private buffers: Uint8Array[] = [];
  /** Absolute offset of buffers[0]. */
  private base = 0;
  /**
   * Released buffers still charged to the track (kmp_max_free_buffers, as the reference keeps
   * them). Their storage goes to the server's pool, where any track's next buffer comes from, so
   * a server holds free buffers once, not once per track; the charge stays here, and the track's
   * next buffer is taken against it.
   */
  private freeCount = 0;
  /** End of written bytes (absolute). */
  written = 0;
  /** End of the bytes visible to upstreams (absolute). */
  appended = 0;

  // packet index: a ring of typed arrays (offset, size, kind) holding packets [pFirst, pFirst +
  // pCount), packet pFirst at slot pHead; it grows by doubling and never reallocates once big
  // enough (growing JS arrays here were most of what the old generation collected)
  private pOff = new Float64Array(16);
  private pLen = new Uint32Array(16);
  private pKind = new Uint8Array(16);
  private pHead = 0;
  private pFirst = 0;
  private pCount = 0;

  private readonly pool: BufferPool;

  constructor(o: { bufferSize: number; memLimit: number; maxFreeBuffers: number; pool: BufferPool }) {
    this.pool = o.pool;
    this.bufferSize = o.bufferSize;
    this.usable = o.bufferSize - BUFFER_OVERHEAD;
    this.memLimit = o.memLimit;
    this.maxFreeBuffers = o.maxFreeBuffers;
  }

  /** Memory left under the limit (buffers in use and kept for reuse, plus extra data). */
  get memLeft(): number {
    return this.memLimit - (this.buffers.length + this.freeCount) * this.bufferSize - this.extraCharge;
  }

  /** Charges codec extra data (grows by doubling like the reference, never shrinks). */
  chargeExtra(size: number): void {
    if (size <= this.extraCharge) return;
    let cap = Math.max(this.extraCharge, 64);
    while (cap < size) cap *= 2;
    if (this.memLeft - (cap - this.extraCharge) < 0) throw new KmpError("KMP_ERR_MEM_LIMIT", `extra data of ${size} bytes exceeds the memory limit ${this.memLimit}`);
    this.extraCharge = cap;
  }

  /** Bytes needed to write `n` more bytes without allocation beyond the current buffer. */
  wouldNeed(n: number): number {
    const room = this.buffers.length ? this.usable - (this.written - this.base - (this.buffers.length - 1) * this.usable) : 0;
    if (n <= room) return 0;
    return Math.ceil((n - room) / this.usable) * this.bufferSize;
  }

  /** Writes one packet (`head`, then `body` if any). Returns true when a buffer became full. */
  writePacket(kind: number, head: Uint8Array, body: Uint8Array | null): boolean {
    const start = this.written;
    let filled = this.write(head);
    if (body && this.write(body)) filled = true;
    if (this.pCount === this.pOff.length) this.growIndex();
    const slot = (this.pHead + this.pCount) & (this.pOff.length - 1);
    this.pOff[slot] = start;
    this.pLen[slot] = this.written - start;
    this.pKind[slot] = kind;
    this.pCount++;
    return filled;
  }

  private growIndex(): void {
    const cap = this.pOff.length;
    const off = new Float64Array(cap * 2);
    const len = new Uint32Array(cap * 2);
    const kind = new Uint8Array(cap * 2);
    for (let i = 0; i < this.pCount; i++) {
      const from = (this.pHead + i) & (cap - 1);
      off[i] = this.pOff[from];
      len[i] = this.pLen[from];
      kind[i] = this.pKind[from];
    }
    this.pOff = off;
    this.pLen = len;
    this.pKind = kind;
    this.pHead = 0;
  }

  /** Ring slot of absolute packet `index`, or -1 when it is not indexed. */
  private slot(index: number): number {
    const rel = index - this.pFirst;
    if (rel < 0 || rel >= this.pCount) return -1;
    return (this.pHead + rel) & (this.pOff.length - 1);
  }

  private write(src: Uint8Array): boolean {
    let off = 0;
    let filled = false;
    while (off < src.byteLength) {
      const pos = this.written - this.base;
      let idx = Math.floor(pos / this.usable);
      if (idx >= this.buffers.length) {
        this.allocate();
        idx = this.buffers.length - 1;
      }
      const inBuf = pos - idx * this.usable;
      const n = Math.min(this.usable - inBuf, src.byteLength - off);
      this.buffers[idx].set(n === src.byteLength ? src : src.subarray(off, off + n), inBuf);
      off += n;
      this.written += n;
      if (inBuf + n === this.usable) {
        filled = true;
        this.appended = this.written;
      }
    }
    return filled;
  }

  private allocate(): void {
    // a free-list charge is taken back first (already charged); otherwise the limit is checked
    if (this.freeCount > 0) this.freeCount--;
    else if (this.memLeft < this.bufferSize) {
      throw new KmpError("KMP_ERR_MEM_LIMIT", `memory limit of ${this.memLimit} bytes reached`);
    }
    this.buffers.push(this.pool.take(this.bufferSize) ?? new Uint8Array(this.bufferSize));
  }

  /** Makes everything written visible to upstreams. */
  appendAll(): void {
    this.appended = this.written;
  }

  /** Views of [start, end) (one per buffer crossed). */
  read(start: number, end: number): Uint8Array[] {
    if (start < this.base) throw new KmpError("KMP_ERR_RELEASED", `log offset ${start} was already released (base ${this.base})`);
    const out: Uint8Array[] = [];
    let pos = start;
    while (pos < end) {
      const rel = pos - this.base;
      const idx = Math.floor(rel / this.usable);
      const inBuf = rel - idx * this.usable;
      const n = Math.min(this.usable - inBuf, end - pos);
      out.push(this.buffers[idx].subarray(inBuf, inBuf + n));
      pos += n;
    }
    return out;
  }

  /** Copies [start, end) into one array. */
  copy(start: number, end: number): Uint8Array {
    const out = new Uint8Array(end - start);
    let o = 0;
    for (const v of this.read(start, end)) {
      out.set(v, o);
      o += v.byteLength;
    }
    return out;
  }

  /** Releases whole buffers that end at or before `offset` (the slowest upstream's ack). */
  release(offset: number): void {
    while (this.buffers.length > 0 && this.base + this.usable <= offset && this.base + this.usable <= this.written) {
      const b = this.buffers.shift()!;
      this.base += this.usable;
      if (this.freeCount < this.maxFreeBuffers) this.freeCount++;
      this.pool.give(b);
    }
    // drop packet index entries that end before the released base
    const mask = this.pOff.length - 1;
    while (this.pCount > 0 && this.pOff[this.pHead] + this.pLen[this.pHead] <= this.base) {
      this.pHead = (this.pHead + 1) & mask;
      this.pFirst++;
      this.pCount--;
    }
  }

  /** Frees everything (track inactive / destroyed); the buffers go to the shared pool. */
  clear(): void {
    this.base = this.written;
    for (const b of this.buffers) this.pool.give(b);
    this.buffers = [];
    this.freeCount = 0;
    this.release(this.written);
  }

  /** Absolute index of the first packet still indexed. */
  get firstPacket(): number {
    return this.pFirst;
  }

  get packetCount(): number {
    return this.pFirst + this.pCount;
  }

  /** Slots the packet index has room for (it grows by doubling). */
  get indexCapacity(): number {
    return this.pOff.length;
  }

  packet(index: number): { off: number; len: number; kind: number } | null {
    const i = this.slot(index);
    if (i < 0) return null;
    return { off: this.pOff[i], len: this.pLen[i], kind: this.pKind[i] };
  }

  // the walkers below ask only for indexed packets (firstPacket ≤ index < packetCount)
  packetOff(index: number): number {
    return this.pOff[this.slot(index)];
  }
  packetLen(index: number): number {
    return this.pLen[this.slot(index)];
  }
  packetKind(index: number): number {
    return this.pKind[this.slot(index)];
  }
}
