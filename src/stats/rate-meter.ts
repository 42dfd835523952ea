/**
 * Byte counter with the reference's bandwidth figure: bits per second averaged over
 * 10-second windows, reporting the last complete window (0 once a whole window passed idle).
 */
export class RateMeter {
  bytes = 0;
  private windowStartMs: number;
  private windowBytes = 0;
  private lastBps = 0;
  private readonly windowMs: number;

  constructor(nowMs: number, windowMs = 10_000) {
    this.windowStartMs = nowMs;
    this.windowMs = windowMs;
  }

  add(n: number, nowMs: number): void {
    this.roll(nowMs);
    this.bytes += n;
    this.windowBytes += n;
  }

  /** bit/s of the last complete window. */
  bps(nowMs: number): number {
    this.roll(nowMs);
    return this.lastBps;
  }

  private roll(nowMs: number): void {
    const elapsed = nowMs - this.windowStartMs;
    if (elapsed < this.windowMs) return;
    if (elapsed >= 2 * this.windowMs) {
      this.lastBps = 0;
      this.windowStartMs = nowMs;
    } else {
      this.lastBps = Math.floor((this.windowBytes * 8 * 1000) / elapsed);
      this.windowStartMs += this.windowMs;
    }
    this.windowBytes = 0;
  }
}
