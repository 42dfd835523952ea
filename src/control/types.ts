import type { ResumeFrom } from "../config/types.ts";

export type UpstreamSpec = {
  url: string;
  id: string;
  required: boolean;
  resumeFrom: ResumeFrom;
  connectData: Uint8Array;
};

export type { PublishAnswer, RepublishAnswer, TrackControl, TrackIdentity, UnpublishReason, UpstreamAnswer } from "../kmp/controller.ts";
