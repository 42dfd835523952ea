import { CodedError } from "../errors.ts";
import type { ConfigErrorCode } from "../config/errors.ts";
import type { CtrlErrorCode } from "../control/errors.ts";
import type { FlvErrorCode } from "../flv/errors.ts";
import type { KmpErrorCode } from "../kmp/errors.ts";
import type { ProxyErrorCode } from "../net/errors.ts";
import type { RtmpErrorCode } from "../rtmp/errors.ts";

/** What a session refuses or why it ends, beyond malformed bytes (spec §1, §9). */
export const SESSION_ERRORS = {
  RTMP_ERR_HANDSHAKE_TIMEOUT: "the handshake (and PROXY header) did not complete within the server's timeout",
  RTMP_ERR_NOT_CONNECTED: "a command or media came before connect was accepted",
  RTMP_ERR_DUPLICATE_CONNECT: "a second connect on one connection",
  RTMP_ERR_UNKNOWN_APP: "connect names an application that is not configured",
  RTMP_ERR_NO_STREAM: "publish, metadata or media on a message stream that was not created",
  RTMP_ERR_TOO_MANY_STREAMS: "createStream with no free stream id below max_streams",
  RTMP_ERR_ACCESS: "publish denied by a deny publish rule",
  RTMP_ERR_PLAY: "play or play2: this server only accepts publishers",
  RTMP_ERR_IDLE: "a publisher sent no audio or video for kmp_idle_timeout",
  RTMP_ERR_TRACK_FAILED: "a KMP track of the session failed (its own line names why); the connection is closed",
  RTMP_ERR_INTERNAL: "an unexpected error (a bug): the session ends, the others go on",
  RTMP_CONNECT_REJECTED: "the controller rejected connect (logged at info: its message went to the client)",
  RTMP_CLIENT_CLOSED: "the client closed the connection (logged at info: a normal end)",
  RTMP_CLIENT_RESET: "the client reset the connection (logged at info: ffmpeg and others end this way)",
} as const;

export type SessionErrorCode = keyof typeof SESSION_ERRORS;

/** A client did something the session refuses; ends that session only. */
export class SessionError extends CodedError<SessionErrorCode> {}

/** Every code a session's close line can carry: its own, and those of the layers below it. */
export type CloseCode = SessionErrorCode | RtmpErrorCode | FlvErrorCode | KmpErrorCode | CtrlErrorCode | ProxyErrorCode | ConfigErrorCode;
