import type { ServerConfig } from "../config/types.ts";
import type { MessageBuffers, RtmpMessage } from "../rtmp/chunk-decoder.ts";
import { RtmpDemuxer, type BatchTaker, type MessageBatch } from "../rtmp/demuxer.ts";
import type { Conn } from "../runtime/types.ts";
import { wallClock, type Clock } from "../time/clock.ts";
import type { ConnectGate } from "./connect-gate.ts";
import type { FrameBatch } from "./frame-batch.ts";
import type { BatchTime } from "./media.ts";
import type { ProtocolControl } from "./protocol-control.ts";
import type { ReadBatch } from "./read-batch.ts";

const noop = (): void => {};

/** What the pump needs from its session. */
export interface PumpSession {
  readonly conn: Conn;
  readonly server: ServerConfig;
  readonly clock: Clock;
  /** Aborted when the session ends. */
  readonly signal: AbortSignal;
  readonly open: boolean;
  /** The connect was accepted: the gate never closes again (a second connect ends the session). */
  readonly connected: boolean;
  readonly frames: FrameBatch;
  readonly gate: ConnectGate;
  readonly protocol: ProtocolControl;
  /** KMP timescale of `created` (the application's, once connected). */
  readonly timescale: number;
  /** The server's read batch: the socket writes into its entry for this session. */
  readonly readBatch: ReadBatch;
  /** The server's buffers for messages that span chunks (given back after each batch). */
  readonly messageBuffers: MessageBuffers;
  /** Reads shorter than this reassemble in buffers of their own (`Runtime.lendFromRead`). */
  readonly lendFromRead: number;
  countIn(n: number): void;
  /**
   * One message, in order; `time` is the `created` time of this batch's frames and the session
   * clock, each read once for the batch.
   */
  dispatch(msg: RtmpMessage, time: BatchTime): void;
}

/**
 * The frame path of one session (design card): the socket written straight into the
 * `RtmpDemuxer`'s entry (`Conn.pipeInto`: one write per socket read, the socket paused while the
 * demuxer's queue is full) → one batch of messages per read, handed over at once while the pump
 * is free, else queued in the demuxer's stream and handed over in order → synchronous
 * dispatch of each message (commands, codec state, conversion into the session's `FrameBatch`)
 * → once per batch, each track that got frames hands them to its `KmpMuxer` (`KmpTrack.push`)
 * → the track's log → its upstreams.
 *
 * Backpressure: the next batch is read only while every track pushed to has room (checked
 * without a promise; only a full track is waited for); a congested track's input waits, the
 * queues above it fill (all counted in bytes) and the socket is paused. While the connect
 * callback is pending nothing after `connect` is dispatched.
 */
export class Pump implements BatchTaker, BatchTime {
  readonly demuxer: RtmpDemuxer;
  private readonly s: PumpSession;
  /** `created` of the frames of one batch: one clock read per socket read (like nginx's cached time). */
  private createdAt = -1;
  /** The clock (ms) of one batch: read once per socket read too. */
  private batchMs = -1;
  private readonly ended: Promise<void>;
  /** A batch taken at once that waits for the connect gate or for room. */
  private waiting: Promise<void> | null = null;
  private fail: (err: unknown) => void = noop;

  constructor(s: PumpSession) {
    this.s = s;
    this.demuxer = new RtmpDemuxer({
      maxMessage: s.server.max_message,
      maxStreams: s.server.max_streams,
      type3ExtTs: s.server.type3_ext_ts,
      buffers: s.messageBuffers,
      lendFromRead: s.lendFromRead,
      counter: s,
    });
    this.ended = new Promise((resolve) => {
      if (s.signal.aborted) resolve();
      else s.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  /** `created` of this batch's frames (`BatchTime`). */
  created(): number {
    if (this.createdAt < 0) this.createdAt = wallClock(this.s.clock, this.s.timescale);
    return this.createdAt;
  }

  /** The session clock of this batch (ms). */
  nowMs(): number {
    if (this.batchMs < 0) this.batchMs = this.s.clock.nowMs();
    return this.batchMs;
  }

  /** Reads until the client ends or the session stops; throws what ended the chunk stream. */
  async run(first: Uint8Array): Promise<void> {
    const s = this.s;
    const failed = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    const { sink, done } = this.demuxer.input(this);
    sink.write(first)?.catch(noop);
    void s.conn.pipeInto(s.readBatch.input(sink, s.server.read_batch, s.conn.wholeReads), s.signal).catch(noop);
    await Promise.race([done, failed]);
  }

  /** Not waiting on an earlier batch: the demuxer may hand over the next one at once. */
  get free(): boolean {
    return this.waiting === null;
  }

  whenFree(): Promise<void> {
    return this.waiting ?? Promise.resolve();
  }

  /** One batch (`RtmpDemuxer.input`); what it has to wait for is chained. */
  take(batch: MessageBatch): void {
    let p: Promise<void> | undefined;
    try {
      p = this.process(batch, 0);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (p) {
      this.waiting = p.then(
        () => void (this.waiting = null),
        (err) => {
          this.waiting = null;
          this.fail(err);
        },
      );
    }
  }

  /**
   * Dispatches `batch.messages[from…]`; no promise unless the connect gate is closed or a
   * track has no room after it (then the promise settles once the batch is through).
   */
  private process(batch: MessageBatch, from: number): Promise<void> | undefined {
    const s = this.s;
    if (from === 0) this.createdAt = this.batchMs = -1;
    const msgs = batch.messages;
    try {
      for (let i = from; i < msgs.length; i++) {
        const gate = s.connected ? null : s.gate.closed; // connected: no gate object touched per message
        if (gate) {
          // the rest waits past `take`: its payloads may be views of a lent read (`BatchTaker.take`)
          for (let j = i; j < msgs.length; j++) msgs[j].payload = msgs[j].payload.slice();
          return gate.then(() => this.process(batch, i));
        }
        if (!s.open) return undefined;
        s.dispatch(msgs[i], this);
      }
    } finally {
      s.frames.flush();
    }
    if (!s.open) return undefined;
    s.protocol.received(this.demuxer.decoder.bytesReceived);
    if (batch.error !== undefined) throw batch.error;
    return s.frames.fullTrack() ? this.tracksReady() : undefined;
  }

  /** Waits while a track of this session has no room, or until the session ends. */
  private async tracksReady(): Promise<void> {
    for (;;) {
      const full = this.s.frames.fullTrack();
      if (!full || !this.s.open) return;
      await Promise.race([full.ready, this.ended]);
    }
  }
}
