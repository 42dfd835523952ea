import type { ByteSink } from "../runtime/types.ts";
import type { Clock } from "../time/clock.ts";
import { mutableField } from "../mutable-field.ts";

/**
 * A session that reads faster than this (32 KiB per 100 ms, about 2.6 Mbit/s) does not rest: a
 * rest would let the kernel hold more for it than it should, so it is read as it comes, as the
 * reference reads. At the default 200 ms a rest may leave up to 64 KiB in the kernel: about the
 * window a default 128 KiB receive buffer offers at first, so a publisher near the limit may wait
 * for the next read before it sends more (the kernel grows the buffer for a socket read in bursts).
 */
const REST_MAX_BYTES_PER_SECOND = 320 * 1024;

/**
 * Bytes a session reads before it may rest: more than a publish's commands, metadata and sequence
 * headers take, so that its start (each command waiting for the answer to the one before, with
 * the controller's callbacks between) goes at the peers' pace, not a round's.
 */
export const REST_AFTER_BYTES = 4096;

/** What a session may read in one window of `windowMs` (the last or the current one) and still rest. */
export function restMaxBytes(windowMs: number): number {
  return Math.floor((REST_MAX_BYTES_PER_SECOND * windowMs) / 1000);
}

/**
 * Socket reads paced per session (`read_batch`): while a session streams, its socket rests for
 * up to a window after each read, and what the publisher sends meanwhile waits in the kernel's
 * receive buffer; the next read takes it all at once. A real-time publisher's bytes otherwise
 * arrive a few messages at a time (one read every ~37 ms at 300 kbit/s), each read with its
 * wake-up, its system call and its way through the runtime, and each finding the session's
 * state (demuxer, stream, track, log, upstreams) cold in the CPU cache among every other
 * publisher's reads. Rested, a session costs one read per window, and its messages go through
 * its stages one after the other while that state is warm (`bench/RESULTS.md`, session 11).
 * Nothing is held in the process: the bytes wait in the kernel, so memory does not grow with
 * the window.
 *
 * The rule, per session: every read is handed on at once. After a read that comes within the
 * window of the one before it (the session streams), the socket rests until the window's timer
 * — unless the session read `restMaxBytes(window)` or more in its last window or in this one
 * (about 2.6 Mbit/s; 64 KiB at the default 200 ms): a fast publisher is read as it comes, and a
 * rest never asks the kernel to hold more than that. A read after a pause (a command, the first
 * media) has no rest after it, and neither has any read before the session's first
 * `REST_AFTER_BYTES` (its commands, metadata and sequence headers). The rest is backpressure:
 * the entry's `desiredSize` is 0 and its `ready` the round's wake-up, which every runtime's read
 * side already obeys (the socket paused, or no read issued, until `ready`), on sockets whose one
 * read takes all that waits (`Conn.wholeReads`). One timer and one promise per window length for
 * the whole server, armed only while a session rests; a rest always ends at its timer.
 */
export class ReadBatch {
  private readonly clock: Clock;
  private readonly rounds = new Map<number, Round>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /**
   * The entry a socket writes into: `down` itself when the window is 0 or the socket's one read
   * does not take all that waits (`Conn.wholeReads`: a rest would let through one piece per window).
   */
  input(down: ByteSink, windowMs: number, wholeReads: boolean): ByteSink {
    if (windowMs <= 0 || !wholeReads) return down;
    let round = this.rounds.get(windowMs);
    if (!round) this.rounds.set(windowMs, (round = new Round(windowMs, this.clock)));
    return new PacedReads(down, round);
  }
}

/** The sessions resting until one window's timer. */
class Round {
  readonly windowMs: number;
  /** Bytes per window above which a session does not rest (`restMaxBytes`). */
  readonly maxBytes: number;
  /** The server's clock, which its sessions' entries read too. */
  readonly clock: Clock;
  /** Settles at the timer; null while no session rests. */
  wake: Promise<void> | null = null;
  private settle: () => void = () => {};

  constructor(windowMs: number, clock: Clock) {
    this.windowMs = windowMs;
    this.maxBytes = restMaxBytes(windowMs);
    this.clock = clock;
  }

  /** The wake-up of the current round (a new round, and its timer, if none is armed). */
  rest(): Promise<void> {
    if (this.wake === null) {
      this.wake = new Promise<void>((resolve) => (this.settle = resolve));
      setTimeout(this.fire, this.windowMs);
    }
    return this.wake;
  }

  private readonly fire = (): void => {
    this.wake = null;
    this.settle();
  };
}

/** One session's entry: each read handed on at once, and the socket's rest after it. */
class PacedReads implements ByteSink {
  private readonly down: ByteSink;
  private readonly round: Round;
  /** When the last read came (ms). */
  private last = -Infinity;
  /** The session's windows of time, one after the other from its first read: this one's start and bytes. */
  private windowStart = -Infinity;
  private windowBytes = 0;
  /** Bytes of the window before (a session rests only once it has shown one quiet window). */
  private lastWindowBytes = Infinity;
  /** Bytes still to read before the session may rest (`REST_AFTER_BYTES`). */
  private startBytes = REST_AFTER_BYTES;
  /** The round this session rests in, until its wake-up. */
  private resting: Promise<void> | null = null;
  /** Reads go down as they come: this entry borrows them when `down` does. */
  readonly borrows: boolean;

  constructor(down: ByteSink, round: Round) {
    this.down = down;
    this.round = round;
    this.borrows = down.borrows === true;
    // written late in its life (see mutableField)
    mutableField(this, "resting", Promise.resolve());
    mutableField(this, "lastWindowBytes", 0);
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    const written = this.down.write(chunk);
    const round = this.round;
    const windowMs = round.windowMs;
    const now = round.clock.nowMs();
    const since = now - this.windowStart;
    if (this.windowStart === -Infinity) this.windowStart = now;
    else if (since >= windowMs) {
      // a new window; a gap of more than one means a quiet one came between
      this.lastWindowBytes = since < 2 * windowMs ? this.windowBytes : 0;
      this.windowStart = since < 2 * windowMs ? this.windowStart + windowMs : now;
      this.windowBytes = 0;
    }
    this.windowBytes += chunk.byteLength;
    if (this.startBytes > 0) this.startBytes -= chunk.byteLength;
    else if (now - this.last < windowMs && this.windowBytes < round.maxBytes && this.lastWindowBytes < round.maxBytes) this.resting = round.rest();
    this.last = now;
    return written;
  }

  /** Resting: 0 until the round's wake-up; else the room of the stage below. */
  get desiredSize(): number | null {
    const r = this.resting;
    if (r !== null) {
      if (r === this.round.wake) return 0;
      this.resting = null;
    }
    return this.down.desiredSize;
  }

  get ready(): Promise<void> {
    const r = this.resting;
    return r !== null && r === this.round.wake ? r : this.down.ready;
  }

  close(): Promise<void> {
    this.resting = null;
    return this.down.close();
  }

  abort(reason?: unknown): Promise<void> {
    this.resting = null;
    return this.down.abort(reason);
  }
}
