import { ReadSlab } from "../bytes/slab.ts";
import type { ByteSink } from "../runtime/types.ts";
import type { Clock } from "../time/clock.ts";

const noop = (): void => {};

/** Bytes one session may hold back; a read that reaches it hands them on at once. */
export const HELD_BYTES = 64 * 1024;

/**
 * Socket reads of many sessions gathered for a short window (`read_batch`) and handed on session
 * by session: a real-time publisher's reads arrive a few messages at a time, interleaved with
 * every other publisher's, and each message then finds its session's state (demuxer, stream,
 * track, log, upstreams) cold in the CPU cache. Held back for one window, a session's reads go
 * through its stages one after the other while that state is warm — the same work, about half
 * the cost per message at 300 sessions (`bench/RESULTS.md`, session 10).
 *
 * The rule, per session: a read that comes at least a window after the session's last hand-over
 * is handed on at once (a command, the first media after a pause: no delay); a read within the
 * window is held until the window's timer, which hands on every held session in the order they
 * started waiting. A session holds at most `HELD_BYTES` (then it hands on at once: a fast
 * publisher is not slowed down), and the socket is paused as before while the stage below is full.
 * One timer per window length for the whole server, armed only while something is held. The held
 * reads go on as one chunk (joined into a shared block: one batch of messages, one push per track).
 */
export class ReadBatch {
  private readonly clock: Clock;
  private readonly rounds = new Map<number, Round>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The entry a socket writes into: `down` itself when the window is 0. */
  input(down: ByteSink, windowMs: number): ByteSink {
    if (windowMs <= 0) return down;
    let round = this.rounds.get(windowMs);
    if (!round) this.rounds.set(windowMs, (round = new Round(windowMs, this.clock)));
    return new HeldReads(down, round);
  }
}

/** The sessions waiting for one window's timer. */
class Round {
  readonly windowMs: number;
  /** Where a session's held reads are joined into one chunk. */
  readonly slab = new ReadSlab();
  /** The server's clock, which its sessions' entries read too. */
  readonly clock: Clock;
  private due: HeldReads[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(windowMs: number, clock: Clock) {
    this.windowMs = windowMs;
    this.clock = clock;
  }

  add(h: HeldReads): void {
    this.due.push(h);
    this.timer ??= setTimeout(this.fire, this.windowMs);
  }

  private readonly fire = (): void => {
    this.timer = null;
    const due = this.due;
    this.due = [];
    const now = this.clock.nowMs();
    for (let i = 0; i < due.length; i++) due[i].handOn(now);
  };
}

/** One session's entry: its held reads, handed on in order into the stage below. */
class HeldReads implements ByteSink {
  private readonly down: ByteSink;
  private readonly round: Round;
  private held: Uint8Array[] | null = null;
  private heldBytes = 0;
  /** When the reads were last handed on (ms). */
  private last = -Infinity;
  private closed = false;

  constructor(down: ByteSink, round: Round) {
    this.down = down;
    this.round = round;
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    const held = this.held;
    if (held === null) {
      const now = this.round.clock.nowMs();
      if (now - this.last >= this.round.windowMs) {
        this.last = now;
        return this.down.write(chunk);
      }
      this.held = [chunk];
      this.heldBytes = chunk.byteLength;
      this.round.add(this);
      return undefined;
    }
    held.push(chunk);
    this.heldBytes += chunk.byteLength;
    if (this.heldBytes >= HELD_BYTES) this.handOn(this.round.clock.nowMs());
    return undefined;
  }

  /** Every held read into the stage below, in order, as one chunk (the round's timer, a full hold, the end). */
  handOn(now: number): void {
    const held = this.held;
    if (held === null || this.closed) return;
    const joined = held.length === 1 ? held[0] : this.round.slab.join(held, this.heldBytes);
    this.held = null;
    this.heldBytes = 0;
    this.last = now;
    // one chunk: one batch of messages through the stages; a failed write ends the session
    // through the stage's own `done`, as a direct write would
    this.down.write(joined)?.catch(noop);
  }

  get desiredSize(): number | null {
    const d = this.down.desiredSize;
    return d === null ? null : d - this.heldBytes;
  }

  get ready(): Promise<void> {
    return this.down.ready;
  }

  close(): Promise<void> {
    this.handOn(this.round.clock.nowMs());
    this.closed = true;
    return this.down.close();
  }

  abort(reason?: unknown): Promise<void> {
    this.closed = true;
    this.held = null;
    this.heldBytes = 0;
    return this.down.abort(reason);
  }
}
