import type { ApplicationConfig } from "../config/types.ts";
import { StreamCodecs } from "../flv/stream-codecs.ts";
import type { TrackConverter } from "../flv/track-converter.ts";
import type { KmpTrack } from "../kmp/track.ts";
import type { TrackWrite } from "../kmp/muxer.ts";
import { AvRates } from "../stats/av-rates.ts";

export type MediaKind = "video" | "audio";

/** Publish info recorded by the KMP layer on `publish` (spec §1.9). */
export type PublishInfo = { name: string; args: string; type: string };

/**
 * One output track of a stream: the converter (RTMP → KMP frames) and the KMP track it feeds.
 * `index` is the Enhanced-RTMP multitrack track id (0 for every single-track publisher). A track
 * whose codec KMP cannot carry has no KMP track: `unsupported` names the codec.
 */
export type StreamTrack = {
  media: MediaKind;
  index: number;
  converter: TrackConverter;
  track: KmpTrack | null;
  unsupported: string | null;
  /** Frames of the current batch, handed to the track once per socket read. */
  pending: TrackWrite[];
};

/** The key of a stream's track: `video`, `audio`, or `video/1`… for multitrack tracks ≥ 1. */
export const trackKey = (media: MediaKind, index: number): string => (index === 0 ? media : `${media}/${index}`);

/**
 * One message stream created by `createStream`: its codec states, its publish info and its
 * output tracks (spec §0, §2, §3).
 */
export class RtmpStream {
  readonly id: number;
  readonly codecs = new StreamCodecs();
  /** Set by `publish` when the application has a publish URL (KMP output enabled). */
  publish: PublishInfo | null = null;
  /** Accepted by the live layer (listed in the API). */
  live = false;
  liveName = "";
  /** Received a publish at all (for Unpublish.Success on close). */
  publishing = false;
  /** The published name without its `?args`. */
  name = "";
  /** By `trackKey`, in the order they appeared (`addTrack`, `clearTracks`). */
  readonly tracks = new Map<string, StreamTrack>();
  /** Track 0 of each media (every single-track publisher's only ones): found without a key. */
  private video0: StreamTrack | null = null;
  private audio0: StreamTrack | null = null;
  /** Media bytes received (all, audio, video) and their bit rates. */
  readonly bytesIn: AvRates;
  readonly createdMs: number;
  app: ApplicationConfig | null = null;

  constructor(id: number, nowMs: number) {
    this.id = id;
    this.createdMs = nowMs;
    this.bytesIn = new AvRates(nowMs);
  }

  /** The track of `media` with multitrack id `index`, if it was created. */
  track(video: boolean, index: number): StreamTrack | undefined {
    if (index === 0) return (video ? this.video0 : this.audio0) ?? undefined;
    return this.tracks.get(trackKey(video ? "video" : "audio", index));
  }

  addTrack(st: StreamTrack): void {
    this.tracks.set(trackKey(st.media, st.index), st);
    if (st.index !== 0) return;
    if (st.media === "video") this.video0 = st;
    else this.audio0 = st;
  }

  clearTracks(): void {
    this.tracks.clear();
    this.video0 = this.audio0 = null;
  }

  /** Its tracks in the reference's order: video before audio, then by multitrack id. */
  orderedTracks(): StreamTrack[] {
    return [...this.tracks.values()].sort((a, b) => (a.media === b.media ? a.index - b.index : a.media === "video" ? -1 : 1));
  }
}
