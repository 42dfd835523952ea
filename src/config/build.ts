import * as v from "valibot";
import { ConfigError } from "./errors.ts";
import { DIRECTIVE_BY_NAME, type DirectiveSpec, type Level, NO_EFFECT, parseMsec, parseSize } from "./directives.ts";
import type {
  ApiLocation, ApiServerConfig, ApplicationConfig, Config, CtrlHeader, ListenConfig, LogConfig, ServerConfig,
} from "./types.ts";

/** A directive occurrence before interpretation: its words and where it was written. */
export type RawDirective = { name: string; args: string[]; file: string; line: number };

export type RawApplication = { name: string; directives: RawDirective[]; file: string; line: number };
export type RawServer = { directives: RawDirective[]; applications: RawApplication[]; file: string; line: number };
export type RawRtmp = { directives: RawDirective[]; servers: RawServer[] };

type Value = number | boolean | string | null | CtrlHeader[] | ListenConfig | ApplicationConfig["access"][number];

function where(d: RawDirective) {
  return { file: d.file, line: d.line, directive: d.name };
}

export function parseListen(value: string, flags: string[], d: RawDirective): ListenConfig {
  let hostname = "0.0.0.0";
  let portText = value;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  if (v6) {
    hostname = v6[1];
    portText = v6[2];
  } else if (value.includes(":")) {
    const i = value.lastIndexOf(":");
    hostname = value.slice(0, i);
    portText = value.slice(i + 1);
    if (hostname === "*") hostname = "0.0.0.0";
    if (hostname === "localhost") hostname = "127.0.0.1";
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new ConfigError("CONFIG_ERR_INVALID_VALUE", `invalid listen address "${value}"`, where(d));
  }
  return { hostname, port, proxy_protocol: flags.includes("proxy_protocol"), ssl: flags.includes("ssl") };
}

/** Interprets one directive's arguments by its kind. */
function interpret(spec: DirectiveSpec, d: RawDirective): Value {
  const bad = (expected: string) =>
    new ConfigError("CONFIG_ERR_INVALID_VALUE", `invalid value "${d.args.join(" ")}" (expected ${expected})`, where(d));
  const one = () => {
    if (d.args.length !== 1) throw new ConfigError("CONFIG_ERR_INVALID_VALUE", `takes exactly one value, got ${d.args.length}`, where(d));
    return d.args[0];
  };
  switch (spec.kind) {
    case "msec": {
      const n = parseMsec(one());
      if (n === null) throw bad("a duration like 1s or 500ms");
      return n;
    }
    case "msec_off": {
      const a = one();
      if (a === "off") return 0;
      const n = parseMsec(a);
      if (n === null) throw bad("a duration or off");
      return n;
    }
    case "size": {
      const n = parseSize(one());
      if (n === null) throw bad("a size like 4096, 64k or 32m");
      return n;
    }
    case "num": {
      const a = one();
      if (!/^\d+$/.test(a)) throw bad("a non-negative integer");
      return Number(a);
    }
    case "flag": {
      const a = one();
      if (a !== "on" && a !== "off") throw bad("on or off");
      return a === "on";
    }
    case "enum": {
      const a = one();
      if (!spec.values!.includes(a)) throw bad(spec.values!.join(" | "));
      return a;
    }
    case "url":
      return one();
    case "header": {
      if (d.args.length !== 2) throw new ConfigError("CONFIG_ERR_INVALID_VALUE", "takes a header name and a value", where(d));
      return [{ name: d.args[0], value: d.args[1] }];
    }
    case "listen":
      if (d.args.length < 1) throw bad("an address");
      return parseListen(d.args[0], d.args.slice(1), d);
    case "access": {
      const allow = d.name === "allow";
      let args = d.args;
      let publish = true;
      let play = true;
      if (args[0] === "publish" || args[0] === "play") {
        publish = args[0] === "publish";
        play = args[0] === "play";
        args = args.slice(1);
      }
      if (args.length !== 1) throw bad("[publish|play] address|all");
      return { allow, publish, play, addr: args[0] };
    }
  }
}

/** Values set at one level, after interpretation; repeatable ones accumulate. */
type LevelValues = Map<string, Value>;

function collect(directives: RawDirective[], level: Level, ignored: Config["ignored"], log: LogConfig): LevelValues {
  const out: LevelValues = new Map();
  const seen = new Set<string>();
  for (const d of directives) {
    if (d.name === "access_log") {
      log.access_log = d.args[0] === "off" ? null : d.args[0] ?? null;
      continue;
    }
    if (d.name === "log_format") {
      log.log_format = d.args.slice(1).join("");
      continue;
    }
    const spec = DIRECTIVE_BY_NAME.get(d.name);
    if (!spec) {
      if (NO_EFFECT.has(d.name) || d.name.startsWith("on_") || d.name.startsWith("hls_") || d.name.startsWith("dash_") || d.name.startsWith("notify_")) {
        ignored.push({ file: d.file, line: d.line, directive: d.name });
        continue;
      }
      throw new ConfigError("CONFIG_ERR_UNKNOWN_DIRECTIVE", "unknown directive", where(d));
    }
    if (!spec.levels.includes(level)) {
      throw new ConfigError("CONFIG_ERR_CONTEXT", `not allowed in the ${level} block (allowed in: ${spec.levels.join(", ")})`, where(d));
    }
    const value = interpret(spec, d);
    if (spec.kind === "header") {
      const list = (out.get(d.name) as CtrlHeader[] | undefined) ?? [];
      out.set(d.name, [...list, ...(value as CtrlHeader[])]);
      continue;
    }
    if (spec.kind === "access") {
      const list = (out.get("access") as unknown as ApplicationConfig["access"] | undefined) ?? [];
      out.set("access", [...list, value as ApplicationConfig["access"][number]] as unknown as Value);
      continue;
    }
    if (spec.kind === "listen") {
      const list = (out.get("listen") as unknown as ListenConfig[] | undefined) ?? [];
      out.set("listen", [...list, value as ListenConfig] as unknown as Value);
      continue;
    }
    if (seen.has(d.name)) {
      throw new ConfigError("CONFIG_ERR_DUPLICATE", "is duplicate", where(d));
    }
    seen.add(d.name);
    out.set(d.name, value);
  }
  return out;
}

function effective(name: string, levels: LevelValues[]): Value {
  for (const l of levels) if (l.has(name)) return l.get(name)!;
  const spec = DIRECTIVE_BY_NAME.get(name);
  if (name === "access") return [] as unknown as Value;
  if (spec?.kind === "header") return [];
  return spec ? spec.def : null;
}

const percent = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100));
const positive = v.pipe(v.number(), v.integer(), v.minValue(1));
const AppSchema = v.looseObject({
  kmp_mem_high_watermark: percent,
  kmp_mem_low_watermark: percent,
  kmp_timescale: positive,
  kmp_video_buffer_size: v.pipe(v.number(), v.minValue(64), v.maxValue(512 * 1024 - 1)),
  kmp_audio_buffer_size: v.pipe(v.number(), v.minValue(64), v.maxValue(512 * 1024 - 1)),
  kmp_ctrl_buffer_size: v.pipe(v.number(), v.minValue(64)),
  kmp_video_mem_limit: positive,
  kmp_audio_mem_limit: positive,
});
const ServerSchema = v.looseObject({
  max_streams: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(65600)),
  chunk_size: v.pipe(v.number(), v.integer(), v.minValue(128), v.maxValue(10_485_760)),
  max_message: v.pipe(v.number(), v.minValue(1024)),
});

function validated<T>(schema: v.GenericSchema, value: T, file: string, line: number, block: string): T {
  const r = v.safeParse(schema, value);
  if (!r.success) {
    const issue = r.issues[0];
    const key = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new ConfigError("CONFIG_ERR_INVALID_VALUE", `${block}: ${issue.message} (value ${JSON.stringify(issue.input)})`, { file, line, directive: key });
  }
  return value;
}

/** Builds the validated model from the raw rtmp/http blocks (inheritance rtmp → server → application). */
export function buildConfig(
  source: string,
  rtmp: RawRtmp | null,
  api: ApiServerConfig[],
  ignored: Config["ignored"],
  log: LogConfig,
): Config {
  const servers: ServerConfig[] = [];
  if (rtmp) {
    const top = collect(rtmp.directives, "rtmp", ignored, log);
    for (const rs of rtmp.servers) {
      const sv = collect(rs.directives, "server", ignored, log);
      const get = (n: string) => effective(n, [sv, top]);
      const applications: ApplicationConfig[] = rs.applications.map((ra) => {
        const av = collect(ra.directives, "application", ignored, log);
        const g = (n: string) => effective(n, [av, sv, top]);
        const app = {
          name: ra.name,
          kmp_ctrl_connect_url: g("kmp_ctrl_connect_url"),
          kmp_ctrl_publish_url: g("kmp_ctrl_publish_url"),
          kmp_ctrl_unpublish_url: g("kmp_ctrl_unpublish_url"),
          kmp_ctrl_republish_url: g("kmp_ctrl_republish_url"),
          kmp_ctrl_add_header: g("kmp_ctrl_add_header"),
          kmp_ctrl_timeout: g("kmp_ctrl_timeout"),
          kmp_ctrl_read_timeout: g("kmp_ctrl_read_timeout"),
          kmp_ctrl_buffer_size: g("kmp_ctrl_buffer_size"),
          kmp_ctrl_retries: g("kmp_ctrl_retries"),
          kmp_ctrl_retry_interval: g("kmp_ctrl_retry_interval"),
          kmp_timescale: g("kmp_timescale"),
          kmp_timeout: g("kmp_timeout"),
          kmp_max_free_buffers: g("kmp_max_free_buffers"),
          kmp_buffer_bin_count: g("kmp_buffer_bin_count"),
          kmp_mem_high_watermark: g("kmp_mem_high_watermark"),
          kmp_mem_low_watermark: g("kmp_mem_low_watermark"),
          kmp_video_buffer_size: g("kmp_video_buffer_size"),
          kmp_video_mem_limit: g("kmp_video_mem_limit"),
          kmp_audio_buffer_size: g("kmp_audio_buffer_size"),
          kmp_audio_mem_limit: g("kmp_audio_mem_limit"),
          kmp_audio_sync_margin: g("kmp_audio_sync_margin"),
          kmp_flush_timeout: g("kmp_flush_timeout"),
          kmp_log_frames: g("kmp_log_frames"),
          kmp_republish_interval: g("kmp_republish_interval"),
          kmp_max_republishes: g("kmp_max_republishes"),
          live: g("live"),
          sandbox: g("sandbox"),
          drop_idle_publisher: g("drop_idle_publisher"),
          access: g("access"),
          type3_ext_ts: g("type3_ext_ts"),
        } as unknown as ApplicationConfig;
        return validated(AppSchema, app, ra.file, ra.line, `application ${ra.name}`);
      });
      const server = {
        listen: (sv.get("listen") as unknown as ListenConfig[] | undefined) ?? [{ hostname: "0.0.0.0", port: 1935, proxy_protocol: false }],
        kmp_idle_timeout: get("kmp_idle_timeout"),
        timeout: get("timeout"),
        ping: get("ping"),
        ping_timeout: get("ping_timeout"),
        max_streams: get("max_streams"),
        ack_window: get("ack_window"),
        chunk_size: get("chunk_size"),
        max_message: get("max_message"),
        type3_ext_ts: get("type3_ext_ts"),
        read_batch: get("read_batch"),
        busy: get("busy"),
        ssl_certificate: get("ssl_certificate"),
        ssl_certificate_key: get("ssl_certificate_key"),
        applications,
      } as unknown as ServerConfig;
      if (server.listen.some((l) => l.ssl) && (!server.ssl_certificate || !server.ssl_certificate_key)) {
        throw new ConfigError("CONFIG_ERR_NO_CERTIFICATE", "listen … ssl needs ssl_certificate and ssl_certificate_key", { file: rs.file, line: rs.line, directive: "listen" });
      }
      servers.push(validated(ServerSchema, server, rs.file, rs.line, "server"));
    }
  }
  return { source, servers, api, log, worker_processes: 1, ignored };
}

/** `worker_processes N|auto` (nginx's main-context directive): N ≥ 1, or 0 for auto. */
export function parseWorkerProcesses(value: string, d: RawDirective): number {
  if (value === "auto") return 0;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) {
    throw new ConfigError("CONFIG_ERR_INVALID_VALUE", `invalid worker_processes "${value}" (expected 1..256 or auto)`, where(d));
  }
  return Number(value);
}

export function parseApiDirective(d: RawDirective, prefix: string): ApiLocation {
  let write = false;
  for (const a of d.args) {
    const m = /^write=(on|off)$/.exec(a);
    if (!m) throw new ConfigError("CONFIG_ERR_INVALID_VALUE", `invalid parameter "${a}" (expected write=on|off)`, where(d));
    write = m[1] === "on";
  }
  return { prefix, kind: d.name as ApiLocation["kind"], write };
}

/** Warnings worth a log line at start (valid but probably unintended). */
export function configWarnings(cfg: Config): string[] {
  const out: string[] = [];
  for (const s of cfg.servers) {
    for (const a of s.applications) {
      if (a.kmp_timescale % 1000 !== 0) out.push(`application ${a.name}: kmp_timescale ${a.kmp_timescale} is not a multiple of 1000; timestamps scale by floor(${a.kmp_timescale}/1000)`);
      if (a.kmp_mem_high_watermark < a.kmp_mem_low_watermark) out.push(`application ${a.name}: kmp_mem_high_watermark < kmp_mem_low_watermark`);
      if (!a.kmp_ctrl_publish_url) out.push(`application ${a.name}: no kmp_ctrl_publish_url, so no KMP output`);
    }
  }
  return out;
}
