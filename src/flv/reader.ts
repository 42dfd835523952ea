/** One FLV tag: `body` is a view into the file bytes. */
export type FlvTag = { type: number; timestamp: number; streamId: number; body: Uint8Array; offset: number };

/** Reads the tags of an FLV file (header, then tag header + body + previous-tag-size). */
export function* readFlv(file: Uint8Array): Generator<FlvTag> {
  if (file.byteLength < 9 || file[0] !== 0x46 || file[1] !== 0x4c || file[2] !== 0x56) throw new Error("not an FLV file");
  const headerSize = ((file[5] << 24) | (file[6] << 16) | (file[7] << 8) | file[8]) >>> 0;
  let off = headerSize + 4;
  while (off + 11 <= file.byteLength) {
    const type = file[off] & 0x1f;
    const size = (file[off + 1] << 16) | (file[off + 2] << 8) | file[off + 3];
    const timestamp = ((file[off + 7] << 24) | (file[off + 4] << 16) | (file[off + 5] << 8) | file[off + 6]) >>> 0;
    const streamId = (file[off + 8] << 16) | (file[off + 9] << 8) | file[off + 10];
    if (off + 11 + size > file.byteLength) return;
    yield { type, timestamp, streamId, body: file.subarray(off + 11, off + 11 + size), offset: off };
    off += 11 + size + 4;
  }
}
