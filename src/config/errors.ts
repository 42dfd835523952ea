import { CodedError } from "../errors.ts";

/** Configuration errors: the server does not start (or `--check` fails), naming file, line and directive. */
export const CONFIG_ERRORS = {
  CONFIG_ERR_READ: "the configuration file cannot be read",
  CONFIG_ERR_SYNTAX: "nginx.conf or JSON syntax error",
  CONFIG_ERR_CONTEXT: "a directive or block where it is not allowed",
  CONFIG_ERR_UNKNOWN_DIRECTIVE: "a directive this server does not know",
  CONFIG_ERR_DUPLICATE: "a directive given twice where once is allowed",
  CONFIG_ERR_INVALID_VALUE: "a directive's value is invalid",
  CONFIG_ERR_NO_CERTIFICATE: "listen … ssl without ssl_certificate and ssl_certificate_key",
} as const;

export type ConfigErrorCode = keyof typeof CONFIG_ERRORS;

/** Configuration problem, with where it was found. */
export class ConfigError extends CodedError<ConfigErrorCode> {
  readonly file: string;
  readonly line: number;
  readonly directive: string;
  constructor(code: ConfigErrorCode, message: string, where: { file: string; line: number; directive: string }) {
    super(code, `${where.file}:${where.line}: ${where.directive ? `"${where.directive}": ` : ""}${message}`);
    this.file = where.file;
    this.line = where.line;
    this.directive = where.directive;
  }
}
