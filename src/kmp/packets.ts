import { KmpError } from "./errors.ts";
import type { KmpFrame, MediaInfo } from "../media/types.ts";

/** KMP packet types (little-endian u32 of the ASCII code, kmp.md §1.2). */
export const KMP = {
  CONNECT: 0x74636e63,
  MEDIA_INFO: 0x666e696d,
  FRAME: 0x6d617266,
  NULL: 0x6c6c756e,
  END_OF_STREAM: 0x74736f65,
  ACK_FRAMES: 0x666b6361,
} as const;

export const PACKET_HEADER_SIZE = 16;
export const CONNECT_HEADER_SIZE = 104;
export const MEDIA_INFO_HEADER_SIZE = 48;
export const FRAME_HEADER_SIZE = 40;
export const ACK_SIZE = 40;
export const MAX_HEADER_SIZE = 64 * 1024;
export const MAX_DATA_SIZE = 16 * 1024 * 1024;
export const CONNECT_FLAG_CONSISTENT = 1;
export const MEDIA_TYPE = { video: 0, audio: 1, subtitle: 2 } as const;

function header(b: Uint8Array, v: DataView, type: number, headerSize: number, dataSize: number): void {
  v.setUint32(0, type, true);
  v.setUint32(4, headerSize, true);
  v.setUint32(8, dataSize, true);
  v.setUint32(12, 0, true);
}

const enc = new TextEncoder();

export type ConnectFields = {
  channelId: string;
  trackId: string;
  initialFrameId: bigint;
  initialUpstreamFrameId?: bigint;
  initialOffset?: number;
  flags?: number;
  data?: Uint8Array;
};

/** `cnct` (kmp.md §3): ids zero-padded to 32 bytes, no terminator at 32. */
export function encodeConnect(f: ConnectFields): Uint8Array {
  const data = f.data ?? new Uint8Array(0);
  const b = new Uint8Array(CONNECT_HEADER_SIZE + data.byteLength);
  const v = new DataView(b.buffer);
  header(b, v, KMP.CONNECT, CONNECT_HEADER_SIZE, data.byteLength);
  const ch = enc.encode(f.channelId);
  const tr = enc.encode(f.trackId);
  if (ch.byteLength > 32 || tr.byteLength > 32) throw new KmpError("KMP_ERR_ID_TOO_LONG", `channel/track id longer than 32 bytes`);
  b.set(ch, 16);
  b.set(tr, 48);
  v.setBigUint64(80, f.initialFrameId, true);
  v.setBigUint64(88, f.initialUpstreamFrameId ?? 0n, true);
  v.setUint32(96, f.initialOffset ?? 0, true);
  v.setUint32(100, f.flags ?? CONNECT_FLAG_CONSISTENT, true);
  b.set(data, CONNECT_HEADER_SIZE);
  return b;
}

/** `minf` (kmp.md §4): the 16-byte union zeroed, then the video or audio view. */
export function encodeMediaInfo(mi: MediaInfo): Uint8Array {
  const b = new Uint8Array(MEDIA_INFO_HEADER_SIZE + mi.extraData.byteLength);
  const v = new DataView(b.buffer);
  header(b, v, KMP.MEDIA_INFO, MEDIA_INFO_HEADER_SIZE, mi.extraData.byteLength);
  v.setUint32(16, MEDIA_TYPE[mi.mediaType], true);
  v.setUint32(20, mi.codecId, true);
  v.setUint32(24, mi.timescale, true);
  v.setUint32(28, mi.bitrate >>> 0, true);
  if (mi.mediaType === "video") {
    v.setUint16(32, mi.width, true);
    v.setUint16(34, mi.height, true);
    v.setUint32(36, mi.frameRate.num >>> 0, true);
    v.setUint32(40, mi.frameRate.denom >>> 0, true);
    v.setUint32(44, mi.ceaCaptions ? 1 : 0, true);
  } else {
    v.setUint16(32, mi.channels, true);
    v.setUint16(34, mi.bitsPerSample, true);
    v.setUint32(36, mi.sampleRate >>> 0, true);
    v.setBigUint64(40, mi.channelLayout, true);
  }
  b.set(mi.extraData, MEDIA_INFO_HEADER_SIZE);
  return b;
}

/** An int64 that a double holds exactly (|x| < 2^53), little-endian at `off`. */
function setInt64(v: DataView, off: number, x: number): void {
  const hi = Math.floor(x / 4294967296);
  v.setUint32(off, x - hi * 4294967296, true);
  v.setInt32(off + 4, hi, true);
}

/** Writes a 40-byte `fram` header at `off` of the view (kmp.md §5). */
export function writeFrameHeader(v: DataView, off: number, f: KmpFrame): void {
  v.setUint32(off, KMP.FRAME, true);
  v.setUint32(off + 4, FRAME_HEADER_SIZE, true);
  v.setUint32(off + 8, f.data.byteLength, true);
  v.setUint32(off + 12, 0, true);
  setInt64(v, off + 16, f.created);
  setInt64(v, off + 24, f.dts);
  v.setUint32(off + 32, f.key ? 1 : 0, true);
  v.setInt32(off + 36, f.ptsDelay, true);
}

/** A `fram` header on its own (the muxer writes a batch's headers into one buffer instead). */
export function encodeFrameHeader(f: KmpFrame): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_SIZE);
  writeFrameHeader(new DataView(b.buffer), 0, f);
  return b;
}

/** A whole `fram` packet (header + payload copy). */
export function encodeFrame(f: KmpFrame): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_SIZE + f.data.byteLength);
  writeFrameHeader(new DataView(b.buffer), 0, f);
  b.set(f.data, FRAME_HEADER_SIZE);
  return b;
}

function bare(type: number): Uint8Array {
  const b = new Uint8Array(PACKET_HEADER_SIZE);
  header(b, new DataView(b.buffer), type, PACKET_HEADER_SIZE, 0);
  return b;
}

export const EOST: Uint8Array = bare(KMP.END_OF_STREAM);
export const NULL_PACKET: Uint8Array = bare(KMP.NULL);

export type Ack = { frameId: bigint; upstreamFrameId: bigint; offset: number };

export function encodeAck(a: Ack): Uint8Array {
  const b = new Uint8Array(ACK_SIZE);
  const v = new DataView(b.buffer);
  header(b, v, KMP.ACK_FRAMES, ACK_SIZE, 0);
  v.setBigUint64(16, a.frameId, true);
  v.setBigUint64(24, a.upstreamFrameId, true);
  v.setUint32(32, a.offset, true);
  return b;
}

/** One 40-byte `ackf` record (kmp.md §8): anything else is a protocol error for that upstream. */
export function parseAck(rec: Uint8Array): Ack {
  if (rec.byteLength < ACK_SIZE) throw new KmpError("KMP_ERR_BAD_ACK", `ack record of ${rec.byteLength} bytes`);
  const v = new DataView(rec.buffer, rec.byteOffset, ACK_SIZE);
  const type = v.getUint32(0, true);
  const hs = v.getUint32(4, true);
  const ds = v.getUint32(8, true);
  if (type !== KMP.ACK_FRAMES) throw new KmpError("KMP_ERR_BAD_ACK", `packet type 0x${type.toString(16)} where an ackf was expected`);
  if (hs !== ACK_SIZE) throw new KmpError("KMP_ERR_BAD_ACK", `ackf header_size ${hs} (expected 40)`);
  if (ds !== 0) throw new KmpError("KMP_ERR_BAD_ACK", `ackf data_size ${ds} (expected 0)`);
  return { frameId: v.getBigUint64(16, true), upstreamFrameId: v.getBigUint64(24, true), offset: v.getUint32(32, true) };
}

/** Collects 40-byte ack records from arbitrary socket splits. */
export class AckReader {
  private buf = new Uint8Array(ACK_SIZE);
  private have = 0;

  /** Returns the complete records in `chunk` (throws KMP_ERR_BAD_ACK on a malformed one). */
  push(chunk: Uint8Array): Ack[] {
    const out: Ack[] = [];
    let off = 0;
    while (off < chunk.byteLength) {
      if (this.have === 0 && chunk.byteLength - off >= ACK_SIZE) {
        out.push(parseAck(chunk.subarray(off, off + ACK_SIZE)));
        off += ACK_SIZE;
        continue;
      }
      const n = Math.min(ACK_SIZE - this.have, chunk.byteLength - off);
      this.buf.set(chunk.subarray(off, off + n), this.have);
      this.have += n;
      off += n;
      if (this.have === ACK_SIZE) {
        out.push(parseAck(this.buf));
        this.have = 0;
      }
    }
    return out;
  }
}
