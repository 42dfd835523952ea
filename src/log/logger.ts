/**
 * Leveled logger whose lines carry context (session, stream, track). Plain text by default,
 * JSON lines when `format` is "json". Writes through a sink so tests can capture lines.
 */
export type LogLevel = "debug" | "info" | "notice" | "warn" | "error";
export type LogContext = Record<string, string | number | boolean | undefined>;
export type LogSink = (line: string, level: LogLevel) => void;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, notice: 2, warn: 3, error: 4 };

export const stderrSink: LogSink = (line) => {
  console.error(line);
};

export class Logger {
  readonly level: LogLevel;
  readonly format: "text" | "json";
  readonly context: LogContext;
  readonly sink: LogSink;

  constructor(opts: { level?: LogLevel; format?: "text" | "json"; context?: LogContext; sink?: LogSink } = {}) {
    this.level = opts.level ?? "info";
    this.format = opts.format ?? "text";
    this.context = opts.context ?? {};
    this.sink = opts.sink ?? stderrSink;
  }

  /** A logger whose lines also carry `ctx`. */
  child(ctx: LogContext): Logger {
    return new Logger({ level: this.level, format: this.format, sink: this.sink, context: { ...this.context, ...ctx } });
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  debug(msg: string, ctx?: LogContext): void {
    if (RANK.debug >= RANK[this.level]) this.write("debug", msg, ctx);
  }
  info(msg: string, ctx?: LogContext): void {
    if (RANK.info >= RANK[this.level]) this.write("info", msg, ctx);
  }
  notice(msg: string, ctx?: LogContext): void {
    if (RANK.notice >= RANK[this.level]) this.write("notice", msg, ctx);
  }
  warn(msg: string, ctx?: LogContext): void {
    if (RANK.warn >= RANK[this.level]) this.write("warn", msg, ctx);
  }
  error(msg: string, ctx?: LogContext): void {
    this.write("error", msg, ctx);
  }

  private write(level: LogLevel, msg: string, ctx?: LogContext): void {
    const all = ctx ? { ...this.context, ...ctx } : this.context;
    const time = new Date().toISOString();
    if (this.format === "json") {
      this.sink(JSON.stringify({ time, level, msg, ...all }), level);
      return;
    }
    let tags = "";
    for (const k in all) if (all[k] !== undefined) tags += ` ${k}=${all[k]}`;
    this.sink(`${time} [${level}]${tags} ${msg}`, level);
  }
}

/** A logger that drops everything (tests, benches). */
export const silentLogger = new Logger({ level: "error", sink: () => {} });
