import type { UiStatus } from "../api/ui-status.ts";
import { Hono, type Context } from "hono";
import * as v from "valibot";
import type { Config } from "../config/types.ts";
import { ControlClient } from "../control/client.ts";
import type { UnpublishRequest } from "../control/types.ts";
import type { Logger } from "../log/logger.ts";
import type { HttpServer, ProcessExit, Runtime, WorkerProcess } from "../runtime/types.ts";
import { type IdRange, spareInstance } from "../server/ids.ts";
import { Metrics } from "../stats/metrics.ts";
import { HelloSchema, ID_KINDS, type IdKind, IdsRequestSchema, OwedSchema, TOKEN_HEADER, WORKER_ENV, type WorkerSpec, type WorkerState } from "./protocol.ts";

/** Ids per block granted to a worker. */
const BLOCK = 1_000;
const START_TIMEOUT_MS = 30_000;
const ASK_TIMEOUT_MS = 3_000;
/** A worker that dies sooner than this after its start is replaced after a growing delay. */
const STABLE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 5_000;

/** One spawned worker process, as its primary knows it. */
export type WorkerEntry = {
  slot: number;
  instance: number;
  proc: WorkerProcess;
  startedMs: number;
  /** Its internal API, once it said hello. */
  api: string | null;
  blocks: { kind: IdKind; start: number; end: number }[];
  /** Unpublishes its tracks are owed, sent by the primary if it dies. */
  owed: Map<string, UnpublishRequest>;
  ready: Promise<void>;
  markReady: () => void;
};

const describe = (e: ProcessExit) => (e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`);

/**
 * `worker_processes N`: N worker processes serve RTMP on shared listeners; this process spawns
 * them, grants their ids in blocks (so it knows the owner of any connection or track id), keeps
 * what each one's tracks are owed, replaces a worker that dies (sending those unpublishes first)
 * and answers the management API for all of them (`cluster/api.ts`).
 */
export class ClusterPrimary {
  readonly runtime: Runtime;
  readonly config: Config;
  readonly log: Logger;
  readonly count: number;
  readonly startedMs = Date.now();
  readonly metrics = new Metrics();
  readonly control: ControlClient;
  readonly httpServers: HttpServer[] = [];
  stopping = false;
  private readonly token = crypto.randomUUID();
  private readonly controllerUrl?: string;
  private readonly slots: (WorkerEntry | null)[];
  private readonly quickDeaths: number[];
  private nextInstance = 0;
  private readonly nextId: Record<IdKind, number> = { connection: 1, track: 1, upstream: 1_000_001 };
  private ports: number[][] = [];
  private internal: HttpServer | null = null;
  private readonly exits = new Set<Promise<void>>();

  constructor(opts: { runtime: Runtime; config: Config; log: Logger; count: number; controllerUrl?: string }) {
    this.runtime = opts.runtime;
    this.control = new ControlClient(this.metrics, () => opts.runtime.awaitingAnswer());
    this.config = opts.config;
    this.log = opts.log;
    this.count = opts.count;
    this.controllerUrl = opts.controllerUrl;
    this.slots = Array.from({ length: opts.count }, () => null);
    this.quickDeaths = Array.from({ length: opts.count }, () => 0);
  }

  /** The workers alive now, by slot. */
  get workers(): WorkerEntry[] {
    return this.slots.filter((w): w is WorkerEntry => w !== null);
  }

  /** Resolves once every worker bound its listeners and said hello. */
  async start(): Promise<void> {
    this.ports = await this.resolvePorts();
    const app = this.internalApp();
    this.internal = await this.runtime.serveHttp({ hostname: "127.0.0.1", port: 0 }, (req) => app.fetch(req));
    const started = this.slots.map((_, slot) => this.spawn(slot));
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.all(started.map((w) =>
          Promise.race([w.ready, w.proc.exited.then((e) => Promise.reject(new Error(`worker ${w.slot} (pid ${w.proc.pid}) ended before it was ready (${describe(e)})`)))])
        )),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`the workers were not ready within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Port 0 means one port for every worker: picked here, once. */
  private async resolvePorts(): Promise<number[][]> {
    const out: number[][] = [];
    for (const s of this.config.servers) {
      const ports: number[] = [];
      for (const l of s.listen) {
        if (l.port !== 0) {
          ports.push(l.port);
          continue;
        }
        const probe = await this.runtime.listen({ hostname: l.hostname, port: 0 });
        ports.push(probe.addr.port);
        probe.close();
      }
      out.push(ports);
    }
    return out;
  }

  private grant(kind: IdKind, w: { blocks: WorkerEntry["blocks"] }): IdRange {
    const start = this.nextId[kind];
    this.nextId[kind] += BLOCK;
    w.blocks.push({ kind, start, end: start + BLOCK });
    return { start, end: start + BLOCK };
  }

  private spawn(slot: number): WorkerEntry {
    const instance = this.nextInstance++;
    const blocks: WorkerEntry["blocks"] = [];
    const ids = Object.fromEntries(ID_KINDS.map((k) => [k, [this.grant(k, { blocks }), this.grant(k, { blocks })]])) as WorkerSpec["ids"];
    const spec: WorkerSpec = { slot, instance, primary: `http://127.0.0.1:${this.internal!.addr.port}`, token: this.token, ports: this.ports, ids, controller: this.controllerUrl };
    const proc = this.runtime.spawnWorker({ [WORKER_ENV]: JSON.stringify(spec) });
    let markReady!: () => void;
    const ready = new Promise<void>((r) => (markReady = r));
    const w: WorkerEntry = { slot, instance, proc, startedMs: Date.now(), api: null, blocks, owed: new Map(), ready, markReady };
    this.slots[slot] = w;
    this.log.info(`worker ${slot} started (pid ${proc.pid})`);
    const p = proc.exited.then((e) => this.exited(w, e));
    this.exits.add(p);
    void p.finally(() => this.exits.delete(p));
    return w;
  }

  /** A worker ended: its owed unpublishes go out, and unless we are stopping it is replaced. */
  private exited(w: WorkerEntry, e: ProcessExit): void {
    if (this.slots[w.slot] === w) this.slots[w.slot] = null;
    const clean = this.stopping && e.code === 0;
    if (!clean && w.owed.size) {
      this.log.warn(`worker ${w.slot} (pid ${w.proc.pid}): unpublish (rtmp_disconnect) for its ${w.owed.size} track(s)`);
      for (const u of w.owed.values()) {
        this.control.post(u.url, u.body, u.options).catch((err) => this.log.warn(`unpublish for a track of worker ${w.slot} failed: ${(err as Error).message}`));
      }
    }
    w.owed.clear();
    if (this.stopping) {
      if (!clean) this.log.warn(`worker ${w.slot} (pid ${w.proc.pid}) ended while stopping: ${describe(e)}`);
      return;
    }
    const lived = Date.now() - w.startedMs;
    this.quickDeaths[w.slot] = lived < STABLE_MS ? this.quickDeaths[w.slot] + 1 : 0;
    const delay = this.quickDeaths[w.slot] > 1 ? Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** (this.quickDeaths[w.slot] - 2)) : 0;
    this.metrics.inc("rtmp_kmp_worker_restarts_total");
    this.log.error(`worker ${w.slot} (pid ${w.proc.pid}) died (${describe(e)}) after ${Math.round(lived / 1000)} s; starting a replacement${delay ? ` in ${delay} ms` : ""}`);
    setTimeout(() => {
      if (!this.stopping && this.slots[w.slot] === null) this.spawn(w.slot);
    }, delay);
  }

  /** The live worker that owns a connection, track or upstream connection id. */
  owner(kind: IdKind, id: number): WorkerEntry | null {
    const spare = spareInstance(id);
    for (const w of this.workers) {
      if (spare >= 0 ? w.instance === spare : w.blocks.some((b) => b.kind === kind && id >= b.start && id < b.end)) return w.api ? w : null;
    }
    return null;
  }

  private async ask(w: WorkerEntry, path: string, init: RequestInit = {}): Promise<Response> {
    return await fetch(`${w.api}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), [TOKEN_HEADER]: this.token },
      signal: AbortSignal.timeout(ASK_TIMEOUT_MS),
    });
  }

  /** One GET to every ready worker; a worker that fails or does not answer in time is left out. */
  private async fromEach<T>(path: string, read: (r: Response) => Promise<T>, onFail?: (w: WorkerEntry, err: Error) => void): Promise<{ worker: WorkerEntry; value: T }[]> {
    const got = await Promise.all(this.workers.filter((w) => w.api).map(async (worker) => {
      try {
        const r = await this.ask(worker, path);
        if (!r.ok) throw new Error(`status ${r.status}`);
        return { worker, value: await read(r) };
      } catch (err) {
        onFail?.(worker, err as Error);
        return null;
      }
    }));
    return got.filter((x) => x !== null);
  }

  /** Every ready worker's state (one that does not answer in time is left out, logged). */
  async states(): Promise<{ worker: WorkerEntry; state: WorkerState }[]> {
    const got = await this.fromEach("/state", (r) => r.json() as Promise<WorkerState>, (w, err) =>
      this.log.warn(`worker ${w.slot} (pid ${w.proc.pid}) did not answer its state: ${err.message}`));
    return got.map(({ worker, value }) => ({ worker, state: value }));
  }

  /** Every ready worker's own `/healthz` answer (cheap: counts only), for the balancer's checks. */
  async healths(): Promise<{ sessions: number; tracks: number }[]> {
    return (await this.fromEach("/healthz", (r) => r.json() as Promise<{ sessions: number; tracks: number }>)).map((x) => x.value);
  }

  /** Every ready worker's status-page answer (`/ui/status.json`). */
  async uiStatuses(): Promise<{ worker: WorkerEntry; value: UiStatus }[]> {
    return await this.fromEach("/ui/status.json", (r) => r.json() as Promise<UiStatus>);
  }

  /** Every ready worker's Prometheus text. */
  async metricsTexts(): Promise<{ worker: WorkerEntry; value: string }[]> {
    return await this.fromEach("/metrics", (r) => r.text());
  }

  /** A public API request about one session or track, answered by the worker that has it. */
  async forward(w: WorkerEntry, req: Request): Promise<Response> {
    const u = new URL(req.url);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
    const ct = req.headers.get("content-type");
    try {
      const r = await this.ask(w, `${u.pathname}${u.search}`, { method: req.method, body, headers: ct ? { "content-type": ct } : {} });
      const headers: Record<string, string> = {};
      const rct = r.headers.get("content-type");
      if (rct) headers["content-type"] = rct;
      return new Response(r.status === 204 ? null : await r.arrayBuffer(), { status: r.status, headers });
    } catch (err) {
      return new Response(JSON.stringify({ code: 502, message: `worker ${w.slot} did not answer: ${(err as Error).message}` }), { status: 502, headers: { "content-type": "application/json" } });
    }
  }

  /** SIGHUP: every worker re-reads its certificates. */
  reload(): void {
    for (const w of this.workers) w.proc.kill("SIGHUP");
  }

  /**
   * SIGTERM for every worker (each ends its tracks: eost, wait, unpublish), then waits for them;
   * one still running after `graceMs` + 10 s is killed and its tracks get their unpublish here.
   */
  async stop(graceMs = 15_000, progress: (line: string) => void = () => {}): Promise<void> {
    this.stopping = true;
    const live = this.workers;
    progress(`stopping ${live.length} worker(s)`);
    for (const w of live) w.proc.kill("SIGTERM");
    const all = Promise.all(live.map((w) => w.proc.exited));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([all.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs + 10_000)))]);
    clearTimeout(timer);
    if (!done) {
      for (const w of this.workers) {
        this.log.warn(`worker ${w.slot} (pid ${w.proc.pid}) did not stop in time: killing it`);
        w.proc.kill("SIGKILL");
      }
      await Promise.race([all, new Promise((r) => setTimeout(r, 5_000))]);
    }
    await Promise.all([...this.exits]);
    await this.control.settled(5_000);
    for (const h of this.httpServers) await h.close().catch(() => {});
    await this.internal?.close().catch(() => {});
    progress("all workers stopped");
  }

  // ---- what the workers call -----------------------------------------------------------------

  private internalApp(): Hono {
    const app = new Hono();
    const byInstance = (n: number) => this.workers.find((w) => w.instance === n) ?? null;
    const body = async <T>(c: Context, schema: v.GenericSchema<unknown, T>): Promise<T | null> => {
      try {
        const r = v.safeParse(schema, await c.req.json());
        return r.success ? r.output : null;
      } catch {
        return null;
      }
    };
    const bad = (c: Context) => c.json({ code: 400, message: "bad request" }, 400);
    app.use("*", async (c, next) => {
      if (c.req.header(TOKEN_HEADER) !== this.token) return c.json({ code: 403, message: "forbidden" }, 403);
      await next();
    });
    app.post("/hello", async (c) => {
      const h = await body(c, HelloSchema);
      const w = h && byInstance(h.instance);
      if (!h || !w) return bad(c);
      w.api = h.api.replace(/\/+$/, "");
      w.markReady();
      this.log.notice(`worker ${w.slot} ready (pid ${h.pid})`);
      return c.body(null, 204);
    });
    app.post("/ids", async (c) => {
      const r = await body(c, IdsRequestSchema);
      const w = r && byInstance(r.instance);
      if (!r || !w) return bad(c);
      return c.json(this.grant(r.kind, w));
    });
    app.post("/owed", async (c) => {
      const o = await body(c, OwedSchema);
      const w = o && byInstance(o.instance);
      if (!o || !w) return bad(c);
      for (const [k, u] of o.set) w.owed.set(k, u);
      for (const k of o.clear) w.owed.delete(k);
      return c.body(null, 204);
    });
    return app;
  }
}
