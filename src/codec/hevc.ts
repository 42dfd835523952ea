import { unescapeRbsp } from "./avc.ts";
import { BitReader } from "./bit-reader.ts";

/**
 * HEVCDecoderConfigurationRecord: profile/level/NAL length size, and the picture size of its
 * first SPS (cropped by the conformance window) — the reference derives no size and reports
 * the metadata's.
 */
export type HevcConfig = { profileIdc: number; tierFlag: number; levelIdc: number; nalLengthSize: number; width: number; height: number };

const SPS_NAL = 33;

export function parseHevcConfig(rec: Uint8Array): HevcConfig | null {
  if (rec.byteLength < 23) return null;
  const cfg: HevcConfig = { profileIdc: rec[1] & 0x1f, tierFlag: (rec[1] >> 5) & 1, levelIdc: rec[12], nalLengthSize: (rec[21] & 3) + 1, width: 0, height: 0 };
  let off = 23;
  const arrays = rec[22];
  for (let a = 0; a < arrays && off + 3 <= rec.byteLength; a++) {
    const type = rec[off] & 0x3f;
    const count = (rec[off + 1] << 8) | rec[off + 2];
    off += 3;
    for (let n = 0; n < count && off + 2 <= rec.byteLength; n++) {
      const len = (rec[off] << 8) | rec[off + 1];
      off += 2;
      const nal = rec.subarray(off, Math.min(rec.byteLength, off + len));
      off += len;
      if (type === SPS_NAL && cfg.width === 0 && nal.byteLength > 2) {
        try {
          const size = parseHevcSpsSize(unescapeRbsp(nal.subarray(2)));
          cfg.width = size.width;
          cfg.height = size.height;
        } catch { /* truncated SPS: keep 0×0 */ }
      }
    }
  }
  return cfg;
}

/** Width/height from an HEVC SPS RBSP (after the 2-byte NAL header), H.265 §7.3.2.2. */
export function parseHevcSpsSize(rbsp: Uint8Array): { width: number; height: number } {
  const r = new BitReader(rbsp);
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  r.skip(1); // temporal_id_nesting
  // profile_tier_level(1, maxSubLayersMinus1): general part 88 bits + level 8
  r.skip(96);
  const subProfile: number[] = [];
  const subLevel: number[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.bit());
    subLevel.push(r.bit());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.skip(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  r.ue(); // sps_seq_parameter_set_id
  const chroma = r.ue();
  let separate = 0;
  if (chroma === 3) separate = r.bit();
  let width = r.ue();
  let height = r.ue();
  if (r.bit()) {
    // conformance window, in chroma sample units
    const arrayType = separate ? 0 : chroma;
    const subW = arrayType === 1 || arrayType === 2 ? 2 : 1;
    const subH = arrayType === 1 ? 2 : 1;
    const left = r.ue();
    const right = r.ue();
    const top = r.ue();
    const bottom = r.ue();
    width -= subW * (left + right);
    height -= subH * (top + bottom);
  }
  return { width, height };
}
