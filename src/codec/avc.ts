import { BitReader } from "./bit-reader.ts";

export type AvcConfig = { profile: number; compat: number; level: number; nalLengthSize: number; width: number; height: number };

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/**
 * AVCDecoderConfigurationRecord and the size from its first SPS (spec §2.2). Unlike the
 * reference, emulation-prevention bytes are removed and the crop is read in the units of the
 * stream's chroma format (the reference assumes 4:2:0 and announces 640x360 4:4:4 as 640x352).
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
    const size = parseSpsSize(unescapeRbsp(sps.subarray(1)));
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

/** NAL payload → RBSP: every `00 00 03` loses its emulation-prevention byte (H.264 §7.4.1). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  let i = 2;
  for (; i < nal.byteLength; i++) if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) break;
  if (i >= nal.byteLength) return nal;
  const out = new Uint8Array(nal.byteLength);
  let n = 0;
  let zeros = 0;
  for (let j = 0; j < nal.byteLength; j++) {
    const b = nal[j];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Width/height from an SPS RBSP (after the NAL header byte), cropped (H.264 §7.4.2.1.1). */
export function parseSpsSize(rbsp: Uint8Array): { width: number; height: number } {
  const r = new BitReader(rbsp);
  const profile = r.bits(8);
  r.skip(16); // constraint flags, level
  r.ue(); // sps id
  let chroma = 1; // 4:2:0 unless a high profile says otherwise
  let separatePlanes = 0;
  if (HIGH_PROFILES.has(profile)) {
    chroma = r.ue();
    if (chroma === 3) separatePlanes = r.bit();
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
  // crop units: SubWidthC × (SubHeightC · (2 − frame_mbs_only)); monochrome / separate planes: 1 × (2 − frame_mbs_only)
  const arrayType = separatePlanes ? 0 : chroma;
  const subW = arrayType === 1 || arrayType === 2 ? 2 : 1;
  const subH = arrayType === 1 ? 2 : 1;
  const unitY = subH * (2 - frameMbsOnly);
  return { width: wMbs * 16 - subW * (cl + cr), height: (2 - frameMbsOnly) * hMaps * 16 - unitY * (ct + cb) };
}
