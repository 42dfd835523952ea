import type { AmfValue } from "../rtmp/amf0.ts";
import { StreamCodecState } from "./codec-state.ts";
import { parseAudioTags, parseVideoTags, tagScratch, type MediaTag } from "./tag.ts";

/**
 * The codec state of each track of one stream: track 0 (every single-track publisher), and each
 * Enhanced-RTMP multitrack track ≥ 1, which gets its own state and its own metadata (the
 * track-id info maps), created at its first tag.
 */
export class StreamCodecs {
  readonly main = new StreamCodecState();
  private readonly others = new Map<number, StreamCodecState>();
  private lastMetadata: AmfValue[] | null = null;
  /** Where a legacy audio / video tag is parsed: one tag per message, read before the next one. */
  private readonly audioTag = tagScratch();
  private readonly videoTag = tagScratch();

  of(index: number): StreamCodecState {
    if (index === 0) return this.main;
    let c = this.others.get(index);
    if (!c) {
      c = new StreamCodecState();
      if (this.lastMetadata) c.onMetadata(this.lastMetadata, index);
      this.others.set(index, c);
    }
    return c;
  }

  /**
   * One audio or video message: its tags — a ManyTracks multitrack message carries several, each
   * parsed once — applied to their tracks' codec states (spec §0: the codec layer sees every
   * message first). Throws an `FlvError` when a tag is malformed. A single-track (legacy) tag is
   * this stream's scratch, overwritten by the next message: read it before then, keep none of it
   * but its `data` view.
   */
  onMedia(video: boolean, payload: Uint8Array): MediaTag[] {
    const tags = video ? parseVideoTags(payload, this.videoTag) : parseAudioTags(payload, this.audioTag);
    for (const tag of tags) {
      const c = this.of(tag.trackId);
      if (video) c.onVideoTag(tag);
      else c.onAudioTag(tag);
    }
    return tags;
  }

  /** `onMetaData` for every track: the top level for track 0, the track-id info maps for the others. */
  onMetadata(values: AmfValue[]): void {
    this.lastMetadata = values;
    this.main.onMetadata(values);
    for (const [index, c] of this.others) c.onMetadata(values, index);
  }
}
