import { CodedError } from "../errors.ts";

/** Audio/video tags that cannot become KMP frames: the track's unpublish reason is `rtmp_bad_data`. */
export const FLV_ERRORS = {
  FLV_ERR_SHORT_TAG: "an audio or video message is too short for the tag header its flags announce",
  FLV_ERR_UNSUPPORTED_CODEC: "a frame of a codec KMP has no id for reached a KMP track",
} as const;

export type FlvErrorCode = keyof typeof FLV_ERRORS;

/** An FLV / Enhanced-RTMP tag that cannot be converted. */
export class FlvError extends CodedError<FlvErrorCode> {}
