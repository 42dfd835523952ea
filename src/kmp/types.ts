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

/** One KMP `fram`: `data` is a view into the RTMP message payload (no copy yet). */
export type KmpFrame = {
  created: bigint;
  dts: bigint;
  key: boolean;
  ptsDelay: number;
  data: Uint8Array;
};
