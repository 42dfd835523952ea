/**
 * Fewer event-loop wake-ups where the runtime's I/O driver wakes the loop for every segment.
 *
 * Deno's driver (tokio over mio) registers each socket with epoll, edge-triggered, for the
 * socket's whole life: every TCP segment that arrives wakes the event loop, a session whose reads
 * are paused (`read_batch`) included, where libuv (Node) takes a paused socket out of epoll. With
 * 1000 real-time publishers Deno's loop returned from `epoll_wait` 16,600 times a second against
 * Node's 850, and the context switches and loop turns cost about as much as the frames themselves
 * (`bench/RESULTS.md`, session 22).
 *
 * The coalescer lets the loop rest instead: a timer every `gapMs` looks at how busy the thread
 * was since its last rest (process CPU time against wall time, smoothed); while that stays under
 * `busyLimit` the thread sleeps `sleepMs` (a blocking `Atomics.wait`), so what arrives meanwhile
 * is read in one turn of the loop. A loop that is busy (a fast publisher, a burst of connects) is
 * never put to sleep; one that is almost idle (under `idleBelow`) is looked at only every
 * `idleCheckMs`, since its few wake-ups are not worth the timer's own. The price is at most
 * `sleepMs` of latency added to a message, when the server has time to spare.
 */
export interface WakeCoalescerOptions {
  /** How long the thread rests at a time (ms). */
  readonly sleepMs: number;
  /** Awake time between two rests (ms): the timer's delay. */
  readonly gapMs: number;
  /** Busy share of the awake time (0–1, smoothed) at and above which the thread does not rest. */
  readonly busyLimit: number;
  /** Busy share under which the loop counts as idle: no rest, and a look every `idleCheckMs`. */
  readonly idleBelow: number;
  readonly idleCheckMs: number;
  /** Weight of the newest measure in the smoothed busy share (0–1). */
  readonly smoothing: number;
}

export const DEFAULT_WAKE_COALESCING: WakeCoalescerOptions = {
  sleepMs: 3,
  gapMs: 1,
  busyLimit: 0.9,
  idleBelow: 0.02,
  idleCheckMs: 50,
  smoothing: 0.2,
};

/** What the coalescer needs from its runtime. */
export interface WakeCoalescerHost {
  /** Monotonic wall time (ms). */
  now(): number;
  /** CPU time this process has used (ms, user + system). */
  cpuMs(): number;
  /** Runs `fn` once after `ms` without keeping the process alive. */
  schedule(fn: () => void, ms: number): void;
  /** Blocks the thread for `ms`. */
  sleep(ms: number): void;
}

/** Blocks the calling thread (Atomics.wait on a private cell that nobody notifies). */
export function blockingSleep(cell: Int32Array): (ms: number) => void {
  return (ms) => {
    Atomics.wait(cell, 0, 0, ms);
  };
}

export class WakeCoalescer {
  #busy = 0;
  #t0 = 0;
  #c0 = 0;
  #running = false;
  #rests = 0;
  readonly #host: WakeCoalescerHost;
  readonly #o: WakeCoalescerOptions;

  constructor(host: WakeCoalescerHost, options: WakeCoalescerOptions = DEFAULT_WAKE_COALESCING) {
    this.#host = host;
    this.#o = options;
  }

  /** Rests taken so far. */
  get rests(): number {
    return this.#rests;
  }

  /** The smoothed busy share of the loop's awake time (0–1). */
  get busyShare(): number {
    return this.#busy;
  }

  start(): void {
    if (this.#running || this.#o.sleepMs <= 0) return;
    this.#running = true;
    this.#mark();
    this.#host.schedule(this.#tick, this.#o.gapMs);
  }

  stop(): void {
    this.#running = false;
  }

  #mark(): void {
    this.#t0 = this.#host.now();
    this.#c0 = this.#host.cpuMs();
  }

  #tick = (): void => {
    if (!this.#running) return;
    const wall = this.#host.now() - this.#t0;
    if (wall > 0) {
      const share = Math.min(1, (this.#host.cpuMs() - this.#c0) / wall);
      this.#busy += this.#o.smoothing * (share - this.#busy);
    }
    const idle = this.#busy < this.#o.idleBelow;
    if (!idle && this.#busy < this.#o.busyLimit) {
      this.#host.sleep(this.#o.sleepMs);
      this.#rests++;
    }
    this.#mark();
    this.#host.schedule(this.#tick, idle ? this.#o.idleCheckMs : this.#o.gapMs);
  };
}
