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
 * The coalescer lets the loop rest instead: a timer every `gapMs` looks at how busy the process
 * has been (its CPU time against wall time, rests included, smoothed); while that stays under
 * `busyLimit` the thread sleeps `sleepMs` (a blocking `Atomics.wait`), so what arrives meanwhile
 * is read in one turn of the loop. The timer runs only after the loop has handled what was ready,
 * so a rest delays work but never caps it: the loop stays awake as long as its backlog lasts. A
 * process near a full core (a fast publisher, a burst of connects) is not put to rest at all; nor
 * is one under `restAbove` of a core (a few hundred publishers): its wake-ups cost little, and a
 * rest would add latency and memory (the loop handles more at once: 0.02–0.03 MB more per
 * publisher at 300) for little CPU; it is looked at every `lightCheckMs`. Nor does it rest while
 * the process waits on a controller's answer (`hold`): a callback takes several turns of the loop,
 * each of which would wait for a rest (at 1000 publishers rests made the median callback 55 ms
 * and the slowest 1.1 s). The price, where it rests, is at most `sleepMs` of latency added to a
 * message.
 */
export interface WakeCoalescerOptions {
  /** How long the thread rests at a time (ms). */
  readonly sleepMs: number;
  /** Awake time between two rests (ms): the timer's delay. */
  readonly gapMs: number;
  /** Busy share of a core (0–1, smoothed) at and above which the thread does not rest. */
  readonly busyLimit: number;
  /** Busy share under which the loop does not rest, and is looked at every `lightCheckMs`. */
  readonly restAbove: number;
  readonly lightCheckMs: number;
  /** Weight of the newest measure in the smoothed busy share (0–1). */
  readonly smoothing: number;
}

export const DEFAULT_WAKE_COALESCING: WakeCoalescerOptions = {
  sleepMs: 3,
  gapMs: 1,
  busyLimit: 0.8,
  restAbove: 0.25,
  lightCheckMs: 50,
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
  #holds = 0;
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

  /** The process's smoothed busy share of a core (0–1). */
  get busyShare(): number {
    return this.#busy;
  }

  /**
   * No rest until the returned function is called: the process waits for a peer's answer that a
   * session's progress depends on (a controller callback), and each step of that exchange would
   * otherwise wait for a rest's end (Deno's `fetch` takes several turns of the loop).
   */
  hold(): () => void {
    this.#holds++;
    let held = true;
    return () => {
      if (held) {
        held = false;
        this.#holds--;
      }
    };
  }

  start(): void {
    if (this.#running || this.#o.sleepMs <= 0) return;
    this.#running = true;
    this.#t0 = this.#host.now();
    this.#c0 = this.#host.cpuMs();
    this.#host.schedule(this.#tick, this.#o.gapMs);
  }

  stop(): void {
    this.#running = false;
  }

  #tick = (): void => {
    if (!this.#running) return;
    const t = this.#host.now();
    const c = this.#host.cpuMs();
    const wall = t - this.#t0;
    if (wall > 0) this.#busy += this.#o.smoothing * (Math.min(1, (c - this.#c0) / wall) - this.#busy);
    this.#t0 = t;
    this.#c0 = c;
    const light = this.#busy < this.#o.restAbove;
    if (!light && this.#holds === 0 && this.#busy < this.#o.busyLimit) {
      this.#host.sleep(this.#o.sleepMs);
      this.#rests++;
    }
    this.#host.schedule(this.#tick, light ? this.#o.lightCheckMs : this.#o.gapMs);
  };
}
