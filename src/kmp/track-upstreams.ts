import type { ResumeFrom, TrackConfig } from "../config/types.ts";
import { decodeBase64 } from "../bytes/base64.ts";
import type { Logger } from "../log/logger.ts";
import type { MediaInfo } from "../media/types.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Metrics } from "../stats/metrics.ts";
import type { Clock } from "../time/clock.ts";
import { AckPosition } from "./acks.ts";
import type { ByteLog } from "./byte-log.ts";
import type { TrackControl, UnpublishReason } from "./controller.ts";
import { KmpError } from "./errors.ts";
import { RepublishPolicy, type RepublishHost } from "./republish.ts";
import { UpstreamSet } from "./upstream-set.ts";
import { KmpUpstream, type UpstreamHost, type UpstreamSpec, type UpstreamStats } from "./upstream.ts";
import { parseKmpUrl } from "./url.ts";
import { relieveMemory, type MemoryOwner } from "./watermarks.ts";

/** What a track's upstreams need to know of it, and how they end it. */
export interface UpstreamsOwner {
  readonly channelId: string;
  readonly trackId: string;
  readonly mediaInfo: MediaInfo | null;
  readonly initialFrameId: bigint;
  /** End of the last frame written (last_written, memory pressure). */
  readonly lastFrameEnd: number;
  /** Where `eost` ends in the log (-1 before it is written). */
  readonly eostEnd: number;
  /** The publish answer named upstreams and the track is not closed. */
  readonly active: boolean;
  /** The RTMP stream ended (eost is or will be written): a lost upstream is not replaced. */
  readonly ending: boolean;
  /** The track failed (its unpublish reason is set); nothing is republished any more. */
  readonly errored: boolean;
  readonly closed: boolean;
  /** A required (or the last) upstream is lost for good. */
  fail(reason: UnpublishReason, err: Error): void;
  /** Every upstream is gone while the track ends. */
  allGone(): void;
  /** The log released memory: the input may take frames again. */
  roomMade(): void;
}

/** Why the kmp-out API could not add an upstream (the API layer picks the HTTP status). */
export type AddUpstreamFailure = "no_upstreams" | "unknown_source" | "bad_url" | "bad_connect_data";

/** An upstream as the kmp-out API adds it. */
export type AddUpstreamRequest = { url: string; id: string; src_id?: string; required: boolean; resume_from: ResumeFrom; connect_data?: string };

/**
 * The upstreams of one track through their lives (spec §5.3-5.9): opened from the publish answer
 * or the kmp-out API, fed from the shared log, republished through the track's policy when one
 * fails, given up when it cannot be (a required one fails the track), sent `eost` at the end.
 * It is what the memory watermarks act on.
 */
export class TrackUpstreams implements UpstreamHost, RepublishHost, MemoryOwner {
  readonly set = new UpstreamSet();
  readonly log: ByteLog;
  readonly config: TrackConfig;
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly timeoutMs: number;
  private readonly owner: UpstreamsOwner;
  private readonly policy: RepublishPolicy;
  private readonly connIds: () => number;

  constructor(o: {
    owner: UpstreamsOwner;
    log: ByteLog;
    config: TrackConfig;
    runtime: Runtime;
    clock: Clock;
    metrics: Metrics;
    control: TrackControl;
    logger: Logger;
    mediaType: "video" | "audio";
    nextConnectionId: () => number;
  }) {
    this.owner = o.owner;
    this.log = o.log;
    this.config = o.config;
    this.runtime = o.runtime;
    this.clock = o.clock;
    this.metrics = o.metrics;
    this.logger = o.logger;
    this.timeoutMs = o.config.kmp_timeout;
    this.connIds = o.nextConnectionId;
    this.policy = new RepublishPolicy({ host: this, config: o.config, control: o.control, clock: o.clock, metrics: o.metrics, mediaType: o.mediaType, logger: o.logger });
  }

  get channelId(): string {
    return this.owner.channelId;
  }
  get trackId(): string {
    return this.owner.trackId;
  }
  get mediaInfo(): MediaInfo | null {
    return this.owner.mediaInfo;
  }
  get lastFrameEnd(): number {
    return this.owner.lastFrameEnd;
  }
  nextConnectionId(): number {
    return this.connIds();
  }

  /** The publish answer's upstreams, each from the start of the log. */
  openAll(specs: UpstreamSpec[]): void {
    for (const s of specs) this.open(s, new AckPosition({ frameId: this.owner.initialFrameId, offset: 0, packet: this.log.firstPacket }));
  }

  private open(spec: UpstreamSpec, acked: AckPosition): KmpUpstream {
    const u = new KmpUpstream(this, spec, acked, this.logger);
    this.set.add(u);
    u.connect();
    return u;
  }

  /** kmp-out API: an upstream that starts where `src_id` (or the slowest) is acknowledged. */
  add(body: AddUpstreamRequest): { ok: true; upstream: UpstreamStats } | { ok: false; failure: AddUpstreamFailure; message: string } {
    if (!this.owner.active || this.set.size === 0) return { ok: false, failure: "no_upstreams", message: "the track has no upstreams" };
    const src = body.src_id !== undefined ? this.set.find(body.src_id) : this.set.slowest();
    if (!src) return { ok: false, failure: "unknown_source", message: `upstream '${body.src_id}' not found` };
    if (!parseKmpUrl(body.url)) return { ok: false, failure: "bad_url", message: `invalid url '${body.url}'` };
    const data = body.connect_data === undefined ? new Uint8Array(0) : decodeBase64(body.connect_data);
    if (!data) return { ok: false, failure: "bad_connect_data", message: "connect_data is not valid base64" };
    const u = this.open({ id: body.id, url: body.url, required: body.required, resumeFrom: body.resume_from, connectData: data }, AckPosition.copyOf(src.acked));
    return { ok: true, upstream: u.stats(this.owner.initialFrameId) };
  }

  /** kmp-out API: false when there is no such upstream. */
  remove(id: string): boolean {
    const u = this.set.find(id);
    if (!u) return false;
    this.free(u);
    return true;
  }

  stats(): UpstreamStats[] {
    return [...this.set].map((u) => u.stats(this.owner.initialFrameId));
  }

  // ---- following the log ---------------------------------------------------------------------

  /** After a write: deferred republishes wake on new data (spec §5.7); a filled buffer goes out. */
  written(filled: boolean): void {
    if (this.policy.anyDeferred) for (const u of this.set.snapshot()) if (this.policy.deferred(u)) this.resumeDeferred(u);
    if (filled) this.sendAll();
  }

  sendAll(): void {
    for (const u of this.set) u.pump();
    this.releaseAcked();
  }

  releaseAcked(): void {
    const min = this.set.minAckedOffset();
    if (min >= 0) this.log.release(min);
    this.owner.roomMade();
  }

  /** Watermark relief outside a write (ack, socket progress, flush tick). */
  relieve(): void {
    if (!this.owner.active || this.owner.errored) return;
    try {
      relieveMemory(this, 0);
    } catch (err) {
      this.owner.fail("unexpected", err as Error);
    }
  }

  // ---- UpstreamHost --------------------------------------------------------------------------

  upstreamProgress(_u: KmpUpstream): void {
    this.releaseAcked();
    this.relieve();
  }

  upstreamEnded(u: KmpUpstream): void {
    this.logger.info(`upstream '${u.id}' closed after eost`);
    this.free(u);
    if (this.set.size === 0) this.owner.allGone();
  }

  upstreamError(u: KmpUpstream, err: Error): void {
    this.logger.warn(`upstream '${u.id}' error: ${err.message}`);
    if (!this.canRepublish(u)) {
      this.drop(u, err);
      return;
    }
    if (u.everConnected && !u.pending && u.endOffset < 0) {
      this.policy.defer(u); // nothing to resend: wait for new data (spec §5.7)
      return;
    }
    this.republish(u);
  }

  // ---- RepublishHost and the republish rules -------------------------------------------------

  hasUpstream(u: KmpUpstream): boolean {
    return this.set.has(u);
  }

  republished(u: KmpUpstream): void {
    if (!this.owner.active) {
      this.drop(u, new KmpError("KMP_ERR_ENDED", `upstream '${u.id}': the track is no longer active`));
      return;
    }
    if (this.owner.ending) u.setEnd(this.owner.eostEnd);
    u.republishes++;
    u.connect();
  }

  republishFailed(u: KmpUpstream, err: Error): void {
    this.drop(u, err);
  }

  /** Spec §5.7 step 1: an active track, a republish URL, a recoverable upstream, the rate limit. */
  canRepublish(u: KmpUpstream): boolean {
    return this.owner.active && !this.owner.ending && this.republishAllowed(u);
  }

  /** Every rule of §5.7 but "active": also asked for an upstream that still owes the receiver `eost`. */
  private republishAllowed(u: KmpUpstream): boolean {
    return !this.owner.errored && !this.owner.closed && this.policy.allowed(u);
  }

  /** Reconnect through the policy (last_written resumes after the last frame written). */
  republish(u: KmpUpstream): void {
    if (u.resumeFrom === "last_written") u.acked.autoAck(this.log, this.owner.lastFrameEnd);
    this.policy.schedule(u);
  }

  /**
   * A deferred republish (nothing was pending when the upstream failed) wakes on new data, a
   * frame or `eost`. It takes the same paced path as every other republish, so a receiver that
   * fails at once on every connection cannot cause a storm of requests; once the rate limit is
   * exhausted the upstream is given up (required rule).
   */
  private resumeDeferred(u: KmpUpstream): void {
    if (!this.republishAllowed(u)) {
      this.drop(u, new KmpError("KMP_ERR_REPUBLISH_LIMIT", `upstream '${u.id}': republish limit reached (${this.config.kmp_max_republishes} within ${this.config.kmp_republish_interval} ms)`));
      return;
    }
    this.republish(u);
  }

  /** Frees a failed upstream; a required (or the last) one fails the track unless it is ending. */
  drop(u: KmpUpstream, err: Error): void {
    this.free(u);
    if (this.owner.closed) return;
    if (this.owner.ending || !this.owner.active) {
      if (this.set.size === 0) this.owner.allGone();
      return;
    }
    if (u.required || this.set.size === 0) this.owner.fail("upstream_error", err);
  }

  private free(u: KmpUpstream): void {
    u.destroy();
    this.policy.forget(u);
    this.set.remove(u);
    this.releaseAcked();
  }

  // ---- the end -------------------------------------------------------------------------------

  /** `eost` is in the log: each upstream sends up to it and waits for its receiver to close. */
  end(): void {
    for (const u of this.set.snapshot()) {
      if (this.policy.recovering(u)) continue; // still recovering: it reconnects and gets eost
      if (this.policy.deferred(u)) {
        this.resumeDeferred(u); // eost is the new data it waits for
        continue;
      }
      if (u.state === "idle") {
        this.free(u);
        continue;
      }
      u.setEnd(this.owner.eostEnd);
      u.pump();
    }
    if (this.set.size === 0) this.owner.allGone();
  }

  /** Frees every upstream (a failed track, or no eost could be written). */
  freeAll(): void {
    for (const u of this.set.snapshot()) this.free(u);
  }

  /** Closes every upstream at once (the track is destroyed). */
  destroyAll(): void {
    for (const u of this.set.clear()) {
      u.destroy();
      this.policy.forget(u);
    }
  }
}
