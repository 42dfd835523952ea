import { parseArgs } from "node:util";
import { apiApp } from "./api/app.ts";
import { applyOverrides, defaultConfig, loadConfig, withControlUrls } from "./config/index.ts";
import type { ApiLocation, Config } from "./config/types.ts";
import { clusterApiApp } from "./cluster/api.ts";
import { ClusterPrimary } from "./cluster/primary.ts";
import { WORKER_ENV } from "./cluster/protocol.ts";
import { ClusterWorker, parseWorkerSpec, workerConfig } from "./cluster/worker.ts";
import { CodedError } from "./errors.ts";
import { Logger, type LogLevel } from "./log/logger.ts";
import { getRuntime } from "./runtime/detect.ts";
import type { HttpServer, Runtime } from "./runtime/types.ts";
import { IngestServer } from "./server/server.ts";
import { fmtAddr } from "./net/addr.ts";
import { openAccessLog } from "./server/access-log.ts";
import { Controller } from "./tools/controller.ts";
import { KmpReceiver } from "./tools/kmp-receiver.ts";
import { VERSION } from "./version.ts";

const USAGE = `rtmp-kmp ${VERSION.version} — RTMP ingest forwarding every track to KMP upstreams

usage: rtmp-kmp [--config FILE] [--listen ADDR] [--api-listen ADDR] [--workers N|auto] [--log-level LEVEL] [--log-format text|json]
       rtmp-kmp kmp-receiver [--listen ADDR] [--dir DIR] [--ack-every N]

  Without --config the server runs on embedded defaults: RTMP on :1935, the APIs on
  127.0.0.1:8001, and a built-in controller that sends every track to a built-in KMP
  receiver writing what it gets to ./kmp-out/ (one .kmp file and one .txt dump per
  channel/track connection).

  kmp-receiver runs that receiver alone (default 127.0.0.1:9000, ./kmp-out/, an ack every
  10 frames): point a real controller's publish answers at kmp://ADDR while integrating.

  -c, --config FILE      nginx.conf (rtmp{} and http{} blocks) or a JSON config; without it the
                         server runs on embedded defaults (RTMP :1935, API 127.0.0.1:8001)
  --listen ADDR          override the RTMP listen address of the first server (e.g. 0.0.0.0:1935)
  --api-listen ADDR      override the management API address (e.g. 127.0.0.1:8001)
  --log-level LEVEL      debug | info | notice | warn | error (default info)
  --log-format FORMAT    text (default) | json
  --workers N|auto       override worker_processes: N processes serve RTMP behind one API
  --check                load and validate the config, print a summary, exit
  -h, --help             this text
  -v, --version          print the version
`;

/** A second stop signal forces the exit only this long after the first. */
const FORCE_AFTER_MS = 2_000;

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
        workers: { type: "string" },
        check: { type: "boolean" },
        dir: { type: "string" },
        "ack-every": { type: "string" },
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
  if (args.positionals[0] === "kmp-receiver") return await receiverMain(rt, o);
  if (args.positionals.length) {
    console.error(`unknown command '${args.positionals[0]}'\n\n${USAGE}`);
    return 2;
  }
  let config: Config;
  try {
    config = o.config ? await loadConfig(o.config) : defaultConfig();
    config = applyOverrides(config, { listen: o.listen, apiListen: o["api-listen"], logLevel: o["log-level"], workers: o.workers });
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

  rt.tuneForServer();
  const workerSpec = rt.env(WORKER_ENV);
  if (workerSpec) return await workerMain(rt, config, log, workerSpec);

  const embedded = !o.config;
  let builtins: { close(): Promise<void> }[] = [];
  let controllerUrl: string | undefined;
  if (embedded) {
    try {
      const b = await startBuiltins(rt, log, o.dir ?? "kmp-out");
      builtins = b.closers;
      controllerUrl = b.controllerUrl;
      config = withControlUrls(config, b.controllerUrl);
    } catch (err) {
      log.error(`cannot start the built-in controller/receiver: ${(err as Error).message}`);
      return 1;
    }
  }
  const closeBuiltins = async () => {
    for (const b of builtins) await b.close().catch(() => {});
  };
  const workers = config.worker_processes === 0 ? Math.max(1, rt.cpuCount()) : config.worker_processes;
  if (workers > 1) return await primaryMain(rt, config, log, workers, controllerUrl, closeBuiltins);

  const server = new IngestServer({ config, runtime: rt, log, onSessionEnd: accessLogOf(config) });
  return await serveUntilStopped(rt, log, {
    start: async () => {
      await server.start();
      server.httpServers.push(...await serveApis(rt, log, config, (locations) => apiApp(server, locations)));
    },
    stop: (graceMs, progress) => server.stop(graceMs, progress),
    reload: () => void server.reloadCertificates(),
  }, `rtmp-kmp ${VERSION.version} started on ${rt.name} (pid ${rt.pid()}), config ${config.source}`, closeBuiltins);
}

const STOP_GRACE_MS = 15_000;

/** What runs until a stop signal: one server, the primary of workers, or one worker. */
type Unit = { start(): Promise<void>; stop(graceMs: number, progress: (line: string) => void): Promise<void>; reload(): void };

/**
 * Starts `unit` (on failure: logged, stopped, `cleanup`, exit code 1), logs `started`, then runs
 * until stopped: the unit stops within the grace period, then `cleanup`.
 */
async function serveUntilStopped(rt: Runtime, log: Logger, unit: Unit, started: string | null, cleanup: () => Promise<void> = async () => {}, trigger?: (fn: (why: string) => void) => void): Promise<number> {
  try {
    await unit.start();
  } catch (err) {
    log.error(`cannot start: ${(err as Error).message}`);
    await unit.stop(0, () => {}).catch(() => {});
    await cleanup();
    return 1;
  }
  if (started) log.notice(started);
  return await untilStopped(rt, log, async (progress) => {
    await unit.stop(STOP_GRACE_MS, progress);
    await cleanup();
  }, () => unit.reload(), trigger);
}

const accessLogOf = (config: Config) => (config.log.access_log ? openAccessLog(config.log.access_log, config.log.log_format) : undefined);

/** Every `http { server { … } }` of the config: its app on each of its listen addresses. */
async function serveApis(rt: Runtime, log: Logger, config: Config, appFor: (locations: ApiLocation[]) => { fetch(req: Request): Response | Promise<Response> }): Promise<HttpServer[]> {
  const out: HttpServer[] = [];
  for (const api of config.api) {
    const app = appFor(api.locations);
    for (const l of api.listen) {
      const http = await rt.serveHttp({ hostname: l.hostname, port: l.port }, (req) => app.fetch(req));
      out.push(http);
      const base = `http://${fmtAddr(http.addr.hostname, http.addr.port)}`;
      log.notice(`api listening on ${base} (${api.locations.map((x) => `${x.prefix} ${x.kind}${x.write ? " write" : ""}`).join(", ")}); status page ${base}/ui/, metrics ${base}/metrics`);
    }
  }
  return out;
}

/**
 * Runs until SIGINT/SIGTERM (or `trigger`), then `stop`; SIGHUP calls `onHup`. Resolves the exit
 * code: 0 after a clean stop, 1 when it failed or a later signal forced the exit.
 */
function untilStopped(rt: Runtime, log: Logger, stop: (progress: (line: string) => void) => Promise<void>, onHup: () => void, trigger?: (fn: (why: string) => void) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    let stoppingSince = -1;
    const begin = (sig: string) => {
      if (stoppingSince >= 0) {
        // tsx relays a process-group signal (Ctrl-C, systemd) a second time ~30 ms later: only
        // a signal after the grace period forces the exit
        if (Date.now() - stoppingSince < FORCE_AFTER_MS) {
          log.notice(`${sig} again: already stopping (send it again after ${FORCE_AFTER_MS / 1000} s to exit at once)`);
          return;
        }
        log.warn(`${sig} again: exiting now`);
        resolve(1);
        return;
      }
      stoppingSince = Date.now();
      log.notice(`${sig}: stopping — no new connections, ending every track`);
      stop((line) => log.notice(line)).then(() => {
        log.notice("stopped");
        resolve(0);
      }, (err) => {
        log.error(`stop failed: ${err}`);
        resolve(1);
      });
    };
    rt.onSignal("SIGINT", () => begin("SIGINT"));
    rt.onSignal("SIGTERM", () => begin("SIGTERM"));
    rt.onSignal("SIGHUP", () => {
      log.notice("SIGHUP: reloading certificates");
      onHup();
    });
    trigger?.(begin);
  });
}

/** `worker_processes N`: this process runs the workers and the management API. */
async function primaryMain(rt: Runtime, config: Config, log: Logger, count: number, controllerUrl: string | undefined, closeBuiltins: () => Promise<void>): Promise<number> {
  const primary = new ClusterPrimary({ runtime: rt, config, log, count, controllerUrl });
  return await serveUntilStopped(rt, log, {
    start: async () => {
      await primary.start();
      primary.httpServers.push(...await serveApis(rt, log, config, (locations) => clusterApiApp(primary, locations)));
    },
    stop: (graceMs, progress) => primary.stop(graceMs, progress),
    reload: () => primary.reload(),
  }, `rtmp-kmp ${VERSION.version} started on ${rt.name} (pid ${rt.pid()}) with ${count} worker processes, config ${config.source}`, closeBuiltins);
}

/** One worker of `worker_processes N`, started by the primary with its spec in the environment. */
async function workerMain(rt: Runtime, base: Config, baseLog: Logger, specText: string): Promise<number> {
  let spec;
  try {
    spec = parseWorkerSpec(specText);
  } catch (err) {
    baseLog.error(`${WORKER_ENV}: ${(err as Error).message}`);
    return 1;
  }
  const log = baseLog.child({ worker: spec.slot });
  let config = workerConfig(base, spec);
  if (spec.controller) config = withControlUrls(config, spec.controller);
  const worker = new ClusterWorker({ runtime: rt, config, log, spec, onSessionEnd: accessLogOf(config) });
  return await serveUntilStopped(rt, log, {
    start: () => worker.start(),
    stop: (graceMs, progress) => worker.stop(graceMs, progress),
    reload: () => void worker.server.reloadCertificates(),
  }, null, undefined, (begin) => worker.watchPrimary(() => begin("primary gone")));
}

/** The built-in controller and KMP receiver of the embedded first-run defaults. */
async function startBuiltins(rt: Runtime, log: Logger, dir: string): Promise<{ controllerUrl: string; closers: { close(): Promise<void> }[] }> {
  const receiver = await new KmpReceiver({ runtime: rt, dir, log: log.child({ component: "kmp-receiver" }) }).start();
  const controller = await new Controller({ runtime: rt, kmpUrl: receiver.url }).start();
  log.notice(`built-in controller on ${controller.url}, built-in KMP receiver on ${receiver.url} writing to ${dir}/`);
  return { controllerUrl: controller.url, closers: [controller, receiver] };
}

async function receiverMain(rt: Runtime, o: { listen?: string; dir?: string; "ack-every"?: string; "log-level"?: string }): Promise<number> {
  const log = new Logger({ level: (o["log-level"] ?? "info") as LogLevel });
  const addr = o.listen ?? "127.0.0.1:9000";
  const i = addr.lastIndexOf(":");
  const hostname = i > 0 ? addr.slice(0, i).replace(/^\[|\]$/g, "") : "127.0.0.1";
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  const ackEvery = Number(o["ack-every"] ?? 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(ackEvery) || ackEvery < 0) {
    console.error(`invalid --listen '${addr}' or --ack-every '${o["ack-every"]}'`);
    return 2;
  }
  const dir = o.dir ?? "kmp-out";
  const receiver = await new KmpReceiver({ runtime: rt, hostname, port, dir, ackEvery, log }).start();
  log.notice(`kmp receiver listening on ${receiver.url}, writing to ${dir}/, acking every ${ackEvery} frames`);
  return await new Promise<number>((resolve) => {
    const stop = () => {
      receiver.close().then(() => resolve(0));
    };
    rt.onSignal("SIGINT", stop);
    rt.onSignal("SIGTERM", stop);
  });
}
