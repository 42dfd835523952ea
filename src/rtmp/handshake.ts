import { createHmac, randomBytes } from "node:crypto";
import { RtmpError } from "./errors.ts";

/** Handshake sizes (spec §1.2). */
export const C1_SIZE = 1536;

const GENUINE_FP = "Genuine Adobe Flash Player 001";
const GENUINE_FMS = "Genuine Adobe Flash Media Server 001";
const KEY_TAIL = Uint8Array.from([
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57,
  0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
]);
const ascii = (s: string) => new TextEncoder().encode(s);
/** Partial keys (the ASCII part) and full keys (ASCII + 32 bytes). */
export const CLIENT_KEY_PARTIAL = ascii(GENUINE_FP);
export const SERVER_KEY_PARTIAL = ascii(GENUINE_FMS);
export const SERVER_KEY_FULL = Uint8Array.from([...SERVER_KEY_PARTIAL, ...KEY_TAIL]);
export const CLIENT_KEY_FULL = Uint8Array.from([...CLIENT_KEY_PARTIAL, ...KEY_TAIL]);

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Offset of the 32-byte digest for a scheme with base 8 or 772 (spec §1.2). */
export function digestOffset(buf: Uint8Array, base: number): number {
  return ((buf[base] + buf[base + 1] + buf[base + 2] + buf[base + 3]) % 728) + base + 4;
}

/** HMAC over the 1536-byte block minus the digest field. */
export function computeDigest(buf: Uint8Array, pos: number, key: Uint8Array): Uint8Array {
  return hmacSha256(key, buf.subarray(0, pos), buf.subarray(pos + 32, C1_SIZE));
}

/** Finds a valid client digest (base 772 first, then 8); returns its offset or -1. */
export function findDigest(c1: Uint8Array, key: Uint8Array): number {
  for (const base of [772, 8]) {
    const pos = digestOffset(c1, base);
    const want = computeDigest(c1, pos, key);
    let ok = true;
    for (let i = 0; i < 32; i++) {
      if (c1[pos + i] !== want[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return pos;
  }
  return -1;
}

export type HandshakeStep = { send: Uint8Array[]; done: boolean; rest: Uint8Array | null };

/**
 * Server side of the RTMP handshake, fed bytes as they arrive. Chooses the digest ("complex")
 * variant when C1 has a non-zero version and a valid digest, else the simple echo (spec §1.2).
 */
export class HandshakeServer {
  /** "simple" or "digest", once C1 was seen. */
  variant: "simple" | "digest" | null = null;
  private buf = new Uint8Array(1 + C1_SIZE + C1_SIZE);
  private have = 0;
  private sent = false;
  private readonly now: () => number;
  private readonly random: (n: number) => Uint8Array;

  constructor(opts: { now?: () => number; random?: (n: number) => Uint8Array } = {}) {
    this.now = opts.now ?? (() => Date.now());
    this.random = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
  }

  push(bytes: Uint8Array): HandshakeStep {
    const total = this.buf.byteLength;
    const take = Math.min(bytes.byteLength, total - this.have);
    this.buf.set(bytes.subarray(0, take), this.have);
    this.have += take;
    const send: Uint8Array[] = [];
    if (this.have >= 1 && this.buf[0] !== 3) {
      throw new RtmpError("RTMP_ERR_HANDSHAKE_VERSION", `handshake version byte is 0x${this.buf[0].toString(16)}, expected 0x03`);
    }
    if (!this.sent && this.have >= 1 + C1_SIZE) {
      this.sent = true;
      send.push(...this.reply(this.buf.subarray(1, 1 + C1_SIZE)));
    }
    if (this.have >= total) {
      return { send, done: true, rest: take < bytes.byteLength ? bytes.subarray(take) : null };
    }
    return { send, done: false, rest: null };
  }

  private reply(c1: Uint8Array): Uint8Array[] {
    const version = (c1[4] | c1[5] | c1[6] | c1[7]) !== 0;
    const clientDigestPos = version ? findDigest(c1, CLIENT_KEY_PARTIAL) : -1;
    if (clientDigestPos < 0) {
      this.variant = "simple";
      const s0s1 = new Uint8Array(1 + C1_SIZE);
      s0s1[0] = 3;
      s0s1.set(c1, 1);
      return [s0s1, c1.slice()];
    }
    this.variant = "digest";
    const s0s1 = new Uint8Array(1 + C1_SIZE);
    s0s1[0] = 3;
    const s1 = s0s1.subarray(1);
    s1.set(this.random(C1_SIZE));
    const t = this.now() >>> 0;
    s1[0] = (t >>> 24) & 0xff;
    s1[1] = (t >>> 16) & 0xff;
    s1[2] = (t >>> 8) & 0xff;
    s1[3] = t & 0xff;
    s1.set([0x0d, 0x0e, 0x0a, 0x0d], 4);
    const pos = digestOffset(s1, 8);
    s1.set(computeDigest(s1, pos, SERVER_KEY_PARTIAL), pos);
    const clientDigest = c1.subarray(clientDigestPos, clientDigestPos + 32);
    const s2 = this.random(C1_SIZE);
    const key = hmacSha256(SERVER_KEY_FULL, clientDigest);
    s2.set(hmacSha256(key, s2.subarray(0, C1_SIZE - 32)), C1_SIZE - 32);
    return [s0s1, s2];
  }
}
