/** What the RTMP side hands to a KMP track. Numbers are in the track's timescale unless named otherwise. */

export type VideoMediaInfo = {
  mediaType: "video";
  codecId: number;
  timescale: number;
  bitrate: number; // bit/s
  width: number;
  height: number;
  frameRate: { num: number; denom: number }; // 0/1 when unknown
  ceaCaptions: boolean;
  extraData: Uint8Array;
};

export type AudioMediaInfo = {
  mediaType: "audio";
  codecId: number;
  timescale: number;
  bitrate: number; // bit/s
  channels: number;
  bitsPerSample: number;
  sampleRate: number;
  channelLayout: bigint;
  extraData: Uint8Array;
};

export type MediaInfo = VideoMediaInfo | AudioMediaInfo;

/**
 * One KMP `fram`: `data` is a view into the RTMP message payload (no copy yet). `created` and
 * `dts` are int64 on the wire; in timescale units they stay far below 2^53 (the wall clock in
 * 90 kHz is about 1.6e14), so plain numbers carry them exactly.
 */
export type KmpFrame = {
  created: number;
  dts: number;
  key: boolean;
  ptsDelay: number;
  data: Uint8Array;
};
