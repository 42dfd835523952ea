import { createHash } from "node:crypto";
import type { ResumeFrom, TrackConfig } from "../config/types.ts";
import { decodeBase64 } from "../bytes/base64.ts";
import { parseKmpUrl } from "./url.ts";
import type { PublishAnswer, TrackControl, TrackIdentity, UnpublishReason } from "./controller.ts";
import { KmpError } from "./errors.ts";
import type { Logger } from "../log/logger.ts";
import type { Runtime } from "../runtime/types.ts";
import { Metrics } from "../stats/metrics.ts";
import { ByteLog, PACKET_FRAME, PACKET_MEDIA_INFO, PACKET_OTHER } from "./byte-log.ts";
import type { BufferPool } from "./buffer-pool.ts";
import { FrameStats } from "./frame-stats.ts";
import { KmpMuxer, muxBatch, type KmpPackets, type TrackWrite } from "./muxer.ts";
import { encodeFrameHeader, encodeMediaInfo, EOST, FRAME_HEADER_SIZE } from "./packets.ts";
import type { KmpFrame, MediaInfo } from "../media/types.ts";
import { KmpUpstream, type UpstreamHost, type UpstreamStats } from "./upstream.ts";

export type TrackState = "initial" | "wait_publish_response" | "active" | "inactive" | "closed";


/** Wall clock in timescale units: `sec·timescale + floor(nsec·timescale/1e9)` (kmp.md §2.1). */
export function wallClock(timescale: number): number {
  // ms since the epoch × timescale stays far below 2^53 (1.8e12 × 90 ≈ 1.6e14): plain doubles are exact
  return Math.floor(((performance.timeOrigin + performance.now()) * timescale) / 1000);
}

export type KmpTrackOptions = {
  mediaType: "video" | "audio";
  config: TrackConfig;
  runtime: Runtime;
  control: TrackControl;
  identity: TrackIdentity;
  log: Logger;
  /** The track failed: the owner closes the RTMP connection (spec §9). */
  onError: (reason: UnpublishReason) => void;
  /** Destroyed, after the unpublish notification. */
  onClosed?: () => void;
  nextConnectionId?: () => number;
  /** The server's registry (republishes, acks); a private one when absent. */
  metrics?: Metrics;
  /** The kmp-out API id of this track, unique in the server. */
  id?: string;
  /** The server's pool of released log buffers (shared by its tracks). */
  bufferPool?: BufferPool;
  initialFrameId?: bigint;
};

export type TrackStats = {
  inputId: string;
  channelId: string;
  trackId: string;
  memLeft: number;
  memLimit: number;
  lastTimestampMs: number;
  lastCreated: number;
  sentFrames: number;
  sentKeyFrames: number;
  written: number;
  bitrate: number;
  frameRate: number;
  mediaInfo: MediaInfo | null;
  upstreams: UpstreamStats[];
};

const RESUME: ResumeFrom[] = ["last_acked", "last_sent", "last_written"];

/**
 * One KMP output track (spec §3, §5, §9): appends minf/fram/eost to its byte log, publishes
 * through the controller on the first frame, replicates to every upstream, handles acks,
 * republish, memory limits and the teardown that ends in `unpublish`.
 */
export class KmpTrack implements UpstreamHost {
  readonly id: string;
  readonly metrics: Metrics;
  readonly mediaType: "video" | "audio";
  readonly config: TrackConfig;
  readonly runtime: Runtime;
  readonly identity: TrackIdentity;
  readonly initialFrameId: bigint;
  readonly log: ByteLog;
  readonly timeoutMs: number;
  state: TrackState = "initial";
  channelId = "";
  trackId = "";
  reason: UnpublishReason | null = null;
  readonly upstreams: KmpUpstream[] = [];

  private readonly control: TrackControl;
  private readonly logger: Logger;
  private readonly onError: (reason: UnpublishReason) => void;
  private readonly onClosed?: () => void;
  private readonly connIds: () => number;
  private mediaInfo: MediaInfo | null = null;
  private publishAbort: AbortController | null = null;
  private publishStarted = false;
  private detached = false;
  private errored = false;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** End of the last frame written (for last_written / memory pressure). */
  private lastFrameEnd = 0;
  private lastFramePacket = 0;
  // stats
  readonly frames = new FrameStats(Date.now());
  lastTimestampMs = 0;

  constructor(o: KmpTrackOptions) {
    this.id = o.id ?? "1";
    this.metrics = o.metrics ?? new Metrics();
    this.mediaType = o.mediaType;
    this.config = o.config;
    this.runtime = o.runtime;
    this.control = o.control;
    this.identity = o.identity;
    this.logger = o.log.child({ kmp_out_id: this.id });
    this.onError = o.onError;
    this.onClosed = o.onClosed;
    let ids = 1_000_000;
    this.connIds = o.nextConnectionId ?? (() => ++ids);
    this.timeoutMs = o.config.kmp_timeout;
    this.initialFrameId = o.initialFrameId ?? BigInt(wallClock(o.config.kmp_timescale));
    const video = o.mediaType === "video";
    this.log = new ByteLog({
      bufferSize: video ? o.config.kmp_video_buffer_size : o.config.kmp_audio_buffer_size,
      memLimit: video ? o.config.kmp_video_mem_limit : o.config.kmp_audio_mem_limit,
      maxFreeBuffers: o.config.kmp_max_free_buffers,
      pool: o.bufferPool,
    });
    // session batches → KmpMuxer → the log. The sink's high-water mark is the low watermark:
    // while the track is congested its write waits, the queues above fill (each counts bytes)
    // and the session stops reading the socket.
    const muxer = new KmpMuxer();
    const sink = new WritableStream<KmpPackets>(
      {
        write: (p) => {
          const waiting = this.appendPackets(p);
          if (!waiting) {
            this.queued--;
            return;
          }
          return waiting.then(() => void this.queued--);
        },
      },
      { highWaterMark: Math.max(1, Math.floor((this.log.memLimit * o.config.kmp_mem_low_watermark) / 100)), size: (p) => p.bytes },
    );
    this.drained = muxer.readable.pipeTo(sink).catch(() => {});
    this.input = muxer.writable.getWriter();
  }

  /** Settles once the sink took the last batch (after `end`) or the input failed. */
  private readonly drained: Promise<void>;

  private readonly input: WritableStreamDefaultWriter<TrackWrite[]>;

  /** `created` clock of this track (wall clock in its timescale). */
  readonly createdNow = (): number => wallClock(this.config.kmp_timescale);

  nextConnectionId(): number {
    return this.connIds();
  }

  /** Records the first reason (later ones are ignored, spec §6.6). */
  setReason(reason: UnpublishReason): void {
    this.reason ??= reason;
  }

  // ---- writing -----------------------------------------------------------------------------

  // ---- input: the session's batches → KmpMuxer → this track's log (the sink) -----------------

  /**
   * The frames of one socket read (in order). While nothing waits in the input streams and the
   * track has room, the batch is muxed and appended at once (no stream hop, no promise); else it
   * queues behind the others in the streams, which apply the backpressure.
   */
  push(writes: TrackWrite[]): void {
    if (this.queued === 0 && !this.inputClosing && !this.congested) {
      let next = writes.length;
      try {
        next = this.appendUntilCongested(muxBatch(writes), 0);
      } catch { /* the track already failed (alloc_failed) and closes the session */ }
      if (next === writes.length) return;
      writes = writes.slice(next); // congested mid-batch: the rest queues, and everything after it
    }
    this.queued++;
    this.input.write(writes).catch(() => {}); // a failed write already failed the track
  }

  /** Batches handed to the input streams and not yet in the log. */
  private queued = 0;

  /** Room left in the input queues (bytes); ≤ 0 means wait for `ready`. */
  get desiredSize(): number {
    // an errored input (null) or an ended track never holds the session back
    if (this.errored || this.state === "closed") return Infinity;
    return this.input.desiredSize ?? Infinity;
  }

  /** Resolves when the input has room again (or the track ended). */
  get ready(): Promise<void> {
    return this.input.ready.catch(() => {});
  }

  /**
   * End of the RTMP stream: everything already pushed goes to the log first, then `eost`
   * and the teardown of spec §9 (`detach`).
   */
  end(reason: UnpublishReason): void {
    this.setReason(reason);
    if (this.inputClosing) return;
    this.inputClosing = true;
    this.input.close().catch(() => {});
    void this.drained.then(() => this.detach(reason));
  }

  private inputClosing = false;

  /**
   * The sink: one batch of packets into the log. While the track is congested it waits between
   * frames (the batches behind it queue in the streams, counted in bytes), so the log never
   * holds more than the low watermark plus one frame for the upstreams that pace the publisher.
   * No promise is made unless it has to wait.
   */
  private appendPackets(p: KmpPackets, from = 0): Promise<void> | undefined {
    const next = this.appendUntilCongested(p, from);
    if (next === p.writes.length) return undefined;
    return this.whenDrained().then(() => this.appendPackets(p, next));
  }

  /** Appends writes from `from` on until the track is congested; returns where it stopped. */
  private appendUntilCongested(p: KmpPackets, from: number): number {
    for (let i = from; i < p.writes.length; i++) {
      if (this.congested) return i;
      const w = p.writes[i];
      if (w.mediaInfo) this.writeMediaInfo(w.mediaInfo, p.minf[i]!);
      this.writeFrame(w.frame, p.headers.subarray(i * FRAME_HEADER_SIZE, (i + 1) * FRAME_HEADER_SIZE));
    }
    return p.writes.length;
  }

  /** A `minf` precedes the next frame (first frame, or after a sequence header). */
  writeMediaInfo(mi: MediaInfo, bytes: Uint8Array = encodeMediaInfo(mi)): void {
    if (!this.writable()) return;
    this.log.chargeExtra(mi.extraData.byteLength);
    this.mediaInfo = mi;
    this.writePacket(PACKET_MEDIA_INFO, bytes, null);
  }

  writeFrame(f: KmpFrame, header: Uint8Array = encodeFrameHeader(f)): void {
    if (!this.writable()) return;
    this.writePacket(PACKET_FRAME, header, f.data);
    this.lastFrameEnd = this.log.written;
    this.lastFramePacket = this.log.packetCount;
    this.frames.add(f, Date.now());
    const lf = this.config.kmp_log_frames;
    if (lf === "all" || (lf === "key" && f.key && this.mediaType === "video")) {
      const md5 = createHash("md5").update(f.data).digest("hex");
      this.logger.info(`write frame: created ${f.created}, dts ${f.dts}, flags 0x${f.key ? 1 : 0}, ptsDelay ${f.ptsDelay}, size ${f.data.byteLength}, md5 ${md5}`);
    }
    if (this.state === "initial") this.startPublish();
  }

  private writable(): boolean {
    return !this.detached && !this.errored && (this.state === "initial" || this.state === "wait_publish_response" || this.state === "active");
  }

  private writePacket(kind: number, head: Uint8Array, body: Uint8Array | null): void {
    const size = head.byteLength + (body ? body.byteLength : 0);
    this.checkWatermarks(size);
    let filled: boolean;
    try {
      filled = this.log.writePacket(kind, head, body);
    } catch (err) {
      this.fail("alloc_failed", err as Error);
      throw err;
    }
    // deferred republishes wait for new data (spec §5.7), still paced by the interval and the maximum
    for (const u of this.upstreams) if (u.deferredRepublish) this.resumeDeferred(u);
    if (filled) {
      this.armFlush(true);
      this.sendAll();
    } else this.armFlush(false);
  }

  private armFlush(reset: boolean): void {
    if (this.flushTimer && !reset) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      try {
        this.log.appendAll();
        this.sendAll();
        this.relieve();
      } catch (err) {
        this.fail("unexpected", err as Error);
      }
    }, this.config.kmp_flush_timeout);
  }

  private sendAll(): void {
    for (const u of this.upstreams) u.pump();
    this.releaseAcked();
  }

  // ---- memory --------------------------------------------------------------------------------

  /**
   * Memory watermarks (spec §5.9), run before every write and on every upstream progress (ack,
   * socket write) and flush tick, so memory held by a stalled upstream is relieved when it
   * happens, not at the next frame: auto-ack the slowest upstream, disconnect it so it resumes
   * from newer data, or — where republish is not possible — drop it if it is not required.
   */
  private checkWatermarks(nextSize: number): void {
    const limit = this.log.memLimit;
    const highLeft = ((100 - this.config.kmp_mem_high_watermark) * limit) / 100;
    const lowLeft = ((100 - this.config.kmp_mem_low_watermark) * limit) / 100;
    if (this.log.memLeft - nextSize >= highLeft) return;
    while (this.log.memLeft < lowLeft + nextSize) {
      const u = this.slowest();
      if (!u) break;
      const before = u.ackedOffset;
      if (u.state === "connected") {
        u.autoAck(u.sentOffset);
        if (u.ackedOffset === before) {
          // A required upstream is never cut off from data it has not received: what it has not
          // sent yet paces the publisher (backlog), and a stalled one ends by kmp_timeout.
          if (u.required) break;
          if (!this.republishPossible(u)) {
            this.logger.warn(`memory pressure: dropping upstream '${u.id}' (not required, cannot republish)`);
            this.giveUp(u, new KmpError("KMP_ERR_MEM_PRESSURE", `upstream '${u.id}' dropped under memory pressure`));
            continue;
          }
          this.logger.warn(`memory pressure: disconnecting upstream '${u.id}' so it resumes from newer data`);
          u.closeSocket();
          u.state = "idle";
          u.autoAck(this.lastFrameEnd);
          this.scheduleRepublish(u);
        }
      } else u.autoAck(this.lastFrameEnd);
      if (u.ackedOffset === before) break;
      this.releaseAcked();
    }
  }

  private slowest(): KmpUpstream | null {
    let s: KmpUpstream | null = null;
    for (const u of this.upstreams) if (!s || u.ackedFrameId < s.ackedFrameId) s = u;
    return s;
  }

  private releaseAcked(): void {
    const s = this.slowest();
    if (s) {
      let min = s.ackedOffset;
      for (const u of this.upstreams) if (u.ackedOffset < min) min = u.ackedOffset;
      this.log.release(min);
    }
    if (this.drainWaiters.length && !this.congested) this.wakeDrainWaiters();
  }

  private drainWaiters: (() => void)[] = [];

  /**
   * Backpressure: more than the low watermark of the memory limit is retained (waiting for the
   * publish answer or for acks). The session stops reading the RTMP socket until it drains, so
   * a publisher faster than its upstreams is slowed down instead of being dropped.
   */
  get congested(): boolean {
    if (this.state !== "active" && this.state !== "wait_publish_response") return false;
    if (this.errored || this.detached) return false;
    return this.backlog() * 100 >= this.config.kmp_mem_low_watermark * this.log.memLimit;
  }

  /**
   * Bytes the publisher must wait for: before the publish answer, everything retained; then
   * what the required upstreams have not yet handed to their sockets (all of them must keep
   * up), or with none required, the fastest upstream's. A stalled non-required replica never
   * paces the publisher: the watermark procedure relieves or drops it.
   */
  private backlog(): number {
    const written = this.log.written;
    if (this.upstreams.length === 0) return this.log.memLimit - this.log.memLeft;
    let required = -1;
    let fastest = Infinity;
    for (const u of this.upstreams) {
      const unsent = written - (u.state === "connected" ? u.sentOffset : u.ackedOffset);
      if (u.required && unsent > required) required = unsent;
      if (unsent < fastest) fastest = unsent;
    }
    return required >= 0 ? required : fastest;
  }

  /** Relief outside a write (ack, socket progress, flush tick). */
  private relieve(): void {
    if (this.state !== "active" || this.errored) return;
    try {
      this.checkWatermarks(0);
    } catch (err) {
      this.fail("unexpected", err as Error);
    }
  }

  /** Resolves once the track is no longer congested (or ends). */
  whenDrained(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private wakeDrainWaiters(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  // ---- publish -------------------------------------------------------------------------------

  private startPublish(): void {
    this.state = "wait_publish_response";
    this.publishStarted = true;
    const abort = new AbortController();
    this.publishAbort = abort;
    const mi = this.mediaInfo!;
    this.control.publish(mi, abort.signal).then((answer) => {
      if (abort.signal.aborted) return;
      this.publishAbort = null;
      this.onPublishAnswer(answer);
    }, (err) => {
      if (abort.signal.aborted) return;
      this.publishAbort = null;
      this.logger.error(`publish failed: ${(err as Error).message}`);
      this.fail("parse_publish_failed", err as Error);
    });
  }

  private onPublishAnswer(a: PublishAnswer): void {
    if (this.state === "closed" || this.errored) return;
    this.channelId = a.channel_id;
    this.trackId = a.track_id;
    this.logger.info(`published: channel '${a.channel_id}' track '${a.track_id}', ${a.upstreams.length} upstream(s)`);
    if (a.upstreams.length === 0) {
      this.state = "inactive";
      this.log.clear();
      this.wakeDrainWaiters();
      if (this.detached) this.finish();
      return;
    }
    const specs = [];
    for (const u of a.upstreams) {
      const resume = u.resume_from.toLowerCase() as ResumeFrom;
      const data = u.connect_data === null ? new Uint8Array(0) : decodeBase64(u.connect_data);
      if (!parseKmpUrl(u.url) || !RESUME.includes(resume) || !data) {
        this.fail("create_upstream_failed", new KmpError("KMP_ERR_BAD_UPSTREAM", `invalid upstream ${JSON.stringify(u)}`));
        return;
      }
      specs.push({ id: u.id, url: u.url, required: u.required, resumeFrom: resume, connectData: data });
    }
    this.state = "active";
    for (const s of specs) this.addUpstreamFrom(s, null);
    if (this.detached) this.endUpstreams();
  }

  private addUpstreamFrom(s: { id: string; url: string; required: boolean; resumeFrom: ResumeFrom; connectData: Uint8Array }, src: KmpUpstream | null): KmpUpstream {
    const u = new KmpUpstream(this, {
      ...s,
      ackedFrameId: src ? src.ackedFrameId : this.initialFrameId,
      ackedOffset: src ? src.ackedOffset : 0,
      ackedPacket: src ? src.ackedPacket : this.log.firstPacket,
      ackedMinf: src ? src.ackedMinf : null,
      logger: this.logger,
    });
    if (src) u.lastAck = { ...src.lastAck };
    this.upstreams.push(u);
    u.connect();
    return u;
  }

  /** kmp-out API: add an upstream copying the acknowledged state of `src_id` (or the slowest). */
  addUpstream(body: { url: string; id: string; src_id?: string; required: boolean; resume_from: ResumeFrom; connect_data?: string }):
    { ok: true; upstream: UpstreamStats } | { ok: false; status: 404 | 415 | 500; message: string } {
    if (this.state !== "active" || this.upstreams.length === 0) return { ok: false, status: 404, message: "the track has no upstreams" };
    const src = body.src_id !== undefined ? this.upstreams.find((u) => u.id === body.src_id) : this.slowest();
    if (!src) return { ok: false, status: 404, message: `upstream '${body.src_id}' not found` };
    if (!parseKmpUrl(body.url)) return { ok: false, status: 415, message: `invalid url '${body.url}'` };
    const data = body.connect_data === undefined ? new Uint8Array(0) : decodeBase64(body.connect_data);
    if (!data) return { ok: false, status: 500, message: "connect_data is not valid base64" };
    const u = this.addUpstreamFrom({ id: body.id, url: body.url, required: body.required, resumeFrom: body.resume_from, connectData: data }, src);
    return { ok: true, upstream: u.stats(this.initialFrameId) };
  }

  /** kmp-out API: removing the last upstream makes the track inactive. */
  removeUpstream(id: string): boolean {
    const u = this.upstreams.find((x) => x.id === id);
    if (!u) return false;
    this.freeUpstream(u);
    if (this.upstreams.length === 0 && this.state === "active") {
      this.state = "inactive";
      this.log.clear();
      if (this.detached) this.finish();
    }
    return true;
  }

  // ---- upstream events (UpstreamHost) --------------------------------------------------------

  upstreamProgress(_u: KmpUpstream): void {
    this.releaseAcked();
    this.relieve();
  }

  upstreamEnded(u: KmpUpstream): void {
    this.logger.info(`upstream '${u.id}' closed after eost`);
    this.freeUpstream(u);
    if (this.upstreams.length === 0) this.finish();
  }

  upstreamError(u: KmpUpstream, err: Error): void {
    this.logger.warn(`upstream '${u.id}' error: ${err.message}`);
    if (!this.republishPossible(u)) {
      this.giveUp(u, err);
      return;
    }
    if (u.everConnected && !u.pending && u.endOffset < 0) {
      u.deferredRepublish = true; // nothing to resend: wait for new data (spec §5.7)
      return;
    }
    if (u.resumeFrom === "last_written") u.autoAck(this.lastFrameEnd);
    this.scheduleRepublish(u);
  }

  /** Spec §5.7 step 1: an active track, a republish URL, a recoverable upstream, the rate limit. */
  private republishPossible(u: KmpUpstream): boolean {
    if (this.state !== "active" || this.detached) return false;
    return this.republishAllowed(u);
  }

  /** Every rule of §5.7 but "active": also asked for an upstream that still owes the receiver `eost`. */
  private republishAllowed(u: KmpUpstream): boolean {
    if (this.errored || this.state === "closed") return false;
    if (!this.control.canRepublish || u.unrecoverable) return false;
    const since = Date.now() - u.lastRepublishMs;
    return !(since < this.config.kmp_republish_interval && u.consecutiveRepublishes >= this.config.kmp_max_republishes);
  }

  /**
   * A deferred republish (nothing was pending when the upstream failed) wakes on new data, a
   * frame or `eost`. It takes the same paced path as every other republish, so a receiver that
   * fails at once on every connection cannot cause a storm of requests; once the rate limit is
   * exhausted the upstream is given up (required rule).
   */
  private resumeDeferred(u: KmpUpstream): void {
    u.deferredRepublish = false;
    if (!this.republishAllowed(u)) {
      this.giveUp(u, new KmpError("KMP_ERR_REPUBLISH_LIMIT", `upstream '${u.id}': republish limit reached (${this.config.kmp_max_republishes} within ${this.config.kmp_republish_interval} ms)`));
      return;
    }
    if (u.resumeFrom === "last_written") u.autoAck(this.lastFrameEnd);
    this.scheduleRepublish(u);
  }

  /** Frees a failed upstream; a required (or the last) one fails the track unless it is ending. */
  private giveUp(u: KmpUpstream, err: Error): void {
    this.freeUpstream(u);
    if (this.state === "closed") return;
    if (this.detached || this.state !== "active") {
      if (this.upstreams.length === 0) this.finish();
      return;
    }
    if (u.required || this.upstreams.length === 0) this.fail("upstream_error", err);
  }

  private scheduleRepublish(u: KmpUpstream): void {
    if (u.republishTimer || u.republishing) return;
    const since = Date.now() - u.lastRepublishMs;
    if (since >= this.config.kmp_republish_interval) {
      u.consecutiveRepublishes = 0;
      this.sendRepublish(u);
      return;
    }
    u.consecutiveRepublishes++;
    if (u.republishTimer) clearTimeout(u.republishTimer);
    u.republishTimer = setTimeout(() => {
      u.republishTimer = null;
      this.sendRepublish(u);
    }, this.config.kmp_republish_interval - since);
  }

  private sendRepublish(u: KmpUpstream): void {
    u.deferredRepublish = false;
    u.lastRepublishMs = Date.now();
    this.metrics.inc("rtmp_kmp_republishes_total", { media: this.mediaType });
    const abort = new AbortController();
    u.republishing = abort;
    this.control.republish({ upstreamId: u.id, channelId: this.channelId, trackId: this.trackId, mediaInfo: this.mediaInfo! }, abort.signal)
      .then((a) => {
        if (abort.signal.aborted || !this.upstreams.includes(u)) return;
        u.republishing = null;
        u.url = a.url;
        if (a.connect_data) u.connectData = a.connect_data;
        if (this.state !== "active") {
          this.giveUp(u, new KmpError("KMP_ERR_ENDED", `upstream '${u.id}': the track is ${this.state}`));
          return;
        }
        if (this.detached) u.setEnd(this.eostEnd);
        u.connect();
      }, (err) => {
        if (abort.signal.aborted || !this.upstreams.includes(u)) return;
        u.republishing = null;
        this.logger.warn(`republish of upstream '${u.id}' failed: ${(err as Error).message}`);
        this.giveUp(u, err as Error);
      });
  }

  private freeUpstream(u: KmpUpstream): void {
    u.destroy();
    const i = this.upstreams.indexOf(u);
    if (i >= 0) this.upstreams.splice(i, 1);
    this.releaseAcked();
  }

  // ---- teardown ------------------------------------------------------------------------------

  /** A track failure: record the reason and ask the owner to close the RTMP connection. */
  private fail(reason: UnpublishReason, err: Error): void {
    if (this.errored || this.state === "closed") return;
    this.logger.error(`track error (${reason}): ${err.message}`);
    this.setReason(reason);
    this.errored = true;
    this.wakeDrainWaiters();
    this.onError(reason);
    if (this.detached) this.finishNow();
  }

  /**
   * End of the RTMP stream (spec §9): write `eost` after everything buffered, wait for every
   * receiver to close (bounded by kmp_timeout after eost, unlike the reference), then unpublish.
   * If the publish answer is still pending we keep waiting for it and deliver (deviation, s02).
   */
  detach(reason: UnpublishReason): void {
    if (this.detached) return;
    this.detached = true;
    this.setReason(reason);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.errored) {
      this.finishNow();
      return;
    }
    switch (this.state) {
      case "initial":
        this.destroy(false);
        return;
      case "wait_publish_response":
        // keep buffering state; the answer will connect upstreams, then endUpstreams()
        this.writeEost();
        return;
      case "inactive":
        this.finish();
        return;
      case "active":
        this.writeEost();
        this.endUpstreams();
        return;
      default:
        return;
    }
  }

  private eostWritten = false;
  private eostEnd = -1;

  private writeEost(): void {
    if (this.eostWritten) return;
    this.eostWritten = true;
    try {
      this.log.writePacket(PACKET_OTHER, EOST, null);
      this.log.appendAll();
      this.eostEnd = this.log.written;
    } catch (err) {
      this.logger.warn(`cannot write eost: ${(err as Error).message}`);
      this.finishNow();
    }
  }

  private endUpstreams(): void {
    if (this.upstreams.length === 0) {
      this.finish();
      return;
    }
    for (const u of [...this.upstreams]) {
      if (u.republishTimer || u.republishing) continue; // still recovering: it reconnects and gets eost
      if (u.deferredRepublish) {
        this.resumeDeferred(u); // eost is the new data it waits for
        continue;
      }
      if (u.state === "idle") {
        this.freeUpstream(u);
        continue;
      }
      u.setEnd(this.eostEnd);
      u.pump();
    }
    if (this.upstreams.length === 0) this.finish();
  }

  /** Close every upstream without eost (write error), then unpublish. */
  private finishNow(): void {
    for (const u of [...this.upstreams]) this.freeUpstream(u);
    this.finish();
  }

  /** Last upstream gone: release memory, unpublish (if a publish was ever started), destroy. */
  private finish(): void {
    if (this.state === "closed") return;
    if (this.publishAbort && !this.errored && this.state === "wait_publish_response") return; // answer still pending
    this.destroy(this.publishStarted);
  }

  private destroy(unpublish: boolean): void {
    if (this.state === "closed") return;
    this.publishAbort?.abort();
    this.publishAbort = null;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (const u of this.upstreams) u.destroy();
    this.upstreams.length = 0;
    this.state = "closed";
    this.log.clear();
    this.wakeDrainWaiters();
    if (unpublish) {
      const reason = this.reason ?? "rtmp_close";
      this.logger.info(`unpublish (${reason})`);
      this.control.unpublish(reason);
    }
    this.onClosed?.();
  }

  /** Hard stop (server shutdown grace expired). */
  close(reason: UnpublishReason): void {
    this.setReason(reason);
    this.input.abort().catch(() => {});
    this.destroy(this.publishStarted);
  }

  // ---- API -----------------------------------------------------------------------------------

  stats(): TrackStats {
    return {
      inputId: this.identity.inputId,
      channelId: this.channelId,
      trackId: this.trackId,
      memLeft: this.log.memLeft,
      memLimit: this.log.memLimit,
      lastTimestampMs: this.lastTimestampMs,
      lastCreated: this.frames.lastCreated,
      sentFrames: this.frames.sentFrames,
      sentKeyFrames: this.frames.sentKeyFrames,
      written: this.log.written,
      bitrate: this.frames.bitrate,
      frameRate: this.frames.frameRate,
      mediaInfo: this.mediaInfo,
      upstreams: this.upstreams.map((u) => u.stats(this.initialFrameId)),
    };
  }
}
