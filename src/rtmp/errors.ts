import { CodedError } from "../errors.ts";

/** Malformed RTMP from a client: the session ends with the code in its log line. */
export const RTMP_ERRORS = {
  RTMP_ERR_HANDSHAKE_VERSION: "the client's first handshake byte is not version 3",
  RTMP_ERR_AMF: "an AMF0/AMF3 value in a command or metadata is malformed or over a limit",
  RTMP_ERR_BAD_COMMAND: "a command message lacks its name, its command object or its stream name",
  RTMP_ERR_CSID_LIMIT: "a chunk stream id is above max_streams",
  RTMP_ERR_MESSAGE_TOO_LARGE: "a message length is above max_message",
  RTMP_ERR_LENGTH_CHANGED: "a message's length changed between its chunks",
  RTMP_ERR_BAD_AGGREGATE: "an aggregate message's sub-messages overrun its payload",
} as const;

export type RtmpErrorCode = keyof typeof RTMP_ERRORS;

/** A peer sent RTMP the server cannot read; ends that session only. */
export class RtmpError extends CodedError<RtmpErrorCode> {}
