/**
 * Bytes and frames per second for the last `seconds` seconds (the status page's graphs): a ring
 * of one-second buckets, filled as frames are counted — no timer, and nothing allocated until the
 * first frame. Seconds without a frame read as zero.
 */
export class RateHistory {
  private bytes: Uint32Array | null = null;
  private frames: Uint16Array | null = null;
  /** The second (ms / 1000, floored) of the newest bucket, and of the first frame. */
  private head = 0;
  private first = 0;
  /** What the current second (`head`) counted so far (not yet in the ring). */
  private curBytes = 0;
  private curFrames = 0;
  private readonly seconds: number;

  constructor(seconds = 120) {
    this.seconds = seconds;
  }

  /** Counts one frame. The current second is counted in two fields, moved into the ring when it ends. */
  count(bytes: number, nowMs: number): void {
    const sec = Math.floor(nowMs / 1000);
    if (sec !== this.head || !this.bytes) this.rollTo(sec);
    this.curBytes += bytes;
    this.curFrames++;
  }

  /** The current second ends: its counts go into the ring, and `sec` starts. */
  private rollTo(sec: number): void {
    if (!this.bytes) {
      this.bytes = new Uint32Array(this.seconds);
      this.frames = new Uint16Array(this.seconds);
      this.head = this.first = sec;
      return;
    }
    if (sec < this.head) return; // the clock stepped back: keep counting into the newest second
    this.store();
    this.advance(sec);
  }

  /** The counts of the current second into its bucket. */
  private store(): void {
    const i = this.head % this.seconds;
    this.bytes![i] = Math.min(0xffffffff, this.bytes![i] + this.curBytes);
    this.frames![i] = Math.min(0xffff, this.frames![i] + this.curFrames);
    this.curBytes = this.curFrames = 0;
  }

  /**
   * The complete seconds before `nowMs` since the first frame, at most `window` of them, oldest
   * first: bit/s and frames/s per second, the second the first one is (ms since the epoch / 1000),
   * and `window`, the seconds a full history spans. Empty before the first frame.
   */
  series(nowMs: number): { start: number; window: number; bitrate: number[]; frameRate: number[] } {
    const now = Math.floor(nowMs / 1000);
    const window = this.seconds - 1; // the current second is still filling
    if (!this.bytes) return { start: now, window, bitrate: [], frameRate: [] };
    if (now > this.head) this.rollTo(now);
    const start = Math.max(now - window, this.first);
    const n = Math.max(0, now - start);
    const bitrate: number[] = new Array(n);
    const frameRate: number[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const i = (start + k) % this.seconds;
      bitrate[k] = this.bytes[i] * 8;
      frameRate[k] = this.frames![i];
    }
    return { start, window, bitrate, frameRate };
  }

  /** Moves the newest bucket to `sec` (not before it), zeroing the seconds skipped (at most the whole ring). */
  private advance(sec: number): void {
    const gap = Math.min(sec - this.head, this.seconds);
    for (let k = 1; k <= gap; k++) {
      const i = (this.head + k) % this.seconds;
      this.bytes![i] = 0;
      this.frames![i] = 0;
    }
    this.head = sec;
  }
}
