import { BitReader } from "./bit-reader.ts";

/** What an AC-3 / E-AC-3 sync frame says about the stream (ATSC A/52 §5.3 and Annex E). */
export type Ac3Info = { sampleRate: number; channels: number; channelLayout: bigint };

const RATES = [48000, 44100, 32000];
const REDUCED_RATES = [24000, 22050, 16000];
/** Full-bandwidth channels per `acmod` (1+1, 1/0, 2/0, 3/0, 2/1, 3/1, 2/2, 3/2). */
const ACMOD_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];
/** Channel masks per `acmod` (FL 0x1, FR 0x2, FC 0x4, LFE 0x8, BC 0x100, SL 0x200, SR 0x400), as FFmpeg lays them out. */
const ACMOD_LAYOUT = [0x3n, 0x4n, 0x3n, 0x7n, 0x103n, 0x107n, 0x603n, 0x607n];
const LFE = 0x8n;

/** The first sync frame of `b` (it must start with the 0x0B77 sync word); null if it is not one. */
export function parseAc3Frame(b: Uint8Array): Ac3Info | null {
  if (b.byteLength < 8 || b[0] !== 0x0b || b[1] !== 0x77) return null;
  const bsid = b[5] >> 3;
  const r = new BitReader(b.subarray(2));
  try {
    let rate: number;
    let acmod: number;
    if (bsid <= 10) {
      // AC-3: crc1, fscod, frmsizecod, bsid, bsmod, acmod, [cmixlev] [surmixlev] [dsurmod], lfeon
      r.skip(16);
      const fscod = r.bits(2);
      if (fscod === 3) return null;
      rate = RATES[fscod];
      r.skip(6 + 5 + 3);
      acmod = r.bits(3);
      if ((acmod & 1) && acmod !== 1) r.skip(2);
      if (acmod & 4) r.skip(2);
      if (acmod === 2) r.skip(2);
    } else if (bsid <= 16) {
      // E-AC-3: strmtyp, substreamid, frmsiz, fscod, [fscod2 | numblkscod], acmod, lfeon
      r.skip(2 + 3 + 11);
      const fscod = r.bits(2);
      if (fscod === 3) {
        const fscod2 = r.bits(2);
        if (fscod2 === 3) return null;
        rate = REDUCED_RATES[fscod2];
      } else {
        rate = RATES[fscod];
        r.skip(2);
      }
      acmod = r.bits(3);
    } else return null;
    const lfe = r.bit();
    return {
      sampleRate: rate,
      channels: ACMOD_CHANNELS[acmod] + lfe,
      channelLayout: lfe ? ACMOD_LAYOUT[acmod] | LFE : ACMOD_LAYOUT[acmod],
    };
  } catch {
    return null; // truncated
  }
}
