/**
 * Double → rational with numerator and denominator ≤ `max` by continued fractions, as FFmpeg's
 * av_d2q/av_reduce do (30 → 30/1, 29.97 → 2997/100, 29.96969… → 989/33, 0 → 0/1).
 */
export function toRational(d: number, max = 1_000_000): { num: number; denom: number } {
  if (!Number.isFinite(d) || d <= 0) return { num: 0, denom: 1 };
  if (d > 2147483647 + 3) return { num: 1, denom: 0 };
  const exponent = Math.max(Math.floor(Math.log2(d)) + 1 - 1, 0);
  const den = 1n << BigInt(62 - exponent);
  const num = BigInt(Math.floor(d * Number(den) + 0.5));
  const r = reduce(num, den, BigInt(max));
  return { num: Number(r[0]), denom: Number(r[1]) };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

function reduce(num: bigint, den: bigint, max: bigint): [bigint, bigint] {
  let a0: [bigint, bigint] = [0n, 1n];
  let a1: [bigint, bigint] = [1n, 0n];
  const g = gcd(num, den);
  if (g) {
    num /= g;
    den /= g;
  }
  if (num <= max && den <= max) {
    a1 = [num, den];
    den = 0n;
  }
  while (den) {
    let x = num / den;
    const nextDen = num - den * x;
    const a2n = x * a1[0] + a0[0];
    const a2d = x * a1[1] + a0[1];
    if (a2n > max || a2d > max) {
      if (a1[0]) x = (max - a0[0]) / a1[0];
      if (a1[1]) {
        const y = (max - a0[1]) / a1[1];
        if (y < x) x = y;
      }
      if (den * (2n * x * a1[1] + a0[1]) > num * a1[1]) a1 = [x * a1[0] + a0[0], x * a1[1] + a0[1]];
      break;
    }
    a0 = a1;
    a1 = [a2n, a2d];
    num = den;
    den = nextDen;
  }
  return a1;
}
