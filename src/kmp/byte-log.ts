import { KmpError } from "./errors.ts";
import type { BufferPool } from "../bytes/buffer-pool.ts";
import { objectList } from "../object-list.ts";
import { mutableField } from "../mutable-field.ts";

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
  private buffers: Uint8Array[] = objectList();
  /** `buffers.length`, kept in a field: the memory checks before every write read it, not the array. */
  private held = 0;
  /** Absolute offset of buffers[0]. */
  private base = 0;
  /** The last buffer (the one being written; null when there is none) and its absolute offset. */
  private tail: Uint8Array | null = null;
  private tailStart = 0;
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

  // packet index: a ring of packets [pFirst, pFirst + pCount), packet pFirst at slot pHead, in
  // one typed array of two numbers per slot — the offset, and size × 4 + kind — so a write
  // touches one array; it grows by doubling and never reallocates once big enough (growing JS
  // arrays here were most of what the old generation collected)
  private pIdx = new Float64Array(2 * 16);
  private pCap = 16;
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
    // first written when an acked buffer is released (see mutableField)
    mutableField(this, "freeCount", 1);
  }

  /** Memory left under the limit (buffers in use and kept for reuse, plus extra data). */
  get memLeft(): number {
    return this.memLimit - (this.held + this.freeCount) * this.bufferSize - this.extraCharge;
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
    const room = this.held ? this.usable - (this.written - this.base - (this.held - 1) * this.usable) : 0;
    if (n <= room) return 0;
    return Math.ceil((n - room) / this.usable) * this.bufferSize;
  }

  /** Writes one packet (`head`, then `body` if any). Returns true when a buffer became full. */
  writePacket(kind: number, head: Uint8Array, body: Uint8Array | null): boolean {
    const start = this.written;
    let filled = this.write(head);
    if (body && this.write(body)) filled = true;
    if (this.pCount === this.pCap) this.growIndex();
    const at = 2 * ((this.pHead + this.pCount) & (this.pCap - 1));
    this.pIdx[at] = start;
    this.pIdx[at + 1] = (this.written - start) * 4 + kind;
    this.pCount++;
    return filled;
  }

  private growIndex(): void {
    const cap = this.pCap;
    const idx = new Float64Array(4 * cap);
    for (let i = 0; i < this.pCount; i++) {
      const from = 2 * ((this.pHead + i) & (cap - 1));
      idx[2 * i] = this.pIdx[from];
      idx[2 * i + 1] = this.pIdx[from + 1];
    }
    this.pIdx = idx;
    this.pCap = 2 * cap;
    this.pHead = 0;
  }

  /** Ring slot of absolute packet `index`, or -1 when it is not indexed. */
  private slot(index: number): number {
    const rel = index - this.pFirst;
    if (rel < 0 || rel >= this.pCount) return -1;
    return (this.pHead + rel) & (this.pCap - 1);
  }

  /** Size and kind of the packet in ring slot `slot` (stored as size × 4 + kind). */
  private lenAt(slot: number): number {
    return Math.floor(this.pIdx[2 * slot + 1] / 4);
  }
  private kindAt(slot: number): number {
    return this.pIdx[2 * slot + 1] % 4;
  }

  private write(src: Uint8Array): boolean {
    const len = src.byteLength;
    let off = 0;
    let filled = false;
    while (off < len) {
      let inBuf = this.written - this.tailStart;
      if (this.tail === null || inBuf >= this.usable) {
        this.allocate();
        inBuf = this.written - this.tailStart;
      }
      const n = Math.min(this.usable - inBuf, len - off);
      this.tail!.set(n === len ? src : src.subarray(off, off + n), inBuf);
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
    const b = this.pool.take(this.bufferSize) ?? this.pool.alloc(this.bufferSize);
    this.buffers.push(b);
    this.held++;
    this.tail = b;
    this.tailStart = this.base + (this.held - 1) * this.usable;
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
    while (this.held > 0 && this.base + this.usable <= offset && this.base + this.usable <= this.written) {
      const b = this.buffers.shift()!;
      this.held--;
      if (b === this.tail) this.tail = null;
      this.base += this.usable;
      if (this.freeCount < this.maxFreeBuffers) this.freeCount++;
      this.pool.give(b);
    }
    // drop packet index entries that end before the released base
    const mask = this.pCap - 1;
    while (this.pCount > 0 && this.pIdx[2 * this.pHead] + this.lenAt(this.pHead) <= this.base) {
      this.pHead = (this.pHead + 1) & mask;
      this.pFirst++;
      this.pCount--;
    }
  }

  /** Frees everything (track inactive / destroyed); the buffers go to the shared pool. */
  clear(): void {
    this.base = this.written;
    for (const b of this.buffers) this.pool.give(b);
    this.buffers.length = 0;
    this.held = 0;
    this.tail = null;
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
    return this.pCap;
  }

  packet(index: number): { off: number; len: number; kind: number } | null {
    const i = this.slot(index);
    if (i < 0) return null;
    return { off: this.pIdx[2 * i], len: this.lenAt(i), kind: this.kindAt(i) };
  }

  // the walkers below ask only for indexed packets (firstPacket ≤ index < packetCount)
  packetOff(index: number): number {
    return this.pIdx[2 * this.slot(index)];
  }
  packetLen(index: number): number {
    return this.lenAt(this.slot(index));
  }
  packetKind(index: number): number {
    return this.kindAt(this.slot(index));
  }
}
