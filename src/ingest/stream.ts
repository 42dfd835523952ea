import type { ApplicationConfig } from "../config/types.ts";
import { StreamCodecState } from "../flv/codec-state.ts";
import { TrackConverter } from "../flv/track-converter.ts";
import type { KmpTrack } from "../kmp/track.ts";
import type { TrackWrite } from "../kmp/muxer.ts";
import { RateMeter } from "../stats/rate-meter.ts";

export type MediaKind = "video" | "audio";

/** Publish info recorded by the KMP layer on `publish` (spec §1.9). */
export type PublishInfo = { name: string; args: string; type: string };

/** One output track of a stream: the converter (RTMP → KMP frames) and the KMP track it feeds. */
export type StreamTrack = {
  converter: TrackConverter;
  track: KmpTrack;
  /** Frames of the current batch, handed to the track once per socket read. */
  pending: TrackWrite[];
};

/**
 * One message stream created by `createStream`: its codec state, its publish info and up to two
 * output tracks (spec §0, §2, §3).
 */
export class RtmpStream {
  readonly id: number;
  readonly codec = new StreamCodecState();
  /** Set by `publish` when the application has a publish URL (KMP output enabled). */
  publish: PublishInfo | null = null;
  /** Accepted by the live layer (listed in the API). */
  live = false;
  liveName = "";
  /** Received a publish at all (for Unpublish.Success on close). */
  publishing = false;
  /** The published name without its `?args`. */
  name = "";
  readonly tracks: { video: StreamTrack | null; audio: StreamTrack | null } = { video: null, audio: null };
  readonly bytesIn: RateMeter;
  readonly bytesInAudio: RateMeter;
  readonly bytesInVideo: RateMeter;
  readonly createdMs: number;
  app: ApplicationConfig | null = null;

  constructor(id: number, nowMs: number) {
    this.id = id;
    this.createdMs = nowMs;
    this.bytesIn = new RateMeter(nowMs);
    this.bytesInAudio = new RateMeter(nowMs);
    this.bytesInVideo = new RateMeter(nowMs);
  }
}
