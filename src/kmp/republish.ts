import type { TrackConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../stats/metrics.ts";
import type { Clock } from "../time/clock.ts";
import type { RepublishAnswer, TrackControl } from "./controller.ts";
import type { KmpUpstream } from "./upstream.ts";
import type { MediaInfo } from "../media/types.ts";

/** What the policy needs from its track. */
export interface RepublishHost {
  readonly channelId: string;
  readonly trackId: string;
  /** The media info the republish event carries (the last written). */
  readonly mediaInfo: MediaInfo | null;
  /** The upstream is still one of the track's (an answer for a freed one is dropped). */
  hasUpstream(u: KmpUpstream): boolean;
  /** The controller named a new url (already set on the upstream): connect it, or give it up. */
  republished(u: KmpUpstream): void;
  /** The republish request failed after its retries: give the upstream up. */
  republishFailed(u: KmpUpstream, err: Error): void;
}

/** Per upstream: when it last asked, how many delayed asks in a row, and what is in flight. */
type Entry = {
  lastMs: number;
  consecutive: number;
  timer: ReturnType<typeof setTimeout> | null;
  /** Failed with nothing to resend: waits for new data (spec §5.7). */
  deferred: boolean;
  inFlight: AbortController | null;
};

/**
 * The republish policy of one track (spec §5.7): at most one request per upstream per
 * kmp_republish_interval — a failure sooner waits for the rest of the interval — and after
 * kmp_max_republishes delayed requests in a row the upstream is no longer republished. It owns
 * every timer, deferred flag and in-flight request of its upstreams; the upstream only connects.
 */
export class RepublishPolicy {
  private readonly entries = new Map<KmpUpstream, Entry>();
  /** Entries with `deferred` set (every write asks: none is the common case, and costs no lookup). */
  private deferredCount = 0;
  private readonly host: RepublishHost;
  private readonly config: TrackConfig;
  private readonly control: TrackControl;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly media: "video" | "audio";
  private readonly logger: Logger;

  constructor(o: { host: RepublishHost; config: TrackConfig; control: TrackControl; clock: Clock; metrics: Metrics; mediaType: "video" | "audio"; logger: Logger }) {
    this.host = o.host;
    this.config = o.config;
    this.control = o.control;
    this.clock = o.clock;
    this.metrics = o.metrics;
    this.media = o.mediaType;
    this.logger = o.logger;
  }

  private entry(u: KmpUpstream): Entry {
    let e = this.entries.get(u);
    if (!e) {
      e = { lastMs: -Infinity, consecutive: 0, timer: null, deferred: false, inFlight: null };
      this.entries.set(u, e);
    }
    return e;
  }

  /** A republish URL is configured, the upstream is recoverable, and the rate limit allows one more. */
  allowed(u: KmpUpstream): boolean {
    if (!this.control.canRepublish || u.unrecoverable) return false;
    const e = this.entries.get(u);
    if (!e) return true;
    const since = this.clock.nowMs() - e.lastMs;
    return !(since < this.config.kmp_republish_interval && e.consecutive >= this.config.kmp_max_republishes);
  }

  /** A request is waiting for its interval or for its answer. */
  recovering(u: KmpUpstream): boolean {
    const e = this.entries.get(u);
    return !!e && (e.timer !== null || e.inFlight !== null);
  }

  deferred(u: KmpUpstream): boolean {
    return this.deferredCount > 0 && (this.entries.get(u)?.deferred ?? false);
  }

  /** Some upstream waits for new data to republish. */
  get anyDeferred(): boolean {
    return this.deferredCount > 0;
  }

  /** Nothing to resend: republish when new data (a frame or eost) arrives. */
  defer(u: KmpUpstream): void {
    this.setDeferred(this.entry(u), true);
  }

  private setDeferred(e: Entry, on: boolean): void {
    if (e.deferred === on) return;
    e.deferred = on;
    this.deferredCount += on ? 1 : -1;
  }

  /** Asks now if the interval since the last request has passed, else once it has. */
  schedule(u: KmpUpstream): void {
    const e = this.entry(u);
    this.setDeferred(e, false);
    if (e.timer || e.inFlight) return;
    const since = this.clock.nowMs() - e.lastMs;
    if (since >= this.config.kmp_republish_interval) {
      e.consecutive = 0;
      this.send(u, e);
      return;
    }
    e.consecutive++;
    e.timer = setTimeout(() => {
      e.timer = null;
      this.send(u, e);
    }, this.config.kmp_republish_interval - since);
  }

  private send(u: KmpUpstream, e: Entry): void {
    this.setDeferred(e, false);
    e.lastMs = this.clock.nowMs();
    this.metrics.inc("rtmp_kmp_republishes_total", { media: this.media });
    const abort = new AbortController();
    e.inFlight = abort;
    const h = this.host;
    this.control.republish({ upstreamId: u.id, channelId: h.channelId, trackId: h.trackId, mediaInfo: h.mediaInfo! }, abort.signal)
      .then((a: RepublishAnswer) => {
        if (abort.signal.aborted || !h.hasUpstream(u)) return;
        e.inFlight = null;
        u.retarget(a.url, a.connect_data);
        h.republished(u);
      }, (err) => {
        if (abort.signal.aborted || !h.hasUpstream(u)) return;
        e.inFlight = null;
        this.logger.warn(`republish of upstream '${u.id}' failed: ${(err as Error).message}`);
        h.republishFailed(u, err as Error);
      });
  }

  /** The upstream is freed: its timer and request go with it. */
  forget(u: KmpUpstream): void {
    const e = this.entries.get(u);
    if (!e) return;
    this.setDeferred(e, false);
    if (e.timer) clearTimeout(e.timer);
    e.inFlight?.abort();
    this.entries.delete(u);
  }
}
