/** MSB-first bit reader with exp-Golomb codes (H.264/HEVC parameter sets, AAC configs). */
export class BitReader {
  private readonly b: Uint8Array;
  private pos = 0; // in bits
  private readonly end: number;

  constructor(b: Uint8Array) {
    this.b = b;
    this.end = b.byteLength * 8;
  }

  get bitsLeft(): number {
    return this.end - this.pos;
  }

  bit(): number {
    if (this.pos >= this.end) throw new RangeError("bit reader: out of data");
    const v = (this.b[this.pos >> 3] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  skip(n: number): void {
    if (this.pos + n > this.end) throw new RangeError("bit reader: out of data");
    this.pos += n;
  }

  /** Unsigned exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new RangeError("bit reader: exp-Golomb code too long");
    }
    if (zeros === 0) return 0;
    // a shift, not `2 **`: its result is a heap number, and the fields it reached (a stream's
    // width and height) became doubles — new layouts, and optimized code thrown away; 31 zeros
    // only in a broken stream
    return zeros < 31 ? (1 << zeros) - 1 + this.bits(zeros) : 2 ** 31 - 1 + this.bits(31);
  }

  /** Signed exp-Golomb. */
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}
