import type { ServerConfig } from "../config/types.ts";
import type { RtmpMessage } from "../rtmp/chunk-decoder.ts";
import { RtmpDemuxer } from "../rtmp/demuxer.ts";
import type { Conn } from "../runtime/types.ts";
import { wallClock, type Clock } from "../time/clock.ts";
import type { ConnectGate } from "./connect-gate.ts";
import type { FrameBatch } from "./frame-batch.ts";
import type { ProtocolControl } from "./protocol-control.ts";

/** What the pump needs from its session. */
export interface PumpSession {
  readonly conn: Conn;
  readonly server: ServerConfig;
  readonly clock: Clock;
  /** Aborted when the session ends. */
  readonly signal: AbortSignal;
  readonly open: boolean;
  readonly frames: FrameBatch;
  readonly gate: ConnectGate;
  readonly protocol: ProtocolControl;
  /** KMP timescale of `created` (the application's, once connected). */
  readonly timescale: number;
  countIn(n: number): void;
  /** One message, in order; `createdNow` is the `created` time of this batch's frames. */
  dispatch(msg: RtmpMessage, createdNow: () => number): void;
}

/**
 * The frame path of one session (design card): the socket written straight into the
 * `RtmpDemuxer` (`Conn.pipeInto`: one write per socket read, the socket paused while the
 * demuxer's queue is full) → one batch of messages per read from its readable → synchronous
 * dispatch of each message (commands, codec state, conversion into the session's `FrameBatch`)
 * → once per batch, each track that got frames hands them to its `KmpMuxer` (`KmpTrack.push`)
 * → the track's log → its upstreams.
 *
 * Backpressure: the next batch is read only while every track pushed to has room (checked
 * without a promise; only a full track is waited for); a congested track's input waits, the
 * queues above it fill (all counted in bytes) and the socket is paused. While the connect
 * callback is pending nothing after `connect` is dispatched.
 */
export class Pump {
  readonly demuxer: RtmpDemuxer;
  private readonly s: PumpSession;
  /** `created` of the frames of one batch: one clock read per socket read (like nginx's cached time). */
  private createdAt = -1;
  private readonly createdNow = (): number => {
    if (this.createdAt < 0) this.createdAt = wallClock(this.s.clock, this.s.timescale);
    return this.createdAt;
  };
  private readonly ended: Promise<void>;

  constructor(s: PumpSession) {
    this.s = s;
    this.demuxer = new RtmpDemuxer({
      maxMessage: s.server.max_message,
      maxStreams: s.server.max_streams,
      type3ExtTs: s.server.type3_ext_ts,
      onChunk: (n) => s.countIn(n),
    });
    this.ended = new Promise((resolve) => {
      if (s.signal.aborted) resolve();
      else s.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  /** Reads until the client ends or the session stops; throws what ended the chunk stream. */
  async run(first: Uint8Array): Promise<void> {
    const s = this.s;
    const demuxer = this.demuxer;
    const w = demuxer.writable.getWriter();
    void w.write(first).catch(() => {});
    w.releaseLock();
    void s.conn.pipeInto(demuxer.writable, s.signal).catch(() => {});
    const batches = demuxer.readable.getReader();
    try {
      for (;;) {
        if (s.frames.fullTrack()) await this.tracksReady();
        if (!s.open) break;
        const { value, done } = await batches.read();
        if (done || !s.open) break;
        this.createdAt = -1;
        try {
          for (const msg of value.messages) {
            const gate = s.gate.closed;
            if (gate) {
              s.frames.flush();
              await gate;
            }
            if (!s.open) break;
            s.dispatch(msg, this.createdNow);
          }
        } finally {
          s.frames.flush();
        }
        s.protocol.received(demuxer.decoder.bytesReceived);
        if (value.error !== undefined) throw value.error;
      }
    } finally {
      batches.releaseLock();
    }
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
