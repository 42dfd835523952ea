import { basicHeaderSize, writeBasicHeader, type OutgoingMessage } from "../../src/rtmp/chunk-encoder.ts";

type CsState = { timestamp: number; length: number; type: number; msid: number; started: boolean };

/**
 * A client-style encoder with header compression (fmt 1/2/3 when fields repeat), as encoders
 * such as ffmpeg send: used by tests and benches to build realistic input.
 */
export class ChunkStreamEncoder {
  chunkSize: number;
  private readonly state = new Map<number, CsState>();

  constructor(chunkSize = 128) {
    this.chunkSize = chunkSize;
  }

  encode(msg: OutgoingMessage): Uint8Array {
    const ts = (msg.timestamp ?? 0) >>> 0;
    const len = msg.payload.byteLength;
    const prev = this.state.get(msg.csid);
    let fmt = 0;
    let field = ts;
    if (prev && prev.started && prev.msid === msg.msid && ts >= prev.timestamp) {
      const delta = ts - prev.timestamp;
      if (prev.length === len && prev.type === msg.type) fmt = 2;
      else fmt = 1;
      field = delta;
    }
    this.state.set(msg.csid, { timestamp: ts, length: len, type: msg.type, msid: msg.msid, started: true });
    const ext = field >= 0xffffff;
    const bh = basicHeaderSize(msg.csid);
    const hlen = fmt === 0 ? 11 : fmt === 1 ? 7 : 3;
    const chunks = Math.max(1, Math.ceil(len / this.chunkSize));
    const out = new Uint8Array(bh + hlen + (ext ? 4 : 0) + len + (chunks - 1) * (bh + (ext ? 4 : 0)));
    let o = writeBasicHeader(out, 0, fmt, msg.csid);
    const f = ext ? 0xffffff : field;
    out[o++] = (f >>> 16) & 0xff;
    out[o++] = (f >>> 8) & 0xff;
    out[o++] = f & 0xff;
    if (fmt <= 1) {
      out[o++] = (len >>> 16) & 0xff;
      out[o++] = (len >>> 8) & 0xff;
      out[o++] = len & 0xff;
      out[o++] = msg.type;
      if (fmt === 0) {
        out[o++] = msg.msid & 0xff;
        out[o++] = (msg.msid >>> 8) & 0xff;
        out[o++] = (msg.msid >>> 16) & 0xff;
        out[o++] = (msg.msid >>> 24) & 0xff;
      }
    }
    const writeExt = () => {
      out[o++] = (field >>> 24) & 0xff;
      out[o++] = (field >>> 16) & 0xff;
      out[o++] = (field >>> 8) & 0xff;
      out[o++] = field & 0xff;
    };
    if (ext) writeExt();
    for (let off = 0; off < len; off += this.chunkSize) {
      if (off > 0) {
        o = writeBasicHeader(out, o, 3, msg.csid);
        if (ext) writeExt();
      }
      const n = Math.min(this.chunkSize, len - off);
      out.set(msg.payload.subarray(off, off + n), o);
      o += n;
    }
    return out;
  }
}
