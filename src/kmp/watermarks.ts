import type { TrackConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { ByteLog } from "./byte-log.ts";
import { KmpError } from "./errors.ts";
import type { UpstreamSet } from "./upstream-set.ts";
import type { KmpUpstream } from "./upstream.ts";

/** What the watermark procedure acts on: a track's log and upstreams, and its ways out. */
export interface MemoryOwner {
  readonly log: ByteLog;
  readonly set: UpstreamSet;
  readonly config: TrackConfig;
  readonly logger: Logger;
  /** End of the last frame written (what a disconnected upstream resumes after). */
  readonly lastFrameEnd: number;
  /** Whether this upstream may still be republished (spec §5.7 step 1). */
  canRepublish(u: KmpUpstream): boolean;
  /** Reconnect a disconnected upstream through the republish policy. */
  republish(u: KmpUpstream): void;
  /** Free an upstream that cannot be kept (a required or last one fails the track). */
  drop(u: KmpUpstream, err: Error): void;
  /** Release the log up to the slowest acknowledged offset. */
  releaseAcked(): void;
}

/**
 * Memory watermarks (spec §5.9), run before every write and on every upstream progress (ack,
 * socket write) and flush tick, so memory held by a stalled upstream is relieved when it
 * happens, not at the next frame: once less than the high watermark would be left, auto-ack the
 * slowest upstream until the low watermark is free again — up to what it has sent, or, for one
 * that sent nothing more, disconnect it so it resumes from newer data, or (where republish is
 * not possible) drop it if it is not required.
 */
export function relieveMemory(o: MemoryOwner, nextSize: number): boolean {
  const { log, config } = o;
  const limit = log.memLimit;
  const highLeft = ((100 - config.kmp_mem_high_watermark) * limit) / 100;
  const lowLeft = ((100 - config.kmp_mem_low_watermark) * limit) / 100;
  if (log.memLeft - nextSize >= highLeft) return false;
  while (log.memLeft < lowLeft + nextSize) {
    const u = o.set.slowest();
    if (!u) break;
    const before = u.acked.offset;
    if (u.state === "connected") {
      u.acked.autoAck(log, u.sentOffset);
      if (u.acked.offset === before) {
        // A required upstream is never cut off from data it has not received: what it has not
        // sent yet paces the publisher (backlog), and a stalled one ends by kmp_timeout.
        if (u.required) break;
        if (!o.canRepublish(u)) {
          o.logger.warn(`memory pressure: dropping upstream '${u.id}' (not required, cannot republish)`);
          o.drop(u, new KmpError("KMP_ERR_MEM_PRESSURE", `upstream '${u.id}' dropped under memory pressure`));
          continue;
        }
        o.logger.warn(`memory pressure: disconnecting upstream '${u.id}' so it resumes from newer data`);
        u.disconnect();
        u.acked.autoAck(log, o.lastFrameEnd);
        o.republish(u);
      }
    } else u.acked.autoAck(log, o.lastFrameEnd);
    if (u.acked.offset === before) break;
    o.releaseAcked();
  }
  return true;
}

/**
 * Backpressure: the bytes that may still be written before more than the low watermark of the
 * memory limit is held for the publisher to wait on (≤ 0: it is held now) — before the publish
 * answer everything retained, then the upstreams' backlog. The session stops reading the RTMP
 * socket until it drains, so a publisher faster than its upstreams is slowed down instead of
 * being dropped. With upstreams the backlog grows by at most the bytes written, so a writer may
 * count this down and ask again only when it runs out; before the publish answer (memory held
 * grows by whole buffers) it is asked again after every write.
 */
export function lowWatermarkRoom(log: ByteLog, upstreams: UpstreamSet, config: TrackConfig): number {
  const held = upstreams.size === 0 ? log.memLimit - log.memLeft : upstreams.backlog(log.written);
  // the watermark in bytes, not `held * 100`: that product left the small-integer range only when
  // the backlog passed 21 MB, and the optimized write path was thrown away when it did
  const low = (config.kmp_mem_low_watermark * log.memLimit) / 100;
  if (held >= low) return 0;
  if (upstreams.size === 0) return 1;
  return Math.max(1, low - held);
}
