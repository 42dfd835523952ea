import { createHash } from "node:crypto";
import { readFlv } from "../../src/flv/reader.ts";
import type { ReceivedConnection } from "../../src/tools/kmp-receiver.ts";

export const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

export type ExpectedFrame = { md5: string; size: number; ts: number; key: boolean };

/**
 * The frames an FLV file must become on KMP (fixtures README §5.6): H.264 bodies minus 5 bytes,
 * AAC minus 2, other audio minus 1; sequence headers and empty payloads are not frames.
 */
export function expectedFrames(flv: Uint8Array): { video: ExpectedFrame[]; audio: ExpectedFrame[] } {
  const video: ExpectedFrame[] = [];
  const audio: ExpectedFrame[] = [];
  for (const tag of readFlv(flv)) {
    const b = tag.body;
    if (b.length === 0) continue;
    if (tag.type === 9) {
      const codec = b[0] & 0x0f;
      if (codec === 7) {
        if (b[1] === 0) continue;
        const data = b.subarray(5);
        if (data.length) video.push({ md5: md5(data), size: data.length, ts: tag.timestamp, key: b[0] >> 4 === 1 });
      } else {
        const data = b.subarray(1);
        if (data.length) video.push({ md5: md5(data), size: data.length, ts: tag.timestamp, key: false });
      }
    } else if (tag.type === 8) {
      const fmt = b[0] >> 4;
      const skip = fmt === 10 ? 2 : 1;
      if (fmt === 10 && b[1] === 0) continue;
      const data = b.subarray(skip);
      if (data.length) audio.push({ md5: md5(data), size: data.length, ts: tag.timestamp, key: false });
    }
  }
  return { video, audio };
}

/** Frames a receiver got on one track, in order, de-duplicated across reconnects by frame id. */
export function receivedFrames(conns: ReceivedConnection[]): { id: bigint; md5: string; size: number; key: boolean; dts: bigint }[] {
  const byId = new Map<bigint, { id: bigint; md5: string; size: number; key: boolean; dts: bigint }>();
  for (const c of conns) {
    let id = c.initialFrameId;
    for (const p of c.packets) {
      if (p.type !== "fram") continue;
      const v = new DataView(p.header.buffer, p.header.byteOffset);
      if (!byId.has(id)) byId.set(id, { id, md5: md5(p.data), size: p.data.length, key: (v.getUint32(32, true) & 1) === 1, dts: v.getBigInt64(24, true) });
      id++;
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}
