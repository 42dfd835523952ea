/**
 * CEA-608/708 caption detection in H.264/HEVC SEI (spec §2.2): a user_data_registered_itu_t_t35
 * payload (type 4) starting `B5 00 31 47 41 39 34` (USA, ATSC, "GA94").
 */
const GA94 = [0xb5, 0x00, 0x31, 0x47, 0x41, 0x39, 0x34];

export function hasCaptions(nals: Uint8Array, nalLengthSize: number, hevc: boolean): boolean {
  let off = 0;
  while (off + nalLengthSize <= nals.byteLength) {
    let len = 0;
    for (let i = 0; i < nalLengthSize; i++) len = len * 256 + nals[off + i];
    off += nalLengthSize;
    if (len === 0 || off + len > nals.byteLength) return false;
    const nal = nals.subarray(off, off + len);
    off += len;
    const type = hevc ? (nal[0] >> 1) & 0x3f : nal[0] & 0x1f;
    if (type !== (hevc ? 39 : 6)) continue;
    let p = hevc ? 2 : 1;
    while (p < nal.byteLength && nal[p] !== 0x80) {
      let ptype = 0;
      while (p < nal.byteLength && nal[p] === 0xff) ptype += nal[p++];
      if (p >= nal.byteLength) break;
      ptype += nal[p++];
      let psize = 0;
      while (p < nal.byteLength && nal[p] === 0xff) psize += nal[p++];
      if (p >= nal.byteLength) break;
      psize += nal[p++];
      if (ptype === 4 && p + 7 <= nal.byteLength && GA94.every((b, i) => nal[p + i] === b)) return true;
      p += psize;
    }
  }
  return false;
}
