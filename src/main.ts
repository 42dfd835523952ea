import { parseArgs } from "node:util";
import { apiApp } from "./api/app.ts";
import { applyOverrides, defaultConfig, loadConfig } from "./config/index.ts";
import type { Config } from "./config/types.ts";
import { CodedError } from "./errors.ts";
import { Logger, type LogLevel } from "./log/logger.ts";
import { getRuntime } from "./runtime/detect.ts";
import type { Runtime } from "./runtime/types.ts";
import { IngestServer, fmtAddr } from "./server/server.ts";
import { VERSION } from "./version.ts";

const USAGE = `rtmp-kmp ${VERSION.version} — RTMP ingest forwarding every track to KMP upstreams

usage: rtmp-kmp [--config FILE] [--listen ADDR] [--api-listen ADDR] [--log-level LEVEL] [--log-format text|json]

  -c, --config FILE      nginx.conf (rtmp{} and http{} blocks) or a JSON config; without it the
                         server runs on embedded defaults (RTMP :1935, API 127.0.0.1:8001)
  --listen ADDR          override the RTMP listen address of the first server (e.g. 0.0.0.0:1935)
  --api-listen ADDR      override the management API address (e.g. 127.0.0.1:8001)
  --log-level LEVEL      debug | info | notice | warn | error (default info)
  --log-format FORMAT    text (default) | json
  --check                load and validate the config, print a summary, exit
  -h, --help             this text
  -v, --version          print the version
`;

/** Parses argv and runs the server until SIGINT/SIGTERM. Returns the exit code. */
export async function main(argv: string[], runtime?: Runtime): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        listen: { type: "string" },
        "api-listen": { type: "string" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        check: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const o = args.values;
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  if (o.version) {
    console.log(VERSION.version);
    return 0;
  }
  const rt = runtime ?? await getRuntime();
  let config: Config;
  try {
    config = o.config ? await loadConfig(o.config) : defaultConfig();
    config = applyOverrides(config, { listen: o.listen, apiListen: o["api-listen"], logLevel: o["log-level"] });
  } catch (err) {
    console.error(`config error: ${err instanceof CodedError ? `${err.code}: ` : ""}${(err as Error).message}`);
    return 1;
  }
  const format = o["log-format"] === "json" ? "json" : "text";
  const log = new Logger({ level: config.log.level as LogLevel, format });
  for (const i of config.ignored) log.debug(`ignored directive '${i.directive}' (${i.file}:${i.line})`);
  if (o.check) {
    console.log(`config ok: ${config.source}: ${config.servers.length} rtmp server(s), ${config.api.length} api server(s)`);
    return 0;
  }

  const server = new IngestServer({ config, runtime: rt, log });
  try {
    await server.start();
    for (const api of config.api) {
      const app = apiApp(server, api.locations);
      for (const l of api.listen) {
        const http = await rt.serveHttp({ hostname: l.hostname, port: l.port }, (req) => app.fetch(req));
        server.httpServers.push(http);
        log.notice(`api listening on http://${fmtAddr(http.addr.hostname, http.addr.port)} (${api.locations.map((x) => `${x.prefix} ${x.kind}${x.write ? " write" : ""}`).join(", ")})`);
      }
    }
  } catch (err) {
    log.error(`cannot start: ${(err as Error).message}`);
    await server.stop(0).catch(() => {});
    return 1;
  }
  log.notice(`rtmp-kmp ${VERSION.version} started on ${rt.name} (pid ${rt.pid()}), config ${config.source}`);

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        log.warn(`${sig} again: exiting now`);
        resolve(1);
        return;
      }
      stopping = true;
      log.notice(`${sig}: stopping — no new connections, ending every track`);
      server.stop().then(() => {
        log.notice("stopped");
        resolve(0);
      }, (err) => {
        log.error(`stop failed: ${err}`);
        resolve(1);
      });
    };
    rt.onSignal("SIGINT", () => stop("SIGINT"));
    rt.onSignal("SIGTERM", () => stop("SIGTERM"));
  });
}
