import { rollWindow } from "./rate-meter.ts";

/**
 * A stream's received media bytes — all, audio and video — each counted and figured as a
 * `RateMeter` (its own 10-second window), in one object: a message touches this one object
 * instead of two meters.
 */
export class AvRates {
  bytes = 0;
  audioBytes = 0;
  videoBytes = 0;
  private allStartMs: number;
  private allWindow = 0;
  private allBps = 0;
  private audioStartMs: number;
  private audioWindow = 0;
  private audioLastBps = 0;
  private videoStartMs: number;
  private videoWindow = 0;
  private videoLastBps = 0;
  private readonly windowMs: number;

  constructor(nowMs: number, windowMs = 10_000) {
    this.allStartMs = this.audioStartMs = this.videoStartMs = nowMs;
    this.windowMs = windowMs;
  }

  add(n: number, video: boolean, nowMs: number): void {
    const w = this.windowMs;
    if (nowMs - this.allStartMs >= w) this.rollAll(nowMs);
    this.bytes += n;
    this.allWindow += n;
    if (video) {
      if (nowMs - this.videoStartMs >= w) this.rollVideo(nowMs);
      this.videoBytes += n;
      this.videoWindow += n;
    } else {
      if (nowMs - this.audioStartMs >= w) this.rollAudio(nowMs);
      this.audioBytes += n;
      this.audioWindow += n;
    }
  }

  /** bit/s of the last complete window: all media, audio, video. */
  bps(nowMs: number): number {
    if (nowMs - this.allStartMs >= this.windowMs) this.rollAll(nowMs);
    return this.allBps;
  }

  audioBps(nowMs: number): number {
    if (nowMs - this.audioStartMs >= this.windowMs) this.rollAudio(nowMs);
    return this.audioLastBps;
  }

  videoBps(nowMs: number): number {
    if (nowMs - this.videoStartMs >= this.windowMs) this.rollVideo(nowMs);
    return this.videoLastBps;
  }

  private rollAll(nowMs: number): void {
    const r = rollWindow(this.allStartMs, this.allWindow, nowMs, this.windowMs);
    this.allBps = r.bps;
    this.allStartMs = r.startMs;
    this.allWindow = 0;
  }

  private rollAudio(nowMs: number): void {
    const r = rollWindow(this.audioStartMs, this.audioWindow, nowMs, this.windowMs);
    this.audioLastBps = r.bps;
    this.audioStartMs = r.startMs;
    this.audioWindow = 0;
  }

  private rollVideo(nowMs: number): void {
    const r = rollWindow(this.videoStartMs, this.videoWindow, nowMs, this.windowMs);
    this.videoLastBps = r.bps;
    this.videoStartMs = r.startMs;
    this.videoWindow = 0;
  }
}
