import type { Conn } from "./types.ts";

/** Accepted connections waiting for the listener's `for await` (shared by the callback-style adapters). */
export class ConnQueue implements AsyncIterable<Conn> {
  private readonly queue: Conn[] = [];
  private waiting: ((r: IteratorResult<Conn>) => void) | null = null;
  private ended = false;
  private readonly onReturn: () => void;

  /** `onReturn` runs when the consumer leaves its loop early (closes the listener). */
  constructor(onReturn: () => void) {
    this.onReturn = onReturn;
  }

  push(c: Conn): void {
    if (this.ended) {
      c.close();
      return;
    }
    const w = this.waiting;
    if (w) {
      this.waiting = null;
      w({ value: c, done: false });
    } else this.queue.push(c);
  }

  /** No more connections: wakes the consumer and closes any not yet taken. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const c of this.queue.splice(0)) c.close();
    const w = this.waiting;
    this.waiting = null;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return {
      next: () => {
        const c = this.queue.shift();
        if (c) return Promise.resolve({ value: c, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.onReturn();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
