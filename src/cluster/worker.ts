import * as v from "valibot";
import type { ApiLocation, Config } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { Runtime } from "../runtime/types.ts";
import type { RtmpSession } from "../ingest/session.ts";
import { IdSource } from "../server/ids.ts";
import { IngestServer } from "../server/server.ts";
import { PrimaryLink } from "./primary-link.ts";
import { ID_KINDS, type IdKind, type WorkerSpec, WorkerSpecSchema } from "./protocol.ts";
import { workerApi } from "./worker-api.ts";

const PARENT_CHECK_MS = 1_000;

/** The spec a primary put in the environment; throws on anything else. */
export function parseWorkerSpec(text: string): WorkerSpec {
  const r = v.safeParse(WorkerSpecSchema, JSON.parse(text));
  if (!r.success) throw new Error(`invalid worker spec: ${r.issues[0].message}`);
  return r.output;
}

/** The config as this worker serves it: the primary's ports (port 0 resolved once for all). */
export function workerConfig(cfg: Config, spec: WorkerSpec): Config {
  return {
    ...cfg,
    servers: cfg.servers.map((s, si) => ({ ...s, listen: s.listen.map((l, li) => ({ ...l, port: spec.ports[si]?.[li] ?? l.port })) })),
  };
}

/** One of `worker_processes N`: an ingest server on shared listeners that answers to its primary. */
export class ClusterWorker {
  readonly server: IngestServer;
  private readonly runtime: Runtime;
  private readonly log: Logger;
  private readonly spec: WorkerSpec;
  private readonly link: PrimaryLink;
  private readonly locations: ApiLocation[];
  private watch: ReturnType<typeof setInterval> | null = null;

  constructor(opts: { runtime: Runtime; config: Config; log: Logger; spec: WorkerSpec; onSessionEnd?: (s: RtmpSession) => void }) {
    const { spec, log } = opts;
    this.runtime = opts.runtime;
    this.log = log;
    this.spec = spec;
    this.link = new PrimaryLink({ url: spec.primary, token: spec.token, instance: spec.instance, log });
    const ids = (kind: IdKind) => new IdSource(spec.ids[kind][0], { reserve: spec.ids[kind][1], refill: () => this.link.ids(kind), instance: spec.instance });
    const [connection, track, upstream] = ID_KINDS.map(ids);
    this.server = new IngestServer({
      config: opts.config,
      runtime: opts.runtime,
      log,
      onSessionEnd: opts.onSessionEnd,
      ids: { connection, track, upstream },
      reusePort: true,
      onOwedUnpublish: (key, u) => this.link.owed(key, u),
    });
    const seen = new Set<string>();
    this.locations = opts.config.api.flatMap((a) => a.locations).filter((l) => !seen.has(`${l.prefix} ${l.kind}`) && !!seen.add(`${l.prefix} ${l.kind}`));
  }

  /** Binds the RTMP listeners and the internal API, then says hello to the primary. */
  async start(): Promise<void> {
    await this.server.start();
    const app = workerApi(this.server, this.spec.token, this.locations);
    const http = await this.runtime.serveHttp({ hostname: "127.0.0.1", port: 0 }, (req) => app.fetch(req));
    this.server.httpServers.push(http);
    await this.link.hello({ pid: this.runtime.pid(), api: `http://127.0.0.1:${http.addr.port}` });
  }

  /** Calls `gone` once the primary process is no longer this process's parent. */
  watchPrimary(gone: () => void): void {
    const parent = this.runtime.ppid();
    this.watch = setInterval(() => {
      if (this.runtime.ppid() === parent) return;
      this.log.warn(`the primary (pid ${parent}) is gone`);
      gone();
    }, PARENT_CHECK_MS);
  }

  async stop(graceMs: number, progress: (line: string) => void): Promise<void> {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    await this.server.stop(graceMs, progress);
  }
}
