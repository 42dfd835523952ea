import { CodedError } from "../errors.ts";

/** Controller calls that failed or answered something unusable (retried kmp_ctrl_retries times). */
export const CTRL_ERRORS = {
  CTRL_ERR_CONNECT: "the HTTP request to the controller failed (refused, reset, DNS)",
  CTRL_ERR_TIMEOUT: "no complete answer within kmp_ctrl_timeout + kmp_ctrl_read_timeout",
  CTRL_ERR_STATUS: "the answer's HTTP status is not 200",
  CTRL_ERR_CONTENT_TYPE: "the answer is not application/json",
  CTRL_ERR_TOO_LARGE: "the answer is larger than kmp_ctrl_buffer_size",
  CTRL_ERR_BAD_JSON: "the answer is not a strict JSON object (syntax, duplicate keys)",
  CTRL_ERR_BAD_RESPONSE: "the answer lacks a string code or has fields of the wrong type or value",
  CTRL_ERR_CODE: "the controller answered a code other than ok",
  CTRL_ERR_NO_URL: "the event has no URL configured",
  CTRL_ERR_ABORTED: "the request was cancelled because its session or track ended",
  CTRL_ERR_INTERNAL: "the request failed with an unexpected error (a bug)",
} as const;

export type CtrlErrorCode = keyof typeof CTRL_ERRORS;

/** Controller call failed or answered something unusable. */
export class CtrlError extends CodedError<CtrlErrorCode> {}
