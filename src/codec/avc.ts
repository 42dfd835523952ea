import { BitReader } from "./bit-reader.ts";

export type AvcConfig = { profile: number; compat: number; level: number; nalLengthSize: number; width: number; height: number };

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/**
 * AVCDecoderConfigurationRecord and the size from its first SPS (spec §2.2). Like the reference,
 * emulation-prevention bytes are not removed; crops assume 4:2:0.
 */
export function parseAvcConfig(rec: Uint8Array): AvcConfig | null {
  if (rec.byteLength < 7) return null;
  const cfg: AvcConfig = { profile: rec[1], compat: rec[2], level: rec[3], nalLengthSize: (rec[4] & 3) + 1, width: 0, height: 0 };
  const numSps = rec[5] & 0x1f;
  if (numSps < 1 || rec.byteLength < 8) return cfg;
  const len = (rec[6] << 8) | rec[7];
  const sps = rec.subarray(8, 8 + len);
  if (sps.byteLength < 4 || (sps[0] & 0x1f) !== 7) return cfg;
  try {
    const size = parseSpsSize(sps.subarray(1));
    cfg.width = size.width;
    cfg.height = size.height;
  } catch { /* truncated SPS: keep 0×0 */ }
  return cfg;
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Width/height from an SPS RBSP (after the NAL header byte). */
export function parseSpsSize(rbsp: Uint8Array): { width: number; height: number } {
  const r = new BitReader(rbsp);
  const profile = r.bits(8);
  r.skip(16); // constraint flags, level
  r.ue(); // sps id
  if (HIGH_PROFILES.has(profile)) {
    const chroma = r.ue();
    if (chroma === 3) r.skip(1);
    r.ue();
    r.ue();
    r.skip(1);
    if (r.bit()) {
      for (let i = 0; i < (chroma !== 3 ? 8 : 12); i++) if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.skip(1);
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.skip(1);
  const wMbs = r.ue() + 1;
  const hMaps = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.skip(1);
  r.skip(1);
  let cl = 0, cr = 0, ct = 0, cb = 0;
  if (r.bit()) {
    cl = r.ue();
    cr = r.ue();
    ct = r.ue();
    cb = r.ue();
  }
  return { width: wMbs * 16 - 2 * (cl + cr), height: (2 - frameMbsOnly) * hMaps * 16 - 2 * (ct + cb) };
}
