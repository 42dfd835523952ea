import * as v from "valibot";
import type { RtmpCounters } from "../api/status.ts";
import type { UnpublishRequest } from "../control/types.ts";
import type { IdRange } from "../server/ids.ts";

/**
 * What a primary and its worker processes say to each other, over HTTP on loopback with a
 * per-start secret (`TOKEN_HEADER`) — the same on every runtime.
 *
 * worker → primary: `POST /hello` (its internal API is up, listeners bound), `POST /ids` (the
 * next block of ids of a kind), `POST /owed` (unpublishes owed by its tracks, set or cleared).
 * primary → worker: `GET /state` (sessions and tracks as rendered JSON), `GET /metrics`, and any
 * public API request about one session or track, forwarded as it came.
 */
export const WORKER_ENV = "RTMP_KMP_WORKER";
export const TOKEN_HEADER = "x-rtmp-kmp-token";

export type IdKind = "connection" | "track" | "upstream";
export const ID_KINDS: IdKind[] = ["connection", "track", "upstream"];

const Range = v.object({ start: v.number(), end: v.number() });

/** Given to a worker in `RTMP_KMP_WORKER` (JSON). */
export const WorkerSpecSchema = v.object({
  /** 0..N-1: a replacement takes the slot of the worker it replaces. */
  slot: v.number(),
  /** Unique per spawned worker for the primary's whole life. */
  instance: v.number(),
  primary: v.string(),
  token: v.string(),
  /** The RTMP port of each `listen` of each `server{}` (port 0 resolved by the primary). */
  ports: v.array(v.array(v.number())),
  /** The embedded defaults' built-in controller, when the primary runs it. */
  controller: v.optional(v.string()),
  /** The first two blocks of each id kind. */
  ids: v.object({ connection: v.tuple([Range, Range]), track: v.tuple([Range, Range]), upstream: v.tuple([Range, Range]) }),
});
export type WorkerSpec = v.InferOutput<typeof WorkerSpecSchema>;

export const HelloSchema = v.object({ instance: v.number(), pid: v.number(), api: v.string() });
export type Hello = v.InferOutput<typeof HelloSchema>;

export const IdsRequestSchema = v.object({ instance: v.number(), kind: v.picklist(ID_KINDS) });

const UnpublishRequestSchema = v.object({
  url: v.string(),
  body: v.string(),
  options: v.object({
    timeoutMs: v.number(),
    readTimeoutMs: v.number(),
    bufferSize: v.number(),
    headers: v.array(v.object({ name: v.string(), value: v.string() })),
  }),
});
/** `set`: owed unpublishes by key; `clear`: keys whose unpublish was sent. */
export const OwedSchema = v.object({
  instance: v.number(),
  set: v.array(v.tuple([v.string(), UnpublishRequestSchema])),
  clear: v.array(v.string()),
});
export type Owed = { instance: number; set: [string, UnpublishRequest][]; clear: string[] };

/** `GET /state` of a worker: its counters, and each session and track rendered as the API shows it. */
export type WorkerState = RtmpCounters & {
  /** [server index, application index, connection, session JSON] */
  sessions: [number, number, number, string][];
  /** [kmp-out id, track JSON] */
  tracks: [string, string][];
};

export type { IdRange };
