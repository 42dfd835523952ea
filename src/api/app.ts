import { Hono, type Context } from "hono";
import * as v from "valibot";
import type { ApiLocation } from "../config/types.ts";
import type { AddUpstreamFailure } from "../kmp/track-upstreams.ts";
import type { IngestServer } from "../server/server.ts";
import { renderJson } from "./json.ts";
import { renderMetrics } from "./metrics.ts";
import { uiStatus } from "./ui-status.ts";
import { mountPrefix } from "./mount-prefix.ts";
import { mountStatusPage } from "./ui-routes.ts";
import { apiSessions, kmpOutRoot, kmpOutTracks, rtmpKmpRoot, sessionObject, trackObject, upstreamObject } from "./status.ts";

function json(c: Context, body: unknown, status: 200 | 201 = 200): Response {
  return c.body(renderJson(body), status, { "Content-Type": "application/json" });
}

function fail(c: Context, status: 400 | 403 | 404 | 405 | 415 | 500, message: string): Response {
  return c.body(JSON.stringify({ code: status, message }), status, { "Content-Type": "application/json" });
}

const isList = (c: Context) => c.req.query("list") === "1";

/** Body of `POST /tracks/{id}/upstreams` (kmp-out API, spec §7.3). */
export const AddUpstreamBody = v.object({
  url: v.string(),
  id: v.optional(v.string(), ""),
  src_id: v.optional(v.string()),
  required: v.optional(v.boolean(), true),
  resume_from: v.optional(v.picklist(["last_acked", "last_sent", "last_written"]), "last_acked"),
  connect_data: v.optional(v.string()),
});

/** rtmp-kmp API (spec §7.2): `GET /`, `DELETE /sessions/{connection}`. */
export function rtmpKmpApi(server: IngestServer, write: boolean): Hono {
  const app = new Hono({ strict: false });
  app.get("/", (c) => (isList(c) ? json(c, ["multi", "sessions"]) : json(c, rtmpKmpRoot(server))));
  app.get("/sessions", (c) => {
    const all = apiSessions(server);
    return isList(c) ? json(c, all.map((s) => s.connection)) : json(c, all.map((s) => sessionObject(server, s)));
  });
  app.delete("/sessions/:connection", (c) => {
    if (!write) return fail(c, 403, "the API is read-only (rtmp_kmp_api write=off)");
    const raw = c.req.param("connection");
    if (!/^\d+$/.test(raw)) return fail(c, 400, `connection '${raw}' is not a number`);
    const session = server.findSession(Number(raw));
    if (!session) return fail(c, 404, `session ${raw} not found`);
    session.shutdown({ reason: "rtmp_disconnect", message: "dropped through the API" });
    return c.body(null, 204);
  });
  return app;
}

/** kmp-out API (spec §7.3). */
export function kmpOutApi(server: IngestServer, write: boolean): Hono {
  const app = new Hono({ strict: false });
  app.get("/", (c) => json(c, kmpOutRoot(server)));
  app.get("/tracks", (c) =>
    isList(c)
      ? json(c, [...server.tracks.keys()].sort((a, b) => Number(a) - Number(b)))
      : json(c, kmpOutTracks(server)));
  app.get("/tracks/:id", (c) => {
    const entry = server.tracks.get(c.req.param("id"));
    return entry ? json(c, trackObject(entry, true)) : fail(c, 404, `track '${c.req.param("id")}' not found`);
  });
  app.get("/tracks/:id/upstreams", (c) => {
    const entry = server.tracks.get(c.req.param("id"));
    if (!entry) return fail(c, 404, `track '${c.req.param("id")}' not found`);
    const ups = entry.track.stats().upstreams;
    return isList(c) ? json(c, ups.map((u) => u.id)) : json(c, ups.map(upstreamObject));
  });
  app.post("/tracks/:id/upstreams", async (c) => {
    if (!write) return fail(c, 403, "the API is read-only (kmp_out_api write=off)");
    const entry = server.tracks.get(c.req.param("id"));
    if (!entry) return fail(c, 404, `track '${c.req.param("id")}' not found`);
    if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
      return fail(c, 415, "the body must be application/json");
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail(c, 415, "the body is not valid JSON");
    }
    const parsed = v.safeParse(AddUpstreamBody, body);
    if (!parsed.success) return fail(c, 415, `invalid upstream: ${v.summarize(parsed.issues).replace(/\n/g, "; ")}`);
    const r = entry.track.addUpstream(parsed.output);
    if (r.ok) return json(c, upstreamObject(r.upstream), 201);
    return fail(c, ADD_UPSTREAM_STATUS[r.failure], r.message);
  });
  app.delete("/tracks/:id/upstreams/:upstream", (c) => {
    if (!write) return fail(c, 403, "the API is read-only (kmp_out_api write=off)");
    const entry = server.tracks.get(c.req.param("id"));
    if (!entry) return fail(c, 404, `track '${c.req.param("id")}' not found`);
    if (!entry.track.removeUpstream(c.req.param("upstream"))) {
      return fail(c, 404, `upstream '${c.req.param("upstream")}' not found`);
    }
    return c.body(null, 204);
  });
  return app;
}

/** The reference's statuses for an upstream the kmp-out API cannot add. */
const ADD_UPSTREAM_STATUS: Record<AddUpstreamFailure, 404 | 415 | 500> = {
  no_upstreams: 404,
  unknown_source: 404,
  bad_url: 415,
  bad_connect_data: 500,
};

/** The HTTP app of one `http { server { … } }`: each location mounts its API. */
export function apiApp(server: IngestServer, locations: ApiLocation[]): Hono {
  const app = new Hono({ strict: false });
  app.get("/metrics", (c) => c.body(renderMetrics(server), 200, { "Content-Type": "text/plain; version=0.0.4" }));
  // for load balancers (HAProxy `option httpchk GET /healthz`): 200 while RTMP is accepted, 503 once stopping
  app.get("/healthz", (c) =>
    server.accepting
      ? json(c, { status: "ok", sessions: server.sessions.size, tracks: server.tracks.size })
      : c.json({ status: "stopping" }, 503));
  mountStatusPage(app, locations, () => uiStatus(server, locations));
  for (const loc of locations) {
    const sub = loc.kind === "rtmp_kmp_api" ? rtmpKmpApi(server, loc.write) : kmpOutApi(server, loc.write);
    app.route(mountPrefix(loc), sub);
  }
  app.notFound((c) => fail(c, 404, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => fail(c, 500, err.message));
  return app;
}
