import { toHex } from "../bytes/bytes.ts";
import type { MediaInfo } from "../media/types.ts";

/** `num/denom` as the reference prints it: `%d.%02d`, truncated (30000/1001 → 29.97, 989/33 → 29.96). */
export function frameRateText(num: number, denom: number): string {
  if (denom === 0) return "0.00";
  const int = Math.floor(num / denom);
  const frac = Math.floor(((num % denom) * 100) / denom);
  return `${int}.${frac < 10 ? "0" : ""}${frac}`;
}

/** The control events' `media_info` object, compact, keys in the reference's order (spec §6.4). */
export function mediaInfoJson(mi: MediaInfo): string {
  if (mi.mediaType === "video") {
    return `{"media_type":"video","bitrate":${mi.bitrate},"codec_id":${mi.codecId},"extra_data":"${toHex(mi.extraData)}",` +
      `"width":${mi.width},"height":${mi.height},"frame_rate":${frameRateText(mi.frameRate.num, mi.frameRate.denom)},` +
      `"cea_captions":${mi.ceaCaptions ? "true" : "false"}}`;
  }
  return `{"media_type":"audio","bitrate":${mi.bitrate},"codec_id":${mi.codecId},"extra_data":"${toHex(mi.extraData)}",` +
    `"channels":${mi.channels},"channel_layout":"${mi.channelLayout.toString(16)}","bits_per_sample":${mi.bitsPerSample},` +
    `"sample_rate":${mi.sampleRate}}`;
}
