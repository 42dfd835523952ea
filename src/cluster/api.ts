import { Hono, type Context } from "hono";
import { Raw, renderJson } from "../api/json.ts";
import { type RtmpCounters, rtmpKmpTree, versionFields } from "../api/status.ts";
import { mountPrefix } from "../api/mount-prefix.ts";
import { mountStatusPage } from "../api/ui-routes.ts";
import { VERSION } from "../version.ts";
import { dropPrefix, type UiStatus } from "../api/ui-status.ts";
import type { ApiLocation } from "../config/types.ts";
import { sumExpositions } from "./metrics-sum.ts";
import type { ClusterPrimary, WorkerEntry } from "./primary.ts";
import type { IdKind, WorkerState } from "./protocol.ts";

function json(c: Context, body: unknown): Response {
  return c.body(renderJson(body), 200, { "Content-Type": "application/json" });
}

function fail(c: Context, status: 403 | 404 | 503, message: string): Response {
  return c.body(JSON.stringify({ code: status, message }), status, { "Content-Type": "application/json" });
}

const isList = (c: Context) => c.req.query("list") === "1";
const primaryProcess = (p: ClusterPrimary) => ({ pid: p.runtime.pid(), startedMs: p.startedMs });
type States = { worker: WorkerEntry; state: WorkerState }[];

const sessionsOf = (states: States) =>
  states.flatMap(({ state }) => state.sessions).sort((a, b) => a[2] - b[2]);
const tracksOf = (states: States) =>
  states.flatMap(({ state }) => state.tracks).sort((a, b) => Number(a[0]) - Number(b[0]));

/** `GET /` of rtmp_kmp_api for every worker: the reference's tree, sessions of all workers, then `workers`. */
async function rtmpKmpRoot(primary: ClusterPrimary): Promise<Record<string, unknown>> {
  const states = await primary.states();
  const sum = (k: keyof RtmpCounters) => states.reduce((n, s) => n + s.state[k], 0);
  const counters: RtmpCounters = { naccepted: sum("naccepted"), bw_in: sum("bw_in"), bytes_in: sum("bytes_in"), bw_out: sum("bw_out"), bytes_out: sum("bytes_out") };
  const sessions = sessionsOf(states);
  return {
    ...rtmpKmpTree(primaryProcess(primary), counters, primary.config.servers, (si, ai) =>
      sessions.filter((x) => x[0] === si && x[1] === ai).map((x) => new Raw(x[3]))),
    workers: workersList(primary, states),
  };
}

function workersList(primary: ClusterPrimary, states: States): Record<string, unknown>[] {
  const now = Date.now();
  return primary.workers.map((w) => {
    const st = states.find((s) => s.worker === w)?.state;
    return {
      worker: w.slot,
      pid: w.proc.pid,
      uptime: Math.floor((now - w.startedMs) / 1000),
      ready: w.api !== null,
      sessions: st ? st.sessions.map((x) => x[2]).sort((a, b) => a - b) : [],
      tracks: st ? st.tracks.map((x) => x[0]).sort((a, b) => Number(a) - Number(b)) : [],
    };
  });
}

function tracksObject(states: States): Record<string, Raw> {
  const o: Record<string, Raw> = {};
  for (const [id, text] of tracksOf(states)) o[id] = new Raw(text);
  return o;
}

/** Forwards to the owner of `id`; a read-only location answers 403 first, as one process does. */
async function toOwner(primary: ClusterPrimary, c: Context, kind: IdKind, raw: string, write: boolean, what: string): Promise<Response> {
  const w = /^\d+$/.test(raw) ? primary.owner(kind, Number(raw)) : null;
  if (w) return await primary.forward(w, c.req.raw);
  if (!write && c.req.method !== "GET") return fail(c, 403, "the API is read-only");
  return fail(c, 404, `${what} '${raw}' not found`);
}

function rtmpKmpApi(primary: ClusterPrimary, write: boolean): Hono {
  const app = new Hono({ strict: false });
  app.get("/", async (c) => (isList(c) ? json(c, ["multi", "sessions"]) : json(c, await rtmpKmpRoot(primary))));
  app.get("/sessions", async (c) => {
    const sessions = sessionsOf(await primary.states());
    return isList(c) ? json(c, sessions.map((x) => x[2])) : json(c, sessions.map((x) => new Raw(x[3])));
  });
  app.all("/sessions/:connection", (c) => toOwner(primary, c, "connection", c.req.param("connection"), write, "session"));
  return app;
}

function kmpOutApi(primary: ClusterPrimary, write: boolean): Hono {
  const app = new Hono({ strict: false });
  app.get("/", async (c) =>
    json(c, { ...versionFields(primaryProcess(primary), false), tracks: tracksObject(await primary.states()) }));
  app.get("/tracks", async (c) => {
    const states = await primary.states();
    return isList(c) ? json(c, tracksOf(states).map((x) => x[0])) : json(c, tracksObject(states));
  });
  app.all("/tracks/:id/*", (c) => toOwner(primary, c, "track", c.req.param("id"), write, "track"));
  app.all("/tracks/:id", (c) => toOwner(primary, c, "track", c.req.param("id"), write, "track"));
  return app;
}

/** A sample without labels from one exposition (NaN when absent). */
function sample(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Per-worker gauges beside the sums: up, sessions, tracks and resident memory of each slot. */
function perWorker(primary: ClusterPrimary, texts: { worker: WorkerEntry; value: string }[]): string[] {
  const families: [string, string, string][] = [
    ["rtmp_kmp_worker_up", "1 while the worker in this slot answers its primary", ""],
    ["rtmp_kmp_worker_sessions", "RTMP sessions open in a worker", "rtmp_kmp_sessions"],
    ["rtmp_kmp_worker_tracks", "KMP tracks alive in a worker", "rtmp_kmp_tracks"],
    ["rtmp_kmp_worker_resident_memory_bytes", "Resident memory of a worker process", "process_resident_memory_bytes"],
  ];
  const out: string[] = [];
  for (const [name, help, from] of families) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (let slot = 0; slot < primary.count; slot++) {
      const t = texts.find((x) => x.worker.slot === slot)?.value;
      const v = from === "" ? (t === undefined ? 0 : 1) : t === undefined ? NaN : sample(t, from);
      if (!Number.isNaN(v)) out.push(`${name}{worker="${slot}"} ${v}`);
    }
  }
  return out;
}

/** The status page over every worker: their sessions (each marked with its worker) and the workers themselves. */
async function uiStatus(primary: ClusterPrimary, locations: ApiLocation[]): Promise<UiStatus> {
  const got = await primary.uiStatuses();
  const now = Date.now();
  const first = got[0]?.value.server;
  return {
    server: {
      name: VERSION.built,
      runtime: first?.runtime ?? primary.runtime.name,
      pid: primary.runtime.pid(),
      uptime: Math.floor((now - primary.startedMs) / 1000),
      now,
      listeners: first?.listeners ?? [],
      drop: dropPrefix(locations),
      workers: primary.workers.map((w) => ({
        worker: w.slot,
        pid: w.proc.pid,
        uptime: Math.floor((now - w.startedMs) / 1000),
        ready: w.api !== null,
        sessions: got.find((g) => g.worker === w)?.value.sessions.length ?? 0,
      })),
    },
    sessions: got.flatMap(({ worker, value }) => value.sessions.map((s) => ({ ...s, worker: worker.slot }))).sort((a, b) => a.connection - b.connection),
  };
}

/**
 * The management API of `worker_processes N`, served by the primary: the same routes as one
 * process, over every worker — lists merged, one session's or track's requests answered by its
 * worker, `/metrics` summed, `/healthz` 200 while some worker serves ("degraded" while one is being replaced).
 */
export function clusterApiApp(primary: ClusterPrimary, locations: ApiLocation[]): Hono {
  const app = new Hono({ strict: false });
  app.get("/metrics", async (c) => {
    const texts = await primary.metricsTexts();
    const own = [
      "# HELP rtmp_kmp_workers Worker processes ready",
      "# TYPE rtmp_kmp_workers gauge",
      `rtmp_kmp_workers ${primary.workers.filter((w) => w.api).length}`,
      ...perWorker(primary, texts),
      ...primary.metrics.render({ rtmp_kmp_worker_restarts_total: ["counter", "Worker processes replaced after they died"] }),
    ].join("\n");
    return c.body(sumExpositions([own, ...texts.map((t) => t.value)]), 200, { "Content-Type": "text/plain; version=0.0.4" });
  });
  app.get("/healthz", async (c) => {
    if (primary.stopping) return c.json({ status: "stopping" }, 503);
    const up = await primary.healths();
    const body = { status: "ok", workers: up.length, sessions: up.reduce((n, h) => n + h.sessions, 0), tracks: up.reduce((n, h) => n + h.tracks, 0) };
    // a worker being replaced leaves the others serving: degraded, still in rotation
    if (up.length === 0) return c.body(JSON.stringify({ ...body, status: "down" }), 503, { "Content-Type": "application/json" });
    return json(c, up.length < primary.count ? { ...body, status: "degraded" } : body);
  });
  mountStatusPage(app, locations, () => uiStatus(primary, locations));
  for (const loc of locations) {
    app.route(mountPrefix(loc), loc.kind === "rtmp_kmp_api" ? rtmpKmpApi(primary, loc.write) : kmpOutApi(primary, loc.write));
  }
  app.notFound((c) => fail(c, 404, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => c.body(JSON.stringify({ code: 500, message: err.message }), 500, { "Content-Type": "application/json" }));
  return app;
}
