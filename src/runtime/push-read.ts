import { READ_HIGH_WATER, readQueue } from "./socket-common.ts";
import type { ByteSink } from "./types.ts";

/** How a push-style socket (node:net `data` events, Bun's `data` callback) is paused and torn down. */
export interface PushSocket {
  pause(): void;
  resume(): void;
  /** The reader gave up: tear the socket down. */
  destroy(): void;
}

const noop = (): void => {};

/**
 * The read side of a push-style socket. Chunks go into `readable` (the handshake and every other
 * reader) — or, once `pipeInto` handed the socket to a `ByteSink` (a writer, or a stage's
 * entry), straight into it: one `write` per socket read, the socket paused while its `desiredSize` ≤ 0
 * and resumed at its `ready`. No second stream and no pipe loop between the socket and the stage.
 *
 * A read may be lent (`data(chunk, true)`: a view of a buffer the next read overwrites): it goes
 * as it is only to a sink that `borrows`; the readable and any other sink get a copy (`own`).
 */
export class PushReadSide {
  /** Dropped once `pipeInto` took the socket over (no stream state kept for the session's life). */
  private rs: ReadableStream<Uint8Array> | null;
  private c: ReadableStreamDefaultController<Uint8Array> | null = null;
  private readonly socket: PushSocket;
  private direct: { w: ByteSink; done: () => void } | null = null;
  /** End, error or teardown seen: nothing more is read. */
  private ended = false;
  private paused = false;
  private readonly resume = (): void => {
    if (!this.paused || this.ended) return;
    this.paused = false;
    this.socket.resume();
  };

  /** A copy of a lent read that the reader keeps. */
  private readonly own: (chunk: Uint8Array) => Uint8Array;

  constructor(socket: PushSocket, own: (chunk: Uint8Array) => Uint8Array = (c) => c.slice()) {
    this.socket = socket;
    this.own = own;
    this.rs = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.c = c;
      },
      pull: () => this.resume(),
      cancel: () => {
        this.ended = true;
        socket.destroy();
      },
    }, readQueue);
  }

  get readable(): ReadableStream<Uint8Array> {
    if (!this.rs) throw new Error("the socket's reads go straight into a sink (pipeInto)");
    return this.rs;
  }

  /** One read; `lent`: a view that the next read overwrites. */
  data(chunk: Uint8Array, lent = false): void {
    if (this.ended) return;
    const d = this.direct;
    if (d) {
      // a failed stage ends its session; the socket goes with it
      d.w.write(lent && !d.w.borrows ? this.own(chunk) : chunk)?.catch(noop);
      if ((d.w.desiredSize ?? 1) <= 0 && !this.paused) {
        this.paused = true;
        this.socket.pause();
        d.w.ready.then(this.resume, noop);
      }
      return;
    }
    this.queue(chunk, lent);
  }

  /**
   * A read before `pipeInto` (the handshake): into `readable`. Apart from `data`, whose optimized
   * code serves the stream's reads: a session's first reads take this path once, and in `data`
   * itself they would throw that code away for every new session.
   */
  private queue(chunk: Uint8Array, lent: boolean): void {
    const c = this.c!;
    c.enqueue(lent ? this.own(chunk) : chunk);
    if ((c.desiredSize ?? 1) <= 0 && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** The peer's FIN (or the socket closed without error). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const d = this.direct;
    if (d) {
      this.direct = null;
      d.w.close().catch(noop);
      d.done();
      return;
    }
    try {
      this.c?.close();
    } catch { /* already closed */ }
  }

  /** A reset or socket error. */
  error(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    const d = this.direct;
    if (d) {
      this.direct = null;
      d.w.abort(err).catch(noop);
      d.done();
      return;
    }
    try {
      this.c?.error(err);
    } catch { /* already errored */ }
  }

  /**
   * What `readable.pipeTo(dest, { signal })` does, without the readable in between: the chunks
   * it already queued first, then every socket read written into `w`; `w` closes at the peer's
   * FIN and aborts on an error; the signal aborts `w` and tears the socket down.
   */
  async pipeInto(w: ByteSink, signal: AbortSignal): Promise<void> {
    const r = this.readable.getReader();
    try {
      // queued reads settle in microtasks: no socket event comes in between, so order holds
      while (this.ended || READ_HIGH_WATER - (this.c!.desiredSize ?? READ_HIGH_WATER) > 0) {
        const { value, done } = await r.read();
        if (done) {
          await w.close().catch(noop);
          return;
        }
        w.write(value)?.catch(noop);
      }
    } catch (err) {
      await w.abort(err).catch(noop);
      return;
    } finally {
      r.releaseLock();
    }
    this.rs = null;
    this.c = null;
    if (signal.aborted) {
      this.abortDirect(w, signal.reason);
      return;
    }
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        if (this.direct?.w !== w) return;
        this.direct = null;
        this.abortDirect(w, signal.reason);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.direct = {
        w,
        done: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.resume();
    });
  }

  private abortDirect(w: ByteSink, reason: unknown): void {
    w.abort(reason).catch(noop);
    this.ended = true;
    this.socket.destroy();
  }
}
