import { ConfigError } from "./errors.ts";
import { buildConfig, parseApiDirective, parseListen, parseWorkerProcesses, type RawDirective, type RawRtmp } from "./build.ts";
import { type Directive, parseNginxSyntax } from "./tokenizer.ts";
import type { ApiServerConfig, Config, LogConfig } from "./types.ts";

const LEVELS: Record<string, LogConfig["level"]> = {
  debug: "debug", info: "info", notice: "notice", warn: "warn", error: "error", crit: "error", alert: "error", emerg: "error",
};

/**
 * Reads an existing nginx.conf: the `rtmp{}` block and, from `http{ server{ location{} } }`,
 * where `rtmp_kmp_api` / `kmp_out_api` live. Everything else is accepted and listed as ignored.
 */
export function parseNginxConf(text: string, file: string): Config {
  const tree = parseNginxSyntax(text, file);
  const ignored: Config["ignored"] = [];
  const log: LogConfig = { level: "info", format: "text", access_log: null, log_format: null };
  const raw = (d: Directive): RawDirective => ({ name: d.name, args: d.args, file, line: d.line });
  let rtmp: RawRtmp | null = null;
  const api: ApiServerConfig[] = [];
  let workers = 1;

  for (const d of tree) {
    if (d.name === "rtmp" && d.block) {
      rtmp ??= { directives: [], servers: [] };
      for (const c of d.block) {
        if (c.name === "server" && c.block) {
          const server = { directives: [] as RawDirective[], applications: [] as RawRtmp["servers"][number]["applications"], file, line: c.line };
          for (const s of c.block) {
            if (s.name === "application") {
              if (!s.block || s.args.length !== 1) throw new ConfigError("CONFIG_ERR_SYNTAX", "application needs a name and a block", { file, line: s.line, directive: "application" });
              const nested = s.block.find((x) => x.block);
              if (nested) throw new ConfigError("CONFIG_ERR_CONTEXT", "blocks are not allowed inside application", { file, line: nested.line, directive: nested.name });
              server.applications.push({ name: s.args[0], directives: s.block.map(raw), file, line: s.line });
            } else if (s.block) {
              throw new ConfigError("CONFIG_ERR_CONTEXT", "unexpected block inside rtmp server", { file, line: s.line, directive: s.name });
            } else server.directives.push(raw(s));
          }
          rtmp.servers.push(server);
        } else if (c.block) {
          throw new ConfigError("CONFIG_ERR_CONTEXT", "unexpected block inside rtmp", { file, line: c.line, directive: c.name });
        } else rtmp.directives.push(raw(c));
      }
    } else if (d.name === "http" && d.block) {
      for (const s of d.block) {
        if (s.name !== "server" || !s.block) {
          ignored.push({ file, line: s.line, directive: s.name });
          continue;
        }
        const entry: ApiServerConfig = { listen: [], locations: [] };
        for (const x of s.block) {
          if (x.name === "listen") entry.listen.push(parseListen(x.args[0] ?? "", x.args.slice(1), raw(x)));
          else if (x.name === "location" && x.block) {
            const prefix = x.args[x.args.length - 1] ?? "/";
            for (const l of x.block) {
              if (l.name === "rtmp_kmp_api" || l.name === "kmp_out_api") entry.locations.push(parseApiDirective(raw(l), prefix));
              else ignored.push({ file, line: l.line, directive: l.name });
            }
          } else ignored.push({ file, line: x.line, directive: x.name });
        }
        if (entry.locations.length) {
          if (!entry.listen.length) entry.listen.push({ hostname: "0.0.0.0", port: 80, proxy_protocol: false });
          api.push(entry);
        }
      }
    } else if (d.name === "worker_processes") {
      workers = parseWorkerProcesses(d.args[0] ?? "", raw(d));
    } else if (d.name === "error_log") {
      const lvl = LEVELS[d.args[1] ?? ""];
      if (lvl) log.level = lvl;
      ignored.push({ file, line: d.line, directive: d.name });
    } else {
      ignored.push({ file, line: d.line, directive: d.name });
    }
  }
  return { ...buildConfig(file, rtmp, api, ignored, log), worker_processes: workers };
}
