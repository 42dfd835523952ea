import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HandshakeServer } from "../../src/rtmp/handshake.ts";
import { SCENARIOS } from "./paths.ts";

/** Scenarios that ship raw client→server RTMP bytes. */
export function rawRtmpScenarios(): string[] {
  if (!existsSync(SCENARIOS)) return [];
  return readdirSync(SCENARIOS).filter((s) => existsSync(join(SCENARIOS, s, "rtmp", "conn1_c2s.bin"))).sort();
}

export function readBin(scenario: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SCENARIOS, scenario, "rtmp", name)));
}

/** The chunk-stream bytes after C0+C1+C2. */
export function afterHandshake(c2s: Uint8Array): Uint8Array {
  return c2s.subarray(1 + 1536 + 1536);
}

export function handshakeOf(c2s: Uint8Array): HandshakeServer {
  const hs = new HandshakeServer();
  hs.push(c2s.subarray(0, 1537 + 1536));
  return hs;
}

/** `msg#N csid=… type=…(Name) msid=… ts=… len=… [md5=…]` lines of a fixture's decoded dump. */
export type DumpLine = { n: number; csid: number; type: number; msid: number; ts: number; len: number; md5?: string };

export function readDump(scenario: string, name: string): { lines: DumpLine[]; total: number } {
  const text = readFileSync(join(SCENARIOS, scenario, "rtmp", name), "utf8");
  const lines: DumpLine[] = [];
  for (const m of text.matchAll(/^msg#(\d+) csid=(\d+) type=(\d+)\S* msid=(\d+) ts=(\d+) len=(\d+)(?:.*md5=([0-9a-f]{32}))?/gm)) {
    lines.push({ n: +m[1], csid: +m[2], type: +m[3], msid: +m[4], ts: +m[5], len: +m[6], md5: m[7] });
  }
  const total = Number(/total messages=(\d+)/.exec(text)?.[1] ?? NaN);
  return { lines, total };
}

/** Deterministic pseudo-random split points. */
export function* randomSplits(b: Uint8Array, seed: number, maxPiece = 3000): Generator<Uint8Array> {
  let s = seed >>> 0;
  let off = 0;
  while (off < b.byteLength) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const n = 1 + (s % maxPiece);
    yield b.subarray(off, Math.min(b.byteLength, off + n));
    off += n;
  }
}
