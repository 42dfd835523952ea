import { concat as concatParts } from "../src/bytes/bytes.ts";

/** Seeded mutation of byte inputs: the same seed gives the same inputs on every runtime. */

/** xorshift32: small, fast and the same everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** 0 ≤ n < max */
  below(max: number): number {
    return max <= 1 ? 0 : this.next() % max;
  }
}

const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x02, 0x03, 0x05, 0x09, 0x0a, 0x10, 0x1f, 0x40];
const INTERESTING_F64 = [1e306, -1, -1e306, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 4294967296, 0.5, 1e-300];
const INTERESTING_32 = [0, 1, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x00ffffff];

/**
 * One mutant of `seed` (1–8 edits: bit flips, byte and u32 overwrites with boundary values,
 * inserts, deletes, duplicated ranges, splices from `other`, truncation).
 */
export function mutate(seed: Uint8Array, other: Uint8Array, rng: Rng, maxLen = 1 << 20): Uint8Array {
  let b: Uint8Array = seed.slice();
  const edits = 1 + rng.below(8);
  for (let e = 0; e < edits; e++) {
    const n = b.length;
    switch (rng.below(10)) {
      case 0: // bit flip
        if (n) b[rng.below(n)] ^= 1 << rng.below(8);
        break;
      case 1: // random byte
        if (n) b[rng.below(n)] = rng.below(256);
        break;
      case 2: // boundary byte
        if (n) b[rng.below(n)] = INTERESTING_8[rng.below(INTERESTING_8.length)];
        break;
      case 3: { // boundary u32, either byte order
        if (n < 4) break;
        const at = rng.below(n - 3);
        const v = INTERESTING_32[rng.below(INTERESTING_32.length)];
        const be = rng.below(2) === 0;
        for (let i = 0; i < 4; i++) b[at + i] = (v >>> (be ? 24 - 8 * i : 8 * i)) & 0xff;
        break;
      }
      case 4: { // insert random bytes
        const at = rng.below(n + 1);
        const k = 1 + rng.below(16);
        const ins = new Uint8Array(k);
        for (let i = 0; i < k; i++) ins[i] = rng.below(256);
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 5: { // delete a range
        if (!n) break;
        const at = rng.below(n);
        const k = 1 + rng.below(Math.min(64, n - at));
        b = concat(b.subarray(0, at), b.subarray(at + k));
        break;
      }
      case 6: { // duplicate a range
        if (!n) break;
        const at = rng.below(n);
        const k = 1 + rng.below(Math.min(256, n - at));
        b = concat(b.subarray(0, at + k), b.subarray(at, at + k), b.subarray(at + k));
        break;
      }
      case 7: { // splice from another seed
        if (!other.length) break;
        const from = rng.below(other.length);
        const k = 1 + rng.below(Math.min(512, other.length - from));
        const at = rng.below(n + 1);
        b = concat(b.subarray(0, at), other.subarray(from, from + k), b.subarray(Math.min(n, at + k)));
        break;
      }
      case 8: { // boundary double (AMF0 numbers are big-endian f64)
        if (n < 8) break;
        const at = rng.below(n - 7);
        new DataView(b.buffer, b.byteOffset).setFloat64(at, INTERESTING_F64[rng.below(INTERESTING_F64.length)]);
        break;
      }
      default: // truncate
        if (n) b = b.slice(0, rng.below(n));
    }
  }
  return b.length > maxLen ? b.slice(0, maxLen) : b;
}

const concat = (...parts: Uint8Array[]): Uint8Array => concatParts(parts);

/** Deterministic split points of `b` (to feed incremental parsers piece by piece). */
export function* pieces(b: Uint8Array, rng: Rng): Generator<Uint8Array> {
  const mode = rng.below(3);
  if (mode === 0) {
    yield b;
    return;
  }
  let off = 0;
  while (off < b.length) {
    const k = mode === 1 ? 1 + rng.below(8) : 1 + rng.below(4096);
    yield b.subarray(off, off + k);
    off += k;
  }
}
