import { BitReader } from "./bit-reader.ts";

export const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export type Asc = { objectType: number; sampleRate: number; channelConfig: number };

/** AudioSpecificConfig (spec §2.1): SBR/PS extension rate replaces the sample rate. */
export function parseAsc(b: Uint8Array): Asc | null {
  try {
    const r = new BitReader(b);
    const objectType = () => {
      const t = r.bits(5);
      return t === 31 ? 32 + r.bits(6) : t;
    };
    const rate = () => {
      const i = r.bits(4);
      return i === 15 ? r.bits(24) : AAC_RATES[i] ?? 0;
    };
    let ot = objectType();
    let sampleRate = rate();
    const channelConfig = r.bits(4);
    if (ot === 5 || ot === 29) {
      sampleRate = rate();
      ot = objectType();
    }
    return { objectType: ot, sampleRate, channelConfig };
  } catch {
    return null;
  }
}
