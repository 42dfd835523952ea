/** Display names of KMP codec ids (kmp.md §4.3: video ids are FLV CodecIDs, audio ids 1000 + SoundFormat). */
const NAMES: Record<number, string> = {
  1: "JPEG", 2: "H.263", 3: "Screen video", 4: "VP6", 5: "VP6 alpha", 6: "Screen video 2", 7: "H.264", 8: "H.265",
  1000: "PCM", 1001: "ADPCM", 1002: "MP3", 1003: "PCM LE", 1004: "Nellymoser 16k", 1005: "Nellymoser 8k", 1006: "Nellymoser",
  1007: "G.711 A-law", 1008: "G.711 µ-law", 1010: "AAC", 1011: "Speex", 1014: "MP3 8k", 1016: "AC-3", 1017: "E-AC-3", 1018: "Opus",
  2001: "WebVTT",
};

export function kmpCodecName(id: number): string {
  return NAMES[id] ?? `codec ${id}`;
}
