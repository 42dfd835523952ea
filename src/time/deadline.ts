import type { Clock } from "./clock.ts";

/**
 * A timeout whose deadline moves without re-arming a timer: `arm` only moves the deadline, and
 * one timer re-schedules itself for the time left when it fires early (per-message activity
 * costs no timer call). `disarm` drops the deadline; the running timer then does nothing.
 */
export class Deadline {
  private readonly clock: Clock;
  private readonly onExpire: () => void;
  private at = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(clock: Clock, onExpire: () => void) {
    this.clock = clock;
    this.onExpire = onExpire;
  }

  /** Expires `ms` after `nowMs` (default: the clock's now); a later call moves it. */
  arm(ms: number, nowMs = this.clock.nowMs()): void {
    this.at = nowMs + ms;
    this.timer ??= setTimeout(this.fire, ms);
  }

  /** No deadline; the timer, if it runs, fires into nothing. */
  disarm(): void {
    this.at = 0;
  }

  /** No deadline and no timer. */
  cancel(): void {
    this.at = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  get armed(): boolean {
    return this.at !== 0;
  }

  private readonly fire = (): void => {
    this.timer = null;
    if (this.at === 0) return;
    const left = this.at - this.clock.nowMs();
    if (left > 1) {
      this.timer = setTimeout(this.fire, left);
      return;
    }
    this.at = 0;
    this.onExpire();
  };
}
