import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../time/clock.ts";
import type { Metrics } from "../stats/metrics.ts";

export type MemoryReliefDeps = {
  runtime: Runtime;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Lets go of the server's buffer pool (when no session is left). */
  letGoOfPool: () => void;
};

export type MemoryReliefOptions = {
  /** How long a fall must hold before the collection: a crowd leaving costs one, and sessions that come back within it none (ms). */
  delayMs?: number;
  /** Collect only when the resident set grew at least this much since the last one (bytes). */
  minGrowthBytes?: number;
  /** Never two collections closer than this (ms). */
  minIntervalMs?: number;
};

/**
 * Gives memory back when publishers leave. A runtime sizes its heap for the busiest moment so far
 * (a ramp of publishers, every track republishing after a receiver restart) and Node keeps those
 * pages resident until a memory-reducing collection, which V8 runs by itself only when the process
 * is nearly idle — so without this, a server's resident set is the high-water mark of its worst
 * minute. Here: when the sessions have fallen to half (or less) of their peak since the last
 * collection and stayed there for `delayMs`, and the resident set is `minGrowthBytes` above what
 * that collection left, the runtime's `releaseMemory()` runs once. The collection pauses the event
 * loop (tens to a few hundred ms, by heap size), which is why it waits for a fall, not a timer,
 * and for one that holds: sessions back above half before `delayMs` cancel it. The wait is 10 s
 * because the collection also costs the next publisher a recompilation: V8 drops the object
 * layouts ("maps") of every class with no instance left at a memory-reducing collection, and with
 * them the optimized code of the whole frame path (0.06–0.1 s of CPU on Node, about half of a
 * warm 81 MB publish). A publisher that comes back within seconds (an encoder's reconnect, the
 * next file of a playlist) finds the frame path warm; the price is that memory comes back 10 s
 * after a fall rather than 2 s: a churn soak whose cycles are shorter than that holds its
 * high-water mark until it pauses (session 17, 40 cycles: 150–162 MB after each cycle instead of
 * ~107 MB; session 19, 12 cycles of 100: 138.6 MB early, 147.2 MB late, bench/RESULTS.md).
 * With no session left, the shared buffer pool is let go first.
 */
export class MemoryRelief {
  private readonly delayMs: number;
  private readonly minGrowthBytes: number;
  private readonly minIntervalMs: number;
  private peak = 0;
  private current = 0;
  /** Resident bytes after the last collection (or at start). */
  private base: number;
  private lastMs = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private stopped = false;
  private readonly runtime: Runtime;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly letGoOfPool: () => void;

  constructor(deps: MemoryReliefDeps, opts: MemoryReliefOptions = {}) {
    ({ runtime: this.runtime, clock: this.clock, log: this.log, metrics: this.metrics, letGoOfPool: this.letGoOfPool } = deps);
    this.delayMs = opts.delayMs ?? 10_000;
    this.minGrowthBytes = opts.minGrowthBytes ?? 16 * 1024 * 1024;
    this.minIntervalMs = opts.minIntervalMs ?? 10_000;
    this.base = this.runtime.memoryUsage().rss;
  }

  /** The number of sessions now (called on every session start and end). */
  sessions(n: number): void {
    this.current = n;
    if (n > this.peak) this.peak = n;
    if (n * 2 > this.peak) {
      // back above half before the delay ran out: the fall did not hold
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
    } else if (this.peak > 0 && this.timer === null && !this.running && !this.stopped) this.schedule(this.delayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, ms);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async run(): Promise<void> {
    if (this.stopped) return; // (sessions back above half cancel the timer: `sessions`)
    const wait = this.lastMs + this.minIntervalMs - this.clock.nowMs();
    if (wait > 0) return this.schedule(wait);
    const from = this.peak;
    this.peak = this.current;
    const before = this.runtime.memoryUsage().rss;
    if (before - this.base < this.minGrowthBytes) return;
    this.running = true;
    try {
      if (this.current === 0) this.letGoOfPool();
      const t0 = this.clock.preciseMs();
      const ok = await this.runtime.releaseMemory();
      const ms = this.clock.preciseMs() - t0;
      this.lastMs = this.clock.nowMs();
      const after = this.runtime.memoryUsage().rss;
      this.base = after;
      if (!ok) {
        this.log.info(`memory: sessions fell from ${from} to ${this.current} (resident ${mb(before)} MB); this runtime offers no memory-reducing collection, its heap sizing decides`);
        this.stopped = true; // it will not offer one later either
        return;
      }
      this.metrics.inc("rtmp_kmp_memory_releases_total");
      this.metrics.inc("rtmp_kmp_memory_released_bytes_total", {}, Math.max(0, before - after));
      this.metrics.observe("rtmp_kmp_memory_release_seconds", {}, ms / 1000);
      this.log.info(`memory: sessions fell from ${from} to ${this.current}; collected in ${ms.toFixed(0)} ms, resident ${mb(before)} → ${mb(after)} MB`);
    } finally {
      this.running = false;
    }
    this.sessions(this.current); // a fall that happened while collecting
  }
}

const mb = (b: number) => (b / 1e6).toFixed(1);
