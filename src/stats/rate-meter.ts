/** The figure of a window that ended and where the next one starts (`RateMeter`'s rule). */
export type RolledWindow = { bps: number; startMs: number };

/**
 * A window that started at `startMs` and counted `windowBytes` has ended (`nowMs` is at least
 * `windowMs` past its start): its bit/s over the time it spanned, or 0 once a whole window
 * passed idle (then the next window starts now).
 */
export function rollWindow(startMs: number, windowBytes: number, nowMs: number, windowMs: number): RolledWindow {
  const elapsed = nowMs - startMs;
  if (elapsed >= 2 * windowMs) return { bps: 0, startMs: nowMs };
  return { bps: Math.floor((windowBytes * 8 * 1000) / elapsed), startMs: startMs + windowMs };
}

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
    if (nowMs - this.windowStartMs >= this.windowMs) this.roll(nowMs);
    this.bytes += n;
    this.windowBytes += n;
  }

  /** bit/s of the last complete window. */
  bps(nowMs: number): number {
    if (nowMs - this.windowStartMs >= this.windowMs) this.roll(nowMs);
    return this.lastBps;
  }

  private roll(nowMs: number): void {
    const r = rollWindow(this.windowStartMs, this.windowBytes, nowMs, this.windowMs);
    this.lastBps = r.bps;
    this.windowStartMs = r.startMs;
    this.windowBytes = 0;
  }
}
