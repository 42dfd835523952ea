import * as v from "valibot";
import { ConfigError } from "./errors.ts";
import { buildConfig, parseApiDirective, parseListen, type RawDirective, type RawRtmp } from "./build.ts";
import type { ApiServerConfig, Config, LogConfig } from "./types.ts";

/**
 * JSON configuration with the nginx directive names:
 *
 * ```json
 * { "rtmp": { "<directive>": value, …,
 *     "servers": [ { "listen": ["127.0.0.1:1935"], "<directive>": value, …,
 *       "applications": [ { "name": "live", "<directive>": value, … } ] } ] },
 *   "http": { "servers": [ { "listen": ["127.0.0.1:8001"],
 *       "locations": [ { "prefix": "/api/", "rtmp_kmp_api": { "write": true } },
 *                      { "prefix": "/kmp/", "kmp_out_api": { "write": false } } ] } ] },
 *   "log": { "level": "info", "access_log": "stdout", "log_format": "…" } }
 * ```
 * Values are strings as in nginx.conf (`"2s"`, `"64k"`, `"on"`) or numbers (ms / bytes / counts)
 * or booleans for flags; `kmp_ctrl_add_header` is a list of `[name, value]` pairs; `allow`/`deny`
 * are lists of strings like `"publish all"`.
 */
const Scalar = v.union([v.string(), v.number(), v.boolean()]);
const Directives = v.record(v.string(), v.unknown());
const JsonConfig = v.object({
  rtmp: v.optional(v.looseObject({
    servers: v.optional(v.array(v.looseObject({
      applications: v.optional(v.array(v.looseObject({ name: v.string() }))),
    }))),
  })),
  http: v.optional(v.object({
    servers: v.array(v.object({
      listen: v.optional(v.array(v.string()), []),
      locations: v.array(v.object({
        prefix: v.string(),
        rtmp_kmp_api: v.optional(v.object({ write: v.optional(v.boolean(), false) })),
        kmp_out_api: v.optional(v.object({ write: v.optional(v.boolean(), false) })),
      })),
    })),
  })),
  worker_processes: v.optional(v.union([v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(256)), v.literal("auto")])),
  log: v.optional(v.object({
    level: v.optional(v.picklist(["debug", "info", "notice", "warn", "error"])),
    format: v.optional(v.picklist(["text", "json"])),
    access_log: v.optional(v.nullable(v.string())),
    log_format: v.optional(v.nullable(v.string())),
  })),
});

function toRaw(obj: Record<string, unknown>, file: string, skip: string[]): RawDirective[] {
  const out: RawDirective[] = [];
  for (const [name, value] of Object.entries(obj)) {
    if (skip.includes(name)) continue;
    const push = (args: string[]) => out.push({ name, args, file, line: 0 });
    if (name === "kmp_ctrl_add_header" && Array.isArray(value)) {
      for (const h of value) push(Array.isArray(h) ? h.map(String) : [String((h as { name: string }).name), String((h as { value: string }).value)]);
    } else if ((name === "allow" || name === "deny" || name === "listen") && Array.isArray(value)) {
      for (const x of value) push(String(x).split(/\s+/));
    } else if (typeof value === "boolean") push([value ? "on" : "off"]);
    else if (v.is(Scalar, value)) push([String(value)]);
    else if (value === null) continue;
    else throw new ConfigError("CONFIG_ERR_INVALID_VALUE", `unsupported JSON value ${JSON.stringify(value)}`, { file, line: 0, directive: name });
  }
  return out;
}

export function parseJsonConfig(text: string, file: string): Config {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("CONFIG_ERR_SYNTAX", `invalid JSON: ${(err as Error).message}`, { file, line: 0, directive: "" });
  }
  const r = v.safeParse(JsonConfig, data);
  if (!r.success) {
    const i = r.issues[0];
    throw new ConfigError("CONFIG_ERR_INVALID_VALUE", i.message, { file, line: 0, directive: i.path?.map((p) => String(p.key)).join(".") ?? "" });
  }
  const cfg = r.output;
  const log: LogConfig = {
    level: cfg.log?.level ?? "info",
    format: cfg.log?.format ?? "text",
    access_log: cfg.log?.access_log ?? null,
    log_format: cfg.log?.log_format ?? null,
  };
  let rtmp: RawRtmp | null = null;
  if (cfg.rtmp) {
    rtmp = {
      directives: toRaw(cfg.rtmp as Record<string, unknown>, file, ["servers"]),
      servers: (cfg.rtmp.servers ?? []).map((s) => ({
        directives: toRaw(s as Record<string, unknown>, file, ["applications"]),
        applications: (s.applications ?? []).map((a) => ({ name: a.name, directives: toRaw(a as Record<string, unknown>, file, ["name"]), file, line: 0 })),
        file,
        line: 0,
      })),
    };
  }
  const api: ApiServerConfig[] = (cfg.http?.servers ?? []).map((s) => ({
    listen: (s.listen.length ? s.listen : ["0.0.0.0:80"]).map((l) => parseListen(l, [], { name: "listen", args: [l], file, line: 0 })),
    locations: s.locations.flatMap((l) => {
      const out = [];
      if (l.rtmp_kmp_api) out.push(parseApiDirective({ name: "rtmp_kmp_api", args: [`write=${l.rtmp_kmp_api.write ? "on" : "off"}`], file, line: 0 }, l.prefix));
      if (l.kmp_out_api) out.push(parseApiDirective({ name: "kmp_out_api", args: [`write=${l.kmp_out_api.write ? "on" : "off"}`], file, line: 0 }, l.prefix));
      return out;
    }),
  }));
  const workers = cfg.worker_processes === undefined ? 1 : cfg.worker_processes === "auto" ? 0 : cfg.worker_processes;
  return { ...buildConfig(file, rtmp, api, [], log), worker_processes: workers };
}
