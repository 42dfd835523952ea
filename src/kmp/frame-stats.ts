import type { KmpFrame } from "../media/types.ts";
import { RateHistory } from "../stats/rate-history.ts";

/**
 * What a track wrote, for the API (spec §5.2): frame counts, the last `created`, and bitrate /
 * frame rate recomputed every 10 s from the previous window (kept when more than 15 s passed);
 * it is the track's per-second history too (`series`, the status page's graphs), one object
 * that a frame touches rather than two.
 */
export class FrameStats extends RateHistory {
  sentFrames = 0;
  sentKeyFrames = 0;
  lastCreated = 0;
  /** bit/s of the frame payloads (40-byte headers excluded). */
  bitrate = 0;
  frameRate = 0;
  private windowStartMs: number;
  private windowFrames = 0;
  private windowBytes = 0;

  constructor(nowMs: number) {
    super();
    this.windowStartMs = nowMs;
  }

  add(f: KmpFrame, nowMs: number): void {
    this.sentFrames++;
    if (f.key) this.sentKeyFrames++;
    this.lastCreated = f.created;
    this.count(f.data.byteLength, nowMs);
    const elapsed = nowMs - this.windowStartMs;
    if (elapsed >= 10_000) {
      if (elapsed <= 15_000) {
        this.bitrate = Math.floor((this.windowBytes * 8 * 1000) / elapsed);
        this.frameRate = (this.windowFrames * 1000) / elapsed;
      }
      this.windowStartMs = nowMs;
      this.windowBytes = 0;
      this.windowFrames = 0;
    }
    this.windowBytes += f.data.byteLength;
    this.windowFrames++;
  }
}
