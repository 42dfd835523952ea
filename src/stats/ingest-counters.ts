import { RateMeter } from "./rate-meter.ts";

/**
 * A server's totals, counted where the bytes and frames pass (sessions and tracks hold it), read
 * by the API and `/metrics`: connections accepted, RTMP bytes in/out with their rates, RTMP
 * audio/video messages in, and the KMP output of tracks already closed.
 */
export class IngestCounters {
  naccepted = 0;
  readonly bytesIn: RateMeter;
  readonly bytesOut: RateMeter;
  readonly framesIn = { video: 0, audio: 0 };
  readonly closedTracks = { frames: 0, bytes: 0 };

  constructor(nowMs: number) {
    this.bytesIn = new RateMeter(nowMs);
    this.bytesOut = new RateMeter(nowMs);
  }
}
