import { createHash } from "node:crypto";
import type { TrackConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { KmpFrame, MediaInfo } from "../media/types.ts";
import type { Clock } from "../time/clock.ts";
import { Deadline } from "../time/deadline.ts";
import { PACKET_FRAME, PACKET_MEDIA_INFO, PACKET_OTHER, type ByteLog } from "./byte-log.ts";
import type { UnpublishReason } from "./controller.ts";
import { FrameStats } from "./frame-stats.ts";
import { type HeaderScratch, KmpMuxer, type KmpPackets, type PacketSink, type TrackWrite } from "./muxer.ts";
import { EOST } from "./packets.ts";

/** What the input needs from its track. */
export interface InputOwner {
  /** The track still takes data (not detached, failed or inactive). */
  readonly accepting: boolean;
  /** More than the low watermark is held for the publisher (backpressure). */
  readonly congested: boolean;
  /** Bytes that may be written before `congested` holds (≤ 0: it holds); see `lowWatermarkRoom`. */
  room(): number;
  /** Before a packet of `size` bytes is written: the watermark procedure makes room (true: it acted). */
  beforeWrite(size: number): boolean;
  /** After a packet: upstreams follow the log (`filled`: a buffer became visible to them). */
  written(filled: boolean): void;
  /** The flush timer made a partly filled buffer visible. */
  flushed(): void;
  /** The first frame: the publish starts. */
  firstFrame(): void;
  fail(reason: UnpublishReason, err: Error): void;
}

/**
 * A track's input (spec §3.3, §5.1): the session's frame batches through the track's `KmpMuxer`
 * into its byte log — `minf` before a frame after a sequence header, then `fram` — with the
 * flush timer that makes a partly filled buffer visible after kmp_flush_timeout, the frame
 * statistics and kmp_log_frames. It is the muxer's sink: it appends until the track is
 * congested and wakes the muxer when it drains.
 */
export class TrackInput implements PacketSink {
  readonly muxer: KmpMuxer;
  readonly frames: FrameStats;
  /** The media info of the last `minf` written (the publish and republish events carry it). */
  mediaInfo: MediaInfo | null = null;
  /** End of the last frame written (for last_written / memory pressure). */
  lastFrameEnd = 0;

  private readonly owner: InputOwner;
  private readonly log: ByteLog;
  private readonly config: TrackConfig;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly mediaType: "video" | "audio";
  /** kmp_flush_timeout: a moving deadline, so a filled buffer's reset costs no timer call. */
  private readonly flush: Deadline;
  private roomWaiters: (() => void)[] = [];
  private started = false;
  /** The watermark procedure acted during a write: `append` asks for the room again. */
  private relieved = false;

  constructor(o: { owner: InputOwner; log: ByteLog; config: TrackConfig; clock: Clock; logger: Logger; mediaType: "video" | "audio"; headerScratch: HeaderScratch }) {
    this.owner = o.owner;
    this.log = o.log;
    this.config = o.config;
    this.clock = o.clock;
    this.logger = o.logger;
    this.mediaType = o.mediaType;
    this.frames = new FrameStats(o.clock.nowMs());
    this.flush = new Deadline(o.clock, () => {
      try {
        this.log.appendAll();
        this.owner.flushed();
      } catch (err) {
        this.owner.fail("unexpected", err as Error);
      }
    });
    // the sink's high-water mark is the low watermark: while the track is congested its write
    // waits, the queues above fill (each counts bytes) and the session stops reading the socket
    const sinkBytes = Math.floor((o.log.memLimit * o.config.kmp_mem_low_watermark) / 100);
    this.muxer = new KmpMuxer(this, { sinkBytes, scratch: o.headerScratch });
  }

  // ---- PacketSink ----------------------------------------------------------------------------

  room(): number {
    return this.owner.room();
  }

  /**
   * Appends writes from `from` on until the track is congested; returns where it stopped. The
   * room is asked once (`asked`: the caller just did) and counted down by the bytes written
   * (asked again when it runs out or the watermark procedure acted); the clock is read once.
   */
  append(p: KmpPackets, from: number, asked?: number): number {
    const owner = this.owner;
    const writes = p.writes;
    const nowMs = this.clock.nowMs();
    let room = asked ?? owner.room();
    for (let i = from; i < writes.length; i++) {
      if (room <= 0 || this.relieved) {
        this.relieved = false;
        room = owner.room();
        if (room <= 0) return i;
      }
      const w = writes[i];
      const before = this.log.written;
      if (w.mediaInfo) this.writeMediaInfo(w.mediaInfo, p.minf[i]!);
      this.writeFrame(w.frame, p.headers[i], nowMs);
      room -= this.log.written - before;
    }
    return writes.length;
  }

  whenRoom(): Promise<void> {
    if (!this.owner.congested) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Wakes the muxer if the track drained below the low watermark. */
  roomMade(): void {
    if (this.roomWaiters.length && !this.owner.congested) this.wakeAll();
  }

  /** Wakes the muxer whatever the state (the track ended or failed: nothing will wait). */
  wakeAll(): void {
    // emptied in place: the field keeps the one list it was born with (see mutableField)
    const w = this.roomWaiters.splice(0);
    for (const f of w) f();
  }

  // ---- writes --------------------------------------------------------------------------------

  private writeMediaInfo(mi: MediaInfo, bytes: Uint8Array): void {
    if (!this.owner.accepting) return;
    this.log.chargeExtra(mi.extraData.byteLength);
    this.mediaInfo = mi;
    this.writePacket(PACKET_MEDIA_INFO, bytes, null);
  }

  private writeFrame(f: KmpFrame, header: Uint8Array, nowMs: number): void {
    if (!this.owner.accepting) return;
    this.writePacket(PACKET_FRAME, header, f.data);
    this.lastFrameEnd = this.log.written;
    this.frames.add(f, nowMs);
    const lf = this.config.kmp_log_frames;
    if (lf === "all" || (lf === "key" && f.key && this.mediaType === "video")) {
      const md5 = createHash("md5").update(f.data).digest("hex");
      this.logger.info(`write frame: created ${f.created}, dts ${f.dts}, flags 0x${f.key ? 1 : 0}, ptsDelay ${f.ptsDelay}, size ${f.data.byteLength}, md5 ${md5}`);
    }
    if (!this.started) {
      this.started = true;
      this.owner.firstFrame();
    }
  }

  private writePacket(kind: number, head: Uint8Array, body: Uint8Array | null): void {
    if (this.owner.beforeWrite(head.byteLength + (body ? body.byteLength : 0))) this.relieved = true;
    let filled: boolean;
    try {
      filled = this.log.writePacket(kind, head, body);
    } catch (err) {
      this.owner.fail("alloc_failed", err as Error);
      throw err;
    }
    this.armFlush(filled);
    this.owner.written(filled);
  }

  /** `eost` after everything written, visible at once; returns where it ends (-1 if it could not be written). */
  writeEost(): number {
    this.stopFlush();
    try {
      this.log.writePacket(PACKET_OTHER, EOST, null);
      this.log.appendAll();
      return this.log.written;
    } catch (err) {
      this.logger.warn(`cannot write eost: ${(err as Error).message}`);
      return -1;
    }
  }

  private armFlush(reset: boolean): void {
    if (reset || !this.flush.armed) this.flush.arm(this.config.kmp_flush_timeout);
  }

  stopFlush(): void {
    this.flush.cancel();
  }
}
