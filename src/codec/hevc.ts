/** HEVCDecoderConfigurationRecord: profile/level/NAL length size (the reference derives no size). */
export type HevcConfig = { profileIdc: number; tierFlag: number; levelIdc: number; nalLengthSize: number };

export function parseHevcConfig(rec: Uint8Array): HevcConfig | null {
  if (rec.byteLength < 23) return null;
  return { profileIdc: rec[1] & 0x1f, tierFlag: (rec[1] >> 5) & 1, levelIdc: rec[12], nalLengthSize: (rec[21] & 3) + 1 };
}
