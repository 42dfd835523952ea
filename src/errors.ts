/** An error with a stable machine-readable `code` (e.g. `RTMP_ERR_CHUNK_TOO_LARGE`). */
export class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A peer sent RTMP the server cannot accept; ends that session only. */
export class RtmpError extends CodedError {}
/** KMP framing / upstream failure. */
export class KmpError extends CodedError {}
/** Controller call failed or answered something unusable. */
export class CtrlError extends CodedError {}
/** Configuration problem, with where it was found. */
export class ConfigError extends CodedError {
  readonly file: string;
  readonly line: number;
  readonly directive: string;
  constructor(code: string, message: string, where: { file: string; line: number; directive: string }) {
    super(code, `${where.file}:${where.line}: ${where.directive ? `"${where.directive}": ` : ""}${message}`);
    this.file = where.file;
    this.line = where.line;
    this.directive = where.directive;
  }
}
