import { ProxyHeaderError } from "./errors.ts";
import type { NetAddr } from "../runtime/types.ts";

export { ProxyHeaderError };

/** v2 signature (HAProxy PROXY protocol §2.2). */
const V2_SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
/** v1 lines are at most 107 bytes with the CRLF (§2.1). */
const V1_MAX = 107;
/** v2: addresses plus TLVs; larger headers are refused (HAProxy sends well under this). */
const V2_MAX_BODY = 4096;

export type ProxyHeader = {
  /** Bytes the header took. */
  length: number;
  /** The original client, or null for `LOCAL` / `UNKNOWN` (use the socket's peer). */
  source: NetAddr | null;
  version: 1 | 2;
};

/**
 * Parses a PROXY protocol v1 or v2 header at the start of `b` (what arrived so far). Returns
 * null while more bytes are needed; throws ProxyHeaderError as soon as the bytes cannot be one.
 */
export function parseProxyHeader(b: Uint8Array): ProxyHeader | null {
  if (b.byteLength === 0) return null;
  if (b[0] === 0x0d) return parseV2(b);
  if (b[0] === 0x50) return parseV1(b);
  throw new ProxyHeaderError("PROXY_ERR_MISSING", `no PROXY protocol header (first byte 0x${b[0].toString(16).padStart(2, "0")})`);
}

function parseV1(b: Uint8Array): ProxyHeader | null {
  const prefix = "PROXY ";
  for (let i = 0; i < Math.min(prefix.length, b.byteLength); i++) {
    if (b[i] !== prefix.charCodeAt(i)) throw new ProxyHeaderError("PROXY_ERR_MISSING", "no PROXY protocol header");
  }
  let end = -1;
  for (let i = 0; i < Math.min(b.byteLength, V1_MAX); i++) {
    if (b[i] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    if (b.byteLength >= V1_MAX) throw new ProxyHeaderError("PROXY_ERR_TOO_LONG", `PROXY v1 line longer than ${V1_MAX} bytes`);
    return null;
  }
  if (end === 0 || b[end - 1] !== 0x0d) throw new ProxyHeaderError("PROXY_ERR_BAD_V1", "PROXY v1 line does not end with CRLF");
  const line = String.fromCharCode(...b.subarray(0, end - 1));
  const f = line.split(" ");
  if (f[1] === "UNKNOWN") return { length: end + 1, source: null, version: 1 };
  if (f.length !== 6 || (f[1] !== "TCP4" && f[1] !== "TCP6")) throw new ProxyHeaderError("PROXY_ERR_BAD_V1", `malformed PROXY v1 line '${line}'`);
  const [, proto, src, , sport] = f;
  const port = Number(sport);
  const okPort = /^\d{1,5}$/.test(sport) && port <= 65535;
  const okIp = proto === "TCP4" ? isIpv4(src) : /^[0-9a-fA-F:.]+$/.test(src) && src.includes(":");
  if (!okPort || !okIp || !/^\d{1,5}$/.test(f[5])) throw new ProxyHeaderError("PROXY_ERR_BAD_V1", `malformed PROXY v1 line '${line}'`);
  return { length: end + 1, source: { hostname: src, port }, version: 1 };
}

function parseV2(b: Uint8Array): ProxyHeader | null {
  for (let i = 0; i < Math.min(V2_SIG.length, b.byteLength); i++) {
    if (b[i] !== V2_SIG[i]) throw new ProxyHeaderError("PROXY_ERR_MISSING", "no PROXY protocol header");
  }
  if (b.byteLength < 16) return null;
  const verCmd = b[12];
  if (verCmd >> 4 !== 2) throw new ProxyHeaderError("PROXY_ERR_BAD_V2", `PROXY v2 version ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) throw new ProxyHeaderError("PROXY_ERR_BAD_V2", `PROXY v2 command ${cmd}`);
  const fam = b[13];
  const len = (b[14] << 8) | b[15];
  if (len > V2_MAX_BODY) throw new ProxyHeaderError("PROXY_ERR_TOO_LONG", `PROXY v2 header of ${len} bytes (limit ${V2_MAX_BODY})`);
  if (b.byteLength < 16 + len) return null;
  const length = 16 + len;
  if (cmd === 0) return { length, source: null, version: 2 }; // LOCAL: health checks
  const body = b.subarray(16, 16 + len);
  if (fam === 0x11) {
    if (len < 12) throw new ProxyHeaderError("PROXY_ERR_BAD_V2", `PROXY v2 TCP4 addresses need 12 bytes, got ${len}`);
    return { length, source: { hostname: `${body[0]}.${body[1]}.${body[2]}.${body[3]}`, port: (body[8] << 8) | body[9] }, version: 2 };
  }
  if (fam === 0x21) {
    if (len < 36) throw new ProxyHeaderError("PROXY_ERR_BAD_V2", `PROXY v2 TCP6 addresses need 36 bytes, got ${len}`);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((body[i] << 8) | body[i + 1]).toString(16));
    const v6 = compressV6(groups);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
    const hostname = mapped ? v4FromGroups(mapped[1], mapped[2]) : v6;
    return { length, source: { hostname, port: (body[32] << 8) | body[33] }, version: 2 };
  }
  return { length, source: null, version: 2 }; // UNSPEC / UNIX / UDP: keep the socket's peer
}

function isIpv4(s: string): boolean {
  const p = s.split(".");
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

function v4FromGroups(a: string, b: string): string {
  const x = parseInt(a, 16);
  const y = parseInt(b, 16);
  return `${x >> 8}.${x & 0xff}.${y >> 8}.${y & 0xff}`;
}

/** RFC 5952 text of eight hex groups: the longest run of ≥ 2 zero groups becomes `::`. */
function compressV6(g: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === "0") j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return g.join(":");
  return `${g.slice(0, best).join(":")}::${g.slice(best + bestLen).join(":")}`;
}
