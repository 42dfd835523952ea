import { CodedError } from "../errors.ts";

/** PROXY protocol headers on `proxy_protocol` listeners: the connection closes with no byte sent. */
export const PROXY_ERRORS = {
  PROXY_ERR_MISSING: "the connection does not start with a PROXY v1 or v2 signature",
  PROXY_ERR_TOO_LONG: "the PROXY header is longer than its version allows",
  PROXY_ERR_BAD_V1: "a PROXY v1 line is malformed",
  PROXY_ERR_BAD_V2: "a PROXY v2 header is malformed",
} as const;

export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

/** A PROXY protocol header that cannot be read. */
export class ProxyHeaderError extends CodedError<ProxyErrorCode> {}
