import type { TrackConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { MediaInfo } from "../media/types.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Metrics } from "../stats/metrics.ts";
import { wallClock, type Clock } from "../time/clock.ts";
import type { BufferPool } from "../bytes/buffer-pool.ts";
import { ByteLog } from "./byte-log.ts";
import type { PublishAnswer, TrackControl, TrackIdentity, UnpublishReason } from "./controller.ts";
import type { HeaderScratch, TrackWrite } from "./muxer.ts";
import { TrackInput, type InputOwner } from "./track-input.ts";
import { TrackUpstreams, type AddUpstreamRequest, type UpstreamsOwner } from "./track-upstreams.ts";
import { upstreamSpecs } from "./publish-answer.ts";
import { trackStats, type TrackStats } from "./track-stats.ts";
import { lowWatermarkRoom, relieveMemory } from "./watermarks.ts";
import { mutableField } from "../mutable-field.ts";

export type TrackState = "initial" | "wait_publish_response" | "active" | "inactive" | "closed";

/** What a track is built with: its server's shared parts are required, so every track behaves alike. */
export type KmpTrackOptions = {
  /** The kmp-out API id of this track, unique in the server. */
  id: string;
  mediaType: "video" | "audio";
  config: TrackConfig;
  runtime: Runtime;
  clock: Clock;
  control: TrackControl;
  identity: TrackIdentity;
  log: Logger;
  /** The server's registry (republishes, acks). */
  metrics: Metrics;
  /** The server's pool of released log buffers (shared by its tracks). */
  bufferPool: BufferPool;
  /** The muxers' frame-header scratch (shared by the server's tracks, see `KmpMuxer`). */
  headerScratch: HeaderScratch;
  /** Upstream connection ids (unique in the server). */
  nextConnectionId: () => number;
  /** The track failed: the owner closes the RTMP connection (spec §9). */
  onError: (reason: UnpublishReason) => void;
  /** Destroyed, after the unpublish notification. */
  onClosed?: () => void;
};

/**
 * One KMP output track (spec §3, §5, §9): its state machine (initial → waiting for the publish
 * answer → active or inactive → closed), the publish answer that creates its upstreams, the
 * teardown that ends in `unpublish`, and its statistics. Frames come in through its `TrackInput`
 * (muxer → log), leave through its `UpstreamSet`; the republish policy and the memory
 * watermarks act on them.
 */
export class KmpTrack implements InputOwner, UpstreamsOwner {
  readonly id: string;
  readonly mediaType: "video" | "audio";
  readonly config: TrackConfig;
  readonly clock: Clock;
  readonly identity: TrackIdentity;
  readonly initialFrameId: bigint;
  readonly log: ByteLog;
  readonly logger: Logger;
  state: TrackState = "initial";
  channelId = "";
  trackId = "";
  reason: UnpublishReason | null = null;

  /** The track failed (its unpublish reason is set). */
  errored = false;
  /** Where `eost` ends in the log (-1 before it is written). */
  eostEnd = -1;

  private readonly input: TrackInput;
  private readonly out: TrackUpstreams;
  private readonly control: TrackControl;
  private readonly onError: (reason: UnpublishReason) => void;
  private readonly onClosed?: () => void;
  private readonly metrics: Metrics;
  private publishAbort: AbortController | null = null;
  private publishStarted = false;
  private detached = false;

  constructor(o: KmpTrackOptions) {
    this.id = o.id;
    this.mediaType = o.mediaType;
    this.config = o.config;
    this.clock = o.clock;
    this.control = o.control;
    this.identity = o.identity;
    this.logger = o.log.child({ kmp_out_id: this.id });
    this.onError = o.onError;
    this.onClosed = o.onClosed;
    this.metrics = o.metrics;
    this.initialFrameId = BigInt(wallClock(o.clock, o.config.kmp_timescale));
    const video = o.mediaType === "video";
    this.log = new ByteLog({
      bufferSize: video ? o.config.kmp_video_buffer_size : o.config.kmp_audio_buffer_size,
      memLimit: video ? o.config.kmp_video_mem_limit : o.config.kmp_audio_mem_limit,
      maxFreeBuffers: o.config.kmp_max_free_buffers,
      pool: o.bufferPool,
    });
    this.input = new TrackInput({ owner: this, log: this.log, config: o.config, clock: o.clock, logger: this.logger, mediaType: o.mediaType, headerScratch: o.headerScratch });
    this.out = new TrackUpstreams({
      owner: this,
      log: this.log,
      config: o.config,
      runtime: o.runtime,
      clock: o.clock,
      metrics: o.metrics,
      control: o.control,
      logger: this.logger,
      mediaType: o.mediaType,
      nextConnectionId: o.nextConnectionId,
    });
    // written late in its life (see mutableField)
    mutableField(this, "detached", true);
    mutableField(this, "reason", "rtmp_close");
    mutableField(this, "eostEnd", 0);
  }

  /** The upstreams (the API lists them, `/metrics` counts them). */
  get upstreams(): TrackUpstreams["set"] {
    return this.out.set;
  }

  /** Records the first reason (later ones are ignored, spec §6.6). */
  setReason(reason: UnpublishReason): void {
    this.reason ??= reason;
  }

  get frames(): TrackInput["frames"] {
    return this.input.frames;
  }

  get mediaInfo(): MediaInfo | null {
    return this.input.mediaInfo;
  }

  get lastFrameEnd(): number {
    return this.input.lastFrameEnd;
  }

  // ---- input: the session's batches → KmpMuxer → the log -----------------------------------

  /** The frames of one socket read, in order (see `KmpMuxer.push`). */
  push(writes: TrackWrite[]): void {
    this.input.muxer.push(writes);
  }

  /** Room left in the input queues (bytes); ≤ 0 means wait for `ready`. */
  get desiredSize(): number {
    // an errored input (null) or an ended track never holds the session back
    if (this.errored || this.state === "closed") return Infinity;
    return this.input.muxer.desiredSize ?? Infinity;
  }

  /** Resolves when the input has room again (or the track ended). */
  get ready(): Promise<void> {
    return this.input.muxer.ready;
  }

  /**
   * End of the RTMP stream: everything already pushed goes to the log first, then `eost`
   * and the teardown of spec §9 (`detach`).
   */
  end(reason: UnpublishReason): void {
    this.setReason(reason);
    this.input.muxer.close();
    void this.input.muxer.drained.then(() => this.detach(reason));
  }

  // ---- InputOwner ----------------------------------------------------------------------------

  get accepting(): boolean {
    return !this.detached && !this.errored && (this.state === "initial" || this.state === "wait_publish_response" || this.state === "active");
  }

  get congested(): boolean {
    return this.room() <= 0;
  }

  room(): number {
    // the first frame starts the publish (the state changes inside a write): asked again after it
    if (this.state === "initial") return 1;
    if (this.state !== "active" && this.state !== "wait_publish_response") return Infinity;
    if (this.errored || this.detached) return Infinity;
    return lowWatermarkRoom(this.log, this.out.set, this.config);
  }

  beforeWrite(size: number): boolean {
    return relieveMemory(this.out, size);
  }

  written(filled: boolean): void {
    this.out.written(filled);
  }

  flushed(): void {
    this.out.sendAll();
    this.out.relieve();
  }

  firstFrame(): void {
    this.startPublish();
  }

  // ---- UpstreamsOwner ------------------------------------------------------------------------

  get active(): boolean {
    return this.state === "active";
  }

  get ending(): boolean {
    return this.detached;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  allGone(): void {
    this.finish();
  }

  roomMade(): void {
    this.input.roomMade();
  }

  // ---- publish -------------------------------------------------------------------------------

  private startPublish(): void {
    this.state = "wait_publish_response";
    this.publishStarted = true;
    const abort = new AbortController();
    this.publishAbort = abort;
    this.control.publish(this.mediaInfo!, abort.signal).then((answer) => {
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
      this.becomeInactive();
      return;
    }
    const specs = upstreamSpecs(a.upstreams);
    if (specs instanceof Error) {
      this.fail("create_upstream_failed", specs);
      return;
    }
    this.state = "active";
    this.out.openAll(specs);
    if (this.detached) this.out.end();
  }

  /** No upstreams (answer or API): nothing is retained; an ended track finishes. */
  private becomeInactive(): void {
    this.state = "inactive";
    this.log.clear();
    this.input.wakeAll();
    if (this.detached) this.finish();
  }

  /** kmp-out API: add an upstream copying the acknowledged state of `src_id` (or the slowest). */
  addUpstream(body: AddUpstreamRequest): ReturnType<TrackUpstreams["add"]> {
    return this.out.add(body);
  }

  /** kmp-out API: removing the last upstream makes the track inactive. */
  removeUpstream(id: string): boolean {
    if (!this.out.remove(id)) return false;
    if (this.out.set.size === 0 && this.state === "active") this.becomeInactive();
    return true;
  }

  // ---- teardown ------------------------------------------------------------------------------

  /** A track failure: record the reason and ask the owner to close the RTMP connection. */
  fail(reason: UnpublishReason, err: Error): void {
    if (this.errored || this.state === "closed") return;
    this.logger.error(`track error (${reason}): ${err.message}`);
    this.setReason(reason);
    this.errored = true;
    this.input.wakeAll();
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
    this.input.stopFlush();
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
        if (this.writeEost()) this.out.end();
        return;
      default:
        return;
    }
  }

  /** False when it could not be written (the track then closes without it). */
  private writeEost(): boolean {
    if (this.eostEnd >= 0) return true;
    this.eostEnd = this.input.writeEost();
    if (this.eostEnd >= 0) return true;
    this.finishNow();
    return false;
  }

  /** Close every upstream without eost (write error), then unpublish. */
  private finishNow(): void {
    this.out.freeAll();
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
    this.input.stopFlush();
    this.out.destroyAll();
    this.state = "closed";
    this.log.clear();
    this.input.wakeAll();
    if (unpublish) {
      const reason = this.reason ?? "rtmp_close";
      this.logger.info(`unpublish (${reason})`);
      this.metrics.inc("rtmp_kmp_unpublishes_total", { media: this.mediaType, reason });
      this.control.unpublish(reason);
    }
    this.onClosed?.();
  }

  /** Hard stop (server shutdown grace expired). */
  close(reason: UnpublishReason): void {
    this.setReason(reason);
    this.input.muxer.abort();
    this.destroy(this.publishStarted);
  }

  /** What the API shows of this track. */
  stats(): TrackStats {
    return trackStats(this, this.input.frames, this.out.stats());
  }
}
