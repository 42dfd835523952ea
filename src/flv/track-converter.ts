import { toRational } from "../codec/frame-rate.ts";
import { FlvError } from "./errors.ts";
import type { KmpFrame, MediaInfo } from "../media/types.ts";
import type { StreamCodecState } from "./codec-state.ts";
import type { MediaTag } from "./tag.ts";

export type ConvertResult =
  | { kind: "sequence-header" }
  | { kind: "empty" }
  | { kind: "frame"; mediaInfo: MediaInfo | null; frame: KmpFrame };

const EMPTY: ConvertResult = Object.freeze({ kind: "empty" });
const SEQUENCE_HEADER: ConvertResult = Object.freeze({ kind: "sequence-header" });

/** KMP codec ids of Enhanced RTMP FourCCs (KMP has none for AV1, VP9, FLAC). */
const VIDEO_FOURCC: Record<string, number> = { hvc1: 8, hev1: 8, avc1: 7 };
const AUDIO_FOURCC: Record<string, number> = { Opus: 1018, "ac-3": 1016, "ec-3": 1017, mp4a: 1010, ".mp3": 1002 };
const AAC = 1010;

/** The KMP codec id of a tag's codec: legacy FLV ids as the reference maps them, FourCCs by table; null when KMP has none (AV1, VP9, FLAC, …). */
export function kmpCodecId(media: "video" | "audio", tag: MediaTag): number | null {
  if (!tag.enhanced) return media === "video" ? tag.codecId : 1000 + tag.codecId;
  const map = media === "video" ? VIDEO_FOURCC : AUDIO_FOURCC;
  return (tag.fourcc !== null ? map[tag.fourcc] : undefined) ?? null;
}

/** How a log line names a tag's codec: the FourCC, or the legacy FLV id. */
export function codecName(tag: MediaTag): string {
  return tag.fourcc ?? `flv codec id ${tag.codecId}`;
}

/**
 * Milliseconds from `prev` to `ts` across a wrap: RTMP timestamps wrap at 2^32 (the signed
 * 32-bit difference covers it), ffmpeg's FLV muxer wraps them at 2^31 (it masks the extension
 * byte with 0x7f). A step back of more than 2^30 ms (12 days) is such a wrap, so a 30-day
 * channel keeps an increasing dts (the reference falls back to about 0).
 */
export function unwrapDelta(ts: number, prev: number): number {
  const d = (ts - prev) | 0;
  return d < -0x4000_0000 ? d + 0x8000_0000 : d;
}

/**
 * Metadata kbit/s → the u32 bit/s of `minf` and the events (spec §3.3: truncated to whole kbit/s,
 * × 1000). A value outside u32 (1e306, negative) is 0, as the reference writes: every number in
 * an event body stays finite and in range.
 */
export function kbpsToBitrate(kbps: number): number {
  const bps = Math.trunc(kbps) * 1000;
  return Number.isFinite(bps) && bps >= 0 && bps <= 0xffffffff ? bps : 0;
}

/**
 * RTMP audio/video messages of one track → KMP media info and frames (spec §3.2-3.3, §4):
 * header bytes stripped per codec, dts from the unwrapped RTMP clock, AAC sync to the
 * 1024-sample grid, a new media info after every sequence header.
 */
/** The `created` time (KMP timescale) of the frames being converted now (one read per batch). */
export interface CreatedClock {
  created(): number;
}

export class TrackConverter {
  readonly mediaType: "video" | "audio";
  readonly timescale: number;
  /** Timescale ticks per RTMP millisecond. */
  readonly rtmpScale: number;
  private readonly marginTicks: number;
  private readonly state: StreamCodecState;
  private extraData: Uint8Array = new Uint8Array(0);
  private needMediaInfo = true;
  private started = false;
  private prevTs = 0;
  /** Unwrapped RTMP time of the last frame, ms (API `last_timestamp`). */
  lastTimestampMs = 0;
  /** The media info of the last `minf` (drives the audio sync). */
  mediaInfo: MediaInfo | null = null;
  /** The sample rate audio sync counts by: the media info's, for AAC; else 0 (no sync). A field, so a frame reads no media info. */
  private syncRate = 0;
  private baseDts = 0;
  private samples = 0;

  constructor(o: { mediaType: "video" | "audio"; timescale: number; audioSyncMarginMs: number; state: StreamCodecState }) {
    this.mediaType = o.mediaType;
    this.timescale = o.timescale;
    this.rtmpScale = Math.floor(o.timescale / 1000);
    this.marginTicks = Math.floor((o.audioSyncMarginMs * o.timescale) / 1000);
    this.state = o.state;
  }

  /** One parsed tag of this converter's track; `clock` gives its frame's `created` time. */
  convertTag(tag: MediaTag, rtmpTimestamp: number, clock: CreatedClock): ConvertResult {
    const video = this.mediaType === "video";
    if (tag.kind === "skip") return EMPTY;
    const codecId = kmpCodecId(this.mediaType, tag);
    if (codecId === null) throw new FlvError("FLV_ERR_UNSUPPORTED_CODEC", `${this.mediaType} codec '${codecName(tag)}' has no KMP codec id`);
    if (tag.kind === "sequence-header") {
      this.extraData = tag.data.slice();
      this.needMediaInfo = true;
      return SEQUENCE_HEADER;
    }
    if (tag.data.byteLength === 0) return EMPTY;

    let mediaInfo: MediaInfo | null = null;
    if (this.needMediaInfo) {
      mediaInfo = this.buildMediaInfo(codecId, tag.enhanced);
      this.needMediaInfo = false;
    }
    const created = clock.created();
    if (!this.started) {
      this.started = true;
      this.lastTimestampMs = rtmpTimestamp;
    } else {
      this.lastTimestampMs += unwrapDelta(rtmpTimestamp, this.prevTs);
    }
    this.prevTs = rtmpTimestamp;
    let dts = this.lastTimestampMs * this.rtmpScale;
    if (!video) dts = this.syncAudio(dts);
    if (mediaInfo) {
      this.mediaInfo = mediaInfo;
      this.syncRate = mediaInfo.mediaType === "audio" && mediaInfo.codecId === AAC ? mediaInfo.sampleRate : 0;
    }
    const frame: KmpFrame = { created, dts, key: tag.key, ptsDelay: tag.cts * this.rtmpScale, data: tag.data };
    return { kind: "frame", mediaInfo, frame };
  }


  /** AAC only (spec §4.2): snap dts to base + samples·timescale/rate when within the margin. */
  private syncAudio(dts: number): number {
    const rate = this.syncRate;
    if (rate === 0) return dts;
    // integer division as the reference's uint64 arithmetic (samples × timescale stays < 2^53 for years)
    const expected = this.baseDts + Math.floor((this.samples * this.timescale) / rate);
    if (dts >= expected - this.marginTicks && dts <= expected + this.marginTicks) dts = expected;
    else {
      this.baseDts = dts;
      this.samples = 0;
    }
    this.samples += 1024;
    return dts;
  }

  private buildMediaInfo(codecId: number, enhanced: boolean): MediaInfo {
    const s = this.state;
    if (this.mediaType === "video") {
      return {
        mediaType: "video",
        codecId,
        timescale: this.timescale,
        bitrate: kbpsToBitrate(s.videoDataRate),
        width: s.width & 0xffff,
        height: s.height & 0xffff,
        frameRate: toRational(s.frameRate),
        ceaCaptions: s.ceaCaptions,
        extraData: this.extraData,
      };
    }
    const channels = s.audioChannels || 2;
    const extra = codecId === AAC || (enhanced && codecId === 1018) ? this.extraData : new Uint8Array(0);
    return {
      mediaType: "audio",
      codecId,
      timescale: this.timescale,
      bitrate: kbpsToBitrate(s.audioDataRate),
      channels,
      bitsPerSample: s.sampleSize * 8,
      sampleRate: s.sampleRate,
      channelLayout: s.channelLayout ?? (channels === 1 ? 0x4n : 0x3n),
      extraData: extra,
    };
  }
}
