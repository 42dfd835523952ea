import { CodedError } from "../errors.ts";

/** KMP output failures: of one upstream (republished when possible) or of a whole track. */
export const KMP_ERRORS = {
  KMP_ERR_ID_TOO_LONG: "a channel or track id of the publish answer is longer than 32 bytes",
  KMP_ERR_BAD_ACK: "a receiver sent something that is not a 40-byte ackf packet",
  KMP_ERR_OVER_ACK: "a receiver acknowledged a frame it was never sent (never republished)",
  KMP_ERR_MEM_LIMIT: "the track's memory limit (kmp_video_mem_limit / kmp_audio_mem_limit) is reached",
  KMP_ERR_MEM_PRESSURE: "a non-required upstream that cannot republish was dropped to free memory",
  KMP_ERR_RELEASED: "an upstream asked for log bytes that were already released (internal)",
  KMP_ERR_BAD_UPSTREAM: "an upstream of the publish answer has a bad url, resume_from or connect_data",
  KMP_ERR_BAD_URL: "an upstream url is not kmp://host:port",
  KMP_ERR_CONNECT: "the TCP connect to a receiver failed",
  KMP_ERR_CONNECT_TIMEOUT: "a receiver did not accept the connection within kmp_timeout",
  KMP_ERR_SEND_TIMEOUT: "a receiver took no data for kmp_timeout",
  KMP_ERR_WRITE: "a write to a receiver failed",
  KMP_ERR_READ: "reading acks from a receiver failed",
  KMP_ERR_CLOSED: "a receiver closed the connection before eost",
  KMP_ERR_REPUBLISH_LIMIT: "an upstream failed kmp_max_republishes times within kmp_republish_interval",
  KMP_ERR_ENDED: "a republish answer came for a track that is no longer active",
} as const;

export type KmpErrorCode = keyof typeof KMP_ERRORS;

/** KMP framing / upstream failure. */
export class KmpError extends CodedError<KmpErrorCode> {}
