/** Outgoing RTMP framing (spec §1.5): a fmt-0 header per message, fmt-3 continuation chunks. */

export type OutgoingMessage = { csid: number; msid: number; type: number; timestamp?: number; payload: Uint8Array };

export function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

export function writeBasicHeader(out: Uint8Array, off: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[off] = (fmt << 6) | csid;
    return off + 1;
  }
  if (csid < 320) {
    out[off] = fmt << 6;
    out[off + 1] = csid - 64;
    return off + 2;
  }
  out[off] = (fmt << 6) | 1;
  out[off + 1] = (csid - 64) & 0xff;
  out[off + 2] = (csid - 64) >> 8;
  return off + 3;
}

/** Encodes one message at the given outgoing chunk size. */
export function encodeMessage(msg: OutgoingMessage, chunkSize: number): Uint8Array {
  const ts = (msg.timestamp ?? 0) >>> 0;
  const ext = ts >= 0xffffff;
  const len = msg.payload.byteLength;
  const chunks = Math.max(1, Math.ceil(len / chunkSize));
  const bh = basicHeaderSize(msg.csid);
  const size = bh + 11 + (ext ? 4 : 0) + len + (chunks - 1) * (bh + (ext ? 4 : 0));
  const out = new Uint8Array(size);
  let o = writeBasicHeader(out, 0, 0, msg.csid);
  const t = ext ? 0xffffff : ts;
  out[o++] = (t >>> 16) & 0xff;
  out[o++] = (t >>> 8) & 0xff;
  out[o++] = t & 0xff;
  out[o++] = (len >>> 16) & 0xff;
  out[o++] = (len >>> 8) & 0xff;
  out[o++] = len & 0xff;
  out[o++] = msg.type;
  out[o++] = msg.msid & 0xff;
  out[o++] = (msg.msid >>> 8) & 0xff;
  out[o++] = (msg.msid >>> 16) & 0xff;
  out[o++] = (msg.msid >>> 24) & 0xff;
  const writeExt = () => {
    out[o++] = (ts >>> 24) & 0xff;
    out[o++] = (ts >>> 16) & 0xff;
    out[o++] = (ts >>> 8) & 0xff;
    out[o++] = ts & 0xff;
  };
  if (ext) writeExt();
  for (let off = 0; off < len; off += chunkSize) {
    if (off > 0) {
      o = writeBasicHeader(out, o, 3, msg.csid);
      if (ext) writeExt();
    }
    const n = Math.min(chunkSize, len - off);
    out.set(msg.payload.subarray(off, off + n), o);
    o += n;
  }
  return out;
}
