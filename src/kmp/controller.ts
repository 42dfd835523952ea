/** What a KMP track needs from the controller, and what it gets back (implemented by src/control). */
import type { MediaInfo } from "../media/types.ts";

/** One element of a publish answer's `upstreams`, as the controller sent it (validated for JSON types only). */
export type UpstreamAnswer = {
  url: string;
  id: string; // default ""
  required: boolean; // default true
  resume_from: string; // default "last_acked"; checked by the track (unknown ⇒ create_upstream_failed)
  connect_data: string | null; // base64 as received
};

export type PublishAnswer = {
  channel_id: string;
  track_id: string;
  upstreams: UpstreamAnswer[];
};

export type RepublishAnswer = {
  url: string; // already checked to be a valid kmp:// IP url
  connect_data: Uint8Array | null; // decoded; null = keep the previous connect data
};

/** Unpublish reasons, as the reference names them. */
export type UnpublishReason =
  | "rtmp_close"
  | "rtmp_disconnect"
  | "rtmp_kmp_error"
  | "rtmp_bad_data"
  | "alloc_failed"
  | "append_failed"
  | "create_publish_failed"
  | "create_upstream_failed"
  | "parse_publish_failed"
  | "upstream_error"
  | "unexpected"
  | "unsupported_codec"
  | "eost_timeout"
  | "shutdown";

/** Identity of a track as the control events describe it (built once per track, spec §6.3). */
export type TrackIdentity = {
  /** `tc_url + "/" + name + "/" + ("video"|"audio")`, plus `"/" + id` for a multitrack track id ≥ 1 */
  inputId: string;
  /** The Enhanced-RTMP multitrack track id (0 or absent for single-track publishers). */
  multitrackId?: number;
  /** The pre-rendered `"input_type":"rtmp","rtmp":{...}` fragment, compact JSON, keys in reference order. */
  rtmpInfoJson: string;
};

/**
 * What a KMP track needs from the controller. Implemented by src/control on top of fetch;
 * each call performs the reference's retries (kmp_ctrl_retries × kmp_ctrl_retry_interval)
 * and rejects with a CtrlError only after the last attempt failed (or when `signal` aborts).
 */
export interface TrackControl {
  /** Whether a republish URL is configured (no URL ⇒ upstream errors are never recovered). */
  readonly canRepublish: boolean;
  publish(mediaInfo: MediaInfo, signal: AbortSignal): Promise<PublishAnswer>;
  republish(
    req: { upstreamId: string; channelId: string; trackId: string; mediaInfo: MediaInfo },
    signal: AbortSignal,
  ): Promise<RepublishAnswer>;
  /** Fire-and-forget, one attempt, response ignored; no-op when no unpublish URL is configured. */
  unpublish(reason: UnpublishReason): void;
}
