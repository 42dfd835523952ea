/**
 * The one clock of a server, injected into its sessions, tracks and upstreams (tests pass their
 * own): nothing below reads `Date.now()` or `performance` itself.
 */
export interface Clock {
  /** Milliseconds since the epoch, whole (rates, uptimes, republish pacing, idle deadlines). */
  nowMs(): number;
  /** Milliseconds since the epoch with the sub-millisecond fraction (`created`, timeouts). */
  preciseMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  preciseMs: () => performance.timeOrigin + performance.now(),
};

/** Wall clock in timescale units: `sec·timescale + floor(nsec·timescale/1e9)` (kmp.md §2.1). */
export function wallClock(clock: Clock, timescale: number): number {
  // ms since the epoch × timescale stays far below 2^53 (1.8e12 × 90 ≈ 1.6e14): plain doubles are exact
  return Math.floor((clock.preciseMs() * timescale) / 1000);
}
