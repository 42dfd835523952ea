import type { ResumeFrom } from "../config/types.ts";

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

export type UpstreamSpec = {
  url: string;
  id: string;
  required: boolean;
  resumeFrom: ResumeFrom;
  connectData: Uint8Array;
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
