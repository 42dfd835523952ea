import { readFile } from "node:fs/promises";
import { ConfigError } from "./errors.ts";
import { parseListen, parseWorkerProcesses } from "./build.ts";
import { parseJsonConfig } from "./json.ts";
import { parseNginxConf } from "./nginx.ts";
import type { ApplicationConfig, Config, LogConfig, ServerConfig } from "./types.ts";

export { parseNginxConf } from "./nginx.ts";
export { parseJsonConfig } from "./json.ts";
export { configWarnings } from "./build.ts";
export { DIRECTIVES, parseMsec, parseSize } from "./directives.ts";

/** Loads an nginx.conf or a JSON config (by extension or a leading `{`). */
export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError("CONFIG_ERR_READ", `cannot read: ${(err as Error).message}`, { file: path, line: 0, directive: "" });
  }
  return path.endsWith(".json") || text.trimStart().startsWith("{") ? parseJsonConfig(text, path) : parseNginxConf(text, path);
}

/** Embedded first-run defaults: RTMP on :1935, application `live`, both APIs on 127.0.0.1:8001. */
export function defaultConfig(): Config {
  const cfg = parseNginxConf(
    `rtmp { server { listen 1935; application live { live on; } } }
     http { server { listen 127.0.0.1:8001;
       location /rtmp_kmp_api/ { rtmp_kmp_api write=on; }
       location /kmp_out_api/ { kmp_out_api write=on; } } }`,
    "<defaults>",
  );
  return cfg;
}

const LEVELS = ["debug", "info", "notice", "warn", "error"];

export function applyOverrides(cfg: Config, o: { listen?: string; apiListen?: string; logLevel?: string; workers?: string }): Config {
  const where = (directive: string, value: string) => ({ name: directive, args: [value], file: "<command line>", line: 0 });
  let servers = cfg.servers;
  if (o.listen && servers.length) {
    const l = parseListen(o.listen, [], where("--listen", o.listen));
    servers = [{ ...servers[0], listen: [l] }, ...servers.slice(1)];
  }
  let api = cfg.api;
  if (o.apiListen) {
    const l = parseListen(o.apiListen, [], where("--api-listen", o.apiListen));
    api = api.length ? [{ ...api[0], listen: [l] }, ...api.slice(1)] : [{
      listen: [l],
      locations: [{ prefix: "/rtmp_kmp_api/", kind: "rtmp_kmp_api", write: true }, { prefix: "/kmp_out_api/", kind: "kmp_out_api", write: true }],
    }];
  }
  let log: LogConfig = cfg.log;
  if (o.logLevel) {
    if (!LEVELS.includes(o.logLevel)) {
      throw new ConfigError("CONFIG_ERR_INVALID_VALUE", `invalid log level "${o.logLevel}" (expected ${LEVELS.join(" | ")})`, { file: "<command line>", line: 0, directive: "--log-level" });
    }
    log = { ...log, level: o.logLevel as LogConfig["level"] };
  }
  const workers = o.workers === undefined ? cfg.worker_processes : parseWorkerProcesses(o.workers, where("--workers", o.workers));
  return { ...cfg, servers, api, log, worker_processes: workers };
}

export function findApplication(server: ServerConfig, name: string): ApplicationConfig | undefined {
  return server.applications.find((a) => a.name === name);
}

/** Points every application without control URLs at `url` (the embedded built-in controller). */
export function withControlUrls(cfg: Config, url: string): Config {
  return {
    ...cfg,
    servers: cfg.servers.map((s) => ({
      ...s,
      applications: s.applications.map((a) => ({
        ...a,
        kmp_ctrl_connect_url: a.kmp_ctrl_connect_url ?? `${url}/connect`,
        kmp_ctrl_publish_url: a.kmp_ctrl_publish_url ?? `${url}/publish`,
        kmp_ctrl_unpublish_url: a.kmp_ctrl_unpublish_url ?? `${url}/unpublish`,
        kmp_ctrl_republish_url: a.kmp_ctrl_republish_url ?? `${url}/republish`,
      })),
    })),
  };
}
