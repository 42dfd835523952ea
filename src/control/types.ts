import type { ResumeFrom } from "../config/types.ts";
import type { PostOptions } from "./client.ts";

export type UpstreamSpec = {
  url: string;
  id: string;
  required: boolean;
  resumeFrom: ResumeFrom;
  connectData: Uint8Array;
};

export type { PublishAnswer, RepublishAnswer, TrackControl, TrackIdentity, UnpublishReason, UpstreamAnswer } from "../kmp/controller.ts";

/**
 * The unpublish a track is owed once its publish started, as data: the primary of a worker that
 * dies sends it for the worker's tracks (reason `rtmp_disconnect`).
 */
export type UnpublishRequest = { url: string; body: string; options: Omit<PostOptions, "signal"> };
