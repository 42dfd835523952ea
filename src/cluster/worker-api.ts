import { Hono } from "hono";
import { apiApp } from "../api/app.ts";
import { renderJson } from "../api/json.ts";
import { renderMetrics } from "../api/metrics.ts";
import { rtmpCounters, sessionObject, trackObject } from "../api/status.ts";
import type { ApiLocation } from "../config/types.ts";
import type { IngestServer } from "../server/server.ts";
import { TOKEN_HEADER, type WorkerState } from "./protocol.ts";

/** What a worker's server is doing, rendered for its primary (`GET /state`). */
export function workerState(server: IngestServer): WorkerState {
  const sessions: WorkerState["sessions"] = [];
  server.servers.forEach((state, si) => {
    state.config.applications.forEach((app, ai) => {
      for (const s of server.appSessions(state, app)) sessions.push([si, ai, s.connection, renderJson(sessionObject(server, s))]);
    });
  });
  const tracks: WorkerState["tracks"] = [];
  for (const [id, entry] of server.tracks) tracks.push([id, renderJson(trackObject(entry, false))]);
  return { ...rtmpCounters(server), sessions, tracks };
}

/**
 * A worker's internal API, on loopback for its primary only (every request carries the primary's
 * secret): `GET /state`, `GET /metrics`, and the public API of this worker's sessions and tracks
 * for the requests the primary forwards.
 */
export function workerApi(server: IngestServer, token: string, locations: ApiLocation[]): Hono {
  const app = new Hono({ strict: false });
  app.use("*", async (c, next) => {
    if (c.req.header(TOKEN_HEADER) !== token) return c.json({ code: 403, message: "not the primary" }, 403);
    await next();
  });
  app.get("/state", (c) => c.body(JSON.stringify(workerState(server)), 200, { "Content-Type": "application/json" }));
  app.get("/metrics", (c) => c.body(renderMetrics(server), 200, { "Content-Type": "text/plain; version=0.0.4" }));
  app.route("/", apiApp(server, locations));
  return app;
}
