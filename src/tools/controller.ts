import { Waiters } from "./waiters.ts";
import type { HttpServer, Runtime } from "../runtime/types.ts";

/**
 * A small controller that answers the four control events itself (embedded first-run defaults,
 * tests). publish → one upstream at `kmpUrl`, `channel_id` = the stream name, `track_id` =
 * `v1`/`a1`; republish → the same URL; connect → ok; unpublish → `{}`. Every request is recorded.
 * Modes inject the fixture controller's failures (fixtures README §1.2).
 */
export type ControllerMode = {
  connect?: "ok" | "reject" | "bad_status";
  /** Rejects the connects whose flash version contains this text (the others as `connect` says). */
  rejectFlashver?: string;
  /** Answer connect only after this long (a slow controller). */
  connectDelayMs?: number;
  publish?: "ok" | "error" | "no_upstreams";
  republish?: "ok" | "error";
  /** Extra keys for each upstream object of a publish answer (e.g. resume_from). */
  publishExtra?: Record<string, unknown>;
  /** Fixed channel id; default: the stream name. */
  channelId?: string;
  /** More upstreams after `u1` in every publish answer (replication); republish of one answers its url. */
  replicas?: { url: string; id: string; required?: boolean }[];
  /** A flaky controller: every `failEvery`-th request (of any event) answers HTTP 500. */
  failEvery?: number;
  /** A hanging controller: every `hangEvery`-th publish or republish is answered only after `hangMs`. */
  hangEvery?: number;
  hangMs?: number;
};

export type ControlRequest = { path: string; headers: [string, string][]; bodyRaw: string; body: Record<string, unknown>; time: number };

export class Controller {
  readonly runtime: Runtime;
  kmpUrl: string;
  republishUrl: string | null = null;
  mode: ControllerMode;
  readonly requests: ControlRequest[] = [];
  private server: HttpServer | null = null;
  private hangCount = 0;
  private readonly waiters = new Waiters("Controller");

  constructor(opts: { runtime: Runtime; kmpUrl: string; mode?: ControllerMode }) {
    this.runtime = opts.runtime;
    this.kmpUrl = opts.kmpUrl;
    this.mode = opts.mode ?? {};
  }

  get url(): string {
    return `http://127.0.0.1:${this.server?.addr.port ?? 0}`;
  }

  async start(hostname = "127.0.0.1", port = 0): Promise<this> {
    this.server = await this.runtime.serveHttp({ hostname, port }, (req) => this.handle(req));
    return this;
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }

  events(type?: string): Record<string, unknown>[] {
    return this.requests.map((r) => r.body).filter((b) => !type || b.event_type === type);
  }

  /** Resolves when `pred()` holds (checked after every change), or rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
    return this.waiters.waitFor(pred, timeoutMs);
  }


  private async handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const bodyRaw = await req.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(bodyRaw);
    } catch { /* recorded raw */ }
    this.requests.push({ path, headers: [...req.headers], bodyRaw, body, time: Date.now() });
    queueMicrotask(() => this.waiters.notify());
    const m = this.mode;
    const n = this.requests.length;
    if (m.failEvery && n % m.failEvery === 0) return new Response("injected failure", { status: 500 });
    const ok = (o: unknown) => new Response(JSON.stringify(o), { status: 200, headers: { "content-type": "application/json" } });
    const ev = String(body.event_type ?? path.replace(/^\//, ""));
    if (m.hangEvery && (ev === "publish" || ev === "republish") && ++this.hangCount % m.hangEvery === 0) {
      await new Promise((r) => setTimeout(r, m.hangMs ?? 0));
    }
    switch (ev) {
      case "connect":
        if (m.connectDelayMs) await new Promise((r) => setTimeout(r, m.connectDelayMs));
        if (m.connect === "bad_status") return new Response("error", { status: 500 });
        if (m.connect === "reject" || (m.rejectFlashver && String((body.rtmp as { flashver?: string } | undefined)?.flashver ?? "").includes(m.rejectFlashver))) return ok({ code: "error", message: "rejected by test controller" });
        return ok({ code: "ok", message: "ok" });
      case "publish": {
        if (m.publish === "error") return ok({ code: "error", message: "publish refused" });
        const mi = body.media_info as { media_type?: string } | undefined;
        const rtmp = body.rtmp as { name?: string } | undefined;
        const k = typeof body.multitrack_id === "number" ? body.multitrack_id + 1 : 1;
        const trackId = mi?.media_type === "audio" ? `a${k}` : `v${k}`;
        const upstreams = m.publish === "no_upstreams" ? [] : [{ url: this.kmpUrl, id: "u1", ...(m.publishExtra ?? {}) }, ...(m.replicas ?? [])];
        const channel = m.channelId ?? channelIdFor(rtmp?.name ?? "");
        return ok({ code: "ok", channel_id: channel, track_id: trackId, upstreams });
      }
      case "republish":
        if (m.republish === "error") return ok({ code: "error", message: "republish refused" });
        return ok({ code: "ok", url: m.replicas?.find((r) => r.id === body.id)?.url ?? this.republishUrl ?? this.kmpUrl });
      default:
        return ok({});
    }
  }
}

/** A KMP channel id (≤ 32 bytes, file-name safe) from a stream name. */
export function channelIdFor(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 32);
  return clean || "ch1";
}
