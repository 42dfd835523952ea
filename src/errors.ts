/**
 * An error with a stable machine-readable `code` from its layer's table (`RTMP_ERRORS`,
 * `FLV_ERRORS`, `KMP_ERRORS`, `CTRL_ERRORS`, `PROXY_ERRORS`, `CONFIG_ERRORS`, `SESSION_ERRORS`):
 * each table is `as const`, so `code` is typed as the union of that layer's codes.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A layer's error codes, each with what it means (the README lists them for the logs). */
export type ErrorTable = Readonly<Record<string, string>>;
