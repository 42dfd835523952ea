import { readFileSync } from "node:fs";
import { readFlv } from "../src/flv/reader.ts";
import { encodeMessage } from "../src/rtmp/chunk-encoder.ts";
import { ChunkStreamEncoder } from "../test/helpers/chunk-stream-encoder.ts";

/** Audio/video messages of an FLV file as an encoder would send them (csid 4 audio, 6 video, msid 1). */
export type BenchMessage = { csid: number; type: number; timestamp: number; payload: Uint8Array };

export function flvMessages(path: string): BenchMessage[] {
  const out: BenchMessage[] = [];
  for (const t of readFlv(new Uint8Array(readFileSync(path)))) {
    if (t.type === 8 || t.type === 9) out.push({ csid: t.type === 8 ? 4 : 6, type: t.type, timestamp: t.timestamp, payload: t.body });
  }
  return out;
}

/** The chunk stream of `loops` back-to-back copies of the messages (timestamps keep increasing). */
/**
 * Whether a tag becomes a KMP frame: any non-AVC video or non-AAC audio tag; an AVC or AAC tag
 * only if it is not a sequence header (packet type 0) and carries data after its header.
 */
export function isFrame(m: BenchMessage): boolean {
  return m.type === 9 ? (m.payload[0] & 0x0f) !== 7 || (m.payload[1] !== 0 && m.payload.length > 5) : (m.payload[0] >> 4) !== 10 || (m.payload[1] !== 0 && m.payload.length > 2);
}

export function chunkStream(msgs: BenchMessage[], chunkSize: number, loops: number): { bytes: Uint8Array; messages: number } {
  const enc = new ChunkStreamEncoder(chunkSize);
  // announce the chunk size first, as every encoder does
  const scs = encodeMessage({ csid: 2, msid: 0, type: 1, payload: Uint8Array.of(chunkSize >>> 24, (chunkSize >> 16) & 0xff, (chunkSize >> 8) & 0xff, chunkSize & 0xff) }, 128);
  const parts: Uint8Array[] = [scs];
  let total = scs.length;
  const span = (msgs.at(-1)?.timestamp ?? 0) + 40;
  for (let l = 0; l < loops; l++) {
    for (const m of msgs) {
      const b = enc.encode({ csid: m.csid, msid: 1, type: m.type, timestamp: m.timestamp + l * span, payload: m.payload });
      parts.push(b);
      total += b.length;
    }
  }
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const p of parts) bytes.set(p, off), (off += p.length);
  return { bytes, messages: msgs.length * loops + 1 };
}
