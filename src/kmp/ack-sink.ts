import type { ByteSink, Conn } from "../runtime/types.ts";
import { AckReader, type Ack } from "./packets.ts";

/** What an `AckSink` tells the upstream whose socket it reads. */
export interface AckListener {
  /** Whether `conn` is still the upstream's socket (the sink of an older one stays silent). */
  isCurrent(conn: Conn): boolean;
  /** One `ackf` (kmp.md §8). */
  onAck(ack: Ack): void;
  /** An ack that does not parse, or the read failed. */
  ackReadFailed(err: unknown): void;
  /** The receiver closed its side. */
  ackReadClosed(): void;
}

/**
 * The receiver's acks: the socket's reads go straight into this sink, which parses them at once
 * (`Conn.pipeInto`: no stream read and no promise per read, nothing held between acks).
 */
export class AckSink implements ByteSink {
  readonly desiredSize = 1;
  readonly ready: Promise<void> = Promise.resolve();
  /** Acks are parsed before `write` returns; a partial one is copied (`AckReader`). */
  readonly borrows = true;
  private readonly conn: Conn;
  private readonly to: AckListener;
  private readonly acks = new AckReader();

  constructor(conn: Conn, to: AckListener) {
    this.conn = conn;
    this.to = to;
  }

  write(chunk: Uint8Array): undefined {
    const to = this.to;
    if (!to.isCurrent(this.conn)) return undefined;
    try {
      for (const ack of this.acks.push(chunk)) {
        to.onAck(ack);
        if (!to.isCurrent(this.conn)) break;
      }
    } catch (err) {
      if (to.isCurrent(this.conn)) to.ackReadFailed(err);
    }
    return undefined;
  }

  close(): Promise<void> {
    if (this.to.isCurrent(this.conn)) this.to.ackReadClosed();
    return Promise.resolve();
  }

  abort(reason?: unknown): Promise<void> {
    if (this.to.isCurrent(this.conn)) this.to.ackReadFailed(reason);
    return Promise.resolve();
  }
}
