import type { CtrlHeader } from "../config/types.ts";
import { CtrlError } from "./errors.ts";
import { Metrics } from "../stats/metrics.ts";
import { parseControlJson } from "./json.ts";

export type PostOptions = {
  /** kmp_ctrl_timeout: connect + send (with fetch: part of the wait for the response headers). */
  timeoutMs: number;
  /** kmp_ctrl_read_timeout: bounds the response after the request went out. */
  readTimeoutMs: number;
  /** kmp_ctrl_buffer_size: an answer of this size or more fails the attempt. */
  bufferSize: number;
  headers: CtrlHeader[];
  signal?: AbortSignal;
};

/** `http://` is optional in the directive and a missing path means `/` (spec §6.1). */
export function normalizeUrl(url: string): string {
  let u = /^http:\/\//i.test(url) ? url : /^https?:\/\//i.test(url) ? url : `http://${url}`;
  if (!/^https?:\/\/[^/]+\//i.test(u)) u += "/";
  return u;
}

/** One control request attempt on `fetch`; every failure is a CtrlError with a stable code. */
export class ControlClient {
  private readonly metrics: Metrics;
  private readonly awaitingAnswer: () => () => void;

  /**
   * `metrics`: the server's registry (request durations and failures by event);
   * `awaitingAnswer`: the runtime's mark for a request in flight (`Runtime.awaitingAnswer`).
   */
  constructor(metrics: Metrics = new Metrics(), awaitingAnswer: () => () => void = () => () => {}) {
    this.metrics = metrics;
    this.awaitingAnswer = awaitingAnswer;
  }

  /** Requests still in flight (a stop waits for them: every unpublish must leave before exit). */
  private readonly inflight = new Set<Promise<unknown>>();

  /** Resolves when every request in flight settled, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.inflight.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  post(url: string, body: string, opts: PostOptions): Promise<Record<string, unknown>> {
    const p = this.postOnce(url, body, opts);
    this.inflight.add(p);
    const done = () => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private async postOnce(url: string, body: string, opts: PostOptions): Promise<Record<string, unknown>> {
    const event = /^\{"event_type":"(\w+)"/.exec(body)?.[1] ?? "other";
    const started = performance.now();
    const release = this.awaitingAnswer();
    try {
      const r = await this.attempt(url, body, opts);
      this.metrics.observe("rtmp_kmp_ctrl_request_duration_seconds", { event }, (performance.now() - started) / 1000);
      return r;
    } catch (err) {
      this.metrics.inc("rtmp_kmp_ctrl_request_failures_total", { event, code: err instanceof CtrlError ? err.code : "CTRL_ERR_INTERNAL" });
      throw err;
    } finally {
      release();
    }
  }

  private async attempt(url: string, body: string, opts: PostOptions): Promise<Record<string, unknown>> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(opts.signal?.reason);
    if (opts.signal?.aborted) throw new CtrlError("CTRL_ERR_ABORTED", "request cancelled");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let timer = setTimeout(() => ctl.abort(new CtrlError("CTRL_ERR_TIMEOUT", `no response within ${opts.timeoutMs + opts.readTimeoutMs} ms`)), opts.timeoutMs + opts.readTimeoutMs);
    try {
      // one TCP connection per attempt, as the reference (HTTP/1.0, Connection: Close): a pooled
      // keep-alive socket the controller closes while idle would lose a request that is sent once
      const headers = new Headers({ "Content-Type": "application/json", Connection: "close" });
      for (const h of opts.headers) headers.append(h.name, h.value);
      let res: Response;
      try {
        res = await fetch(normalizeUrl(url), { method: "POST", body, headers, signal: ctl.signal, redirect: "manual" });
      } catch (err) {
        throw this.transportError(err, ctl.signal, opts.signal);
      }
      clearTimeout(timer);
      timer = setTimeout(() => ctl.abort(new CtrlError("CTRL_ERR_TIMEOUT", `response not read within ${opts.readTimeoutMs} ms`)), opts.readTimeoutMs);
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        throw new CtrlError("CTRL_ERR_STATUS", `HTTP status ${res.status} (expected 200)`);
      }
      const ct = res.headers.get("content-type") ?? "";
      if (!ct.toLowerCase().startsWith("application/json")) {
        await res.body?.cancel().catch(() => {});
        throw new CtrlError("CTRL_ERR_CONTENT_TYPE", `content type '${ct}' is not application/json`);
      }
      const text = await this.readLimited(res, opts.bufferSize, ctl.signal, opts.signal);
      const parsed = parseControlJson(text);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new CtrlError("CTRL_ERR_BAD_JSON", "the answer is not a JSON object");
      }
      return parsed as Record<string, unknown>;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  private transportError(err: unknown, own: AbortSignal, outer?: AbortSignal): CtrlError {
    if (outer?.aborted) return new CtrlError("CTRL_ERR_ABORTED", "request cancelled");
    if (own.aborted && own.reason instanceof CtrlError) return own.reason;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return new CtrlError("CTRL_ERR_CONNECT", `request failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }

  private async readLimited(res: Response, bufferSize: number, own: AbortSignal, outer?: AbortSignal): Promise<string> {
    const limit = bufferSize - 1;
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > limit) {
      await res.body?.cancel().catch(() => {});
      throw new CtrlError("CTRL_ERR_TOO_LARGE", `answer of ${declared} bytes exceeds kmp_ctrl_buffer_size ${bufferSize}`);
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > limit) {
            await reader.cancel().catch(() => {});
            throw new CtrlError("CTRL_ERR_TOO_LARGE", `answer exceeds kmp_ctrl_buffer_size ${bufferSize}`);
          }
          parts.push(value);
        }
      } catch (err) {
        if (err instanceof CtrlError) throw err;
        throw this.transportError(err, own, outer);
      }
    }
    const all = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.byteLength;
    }
    return new TextDecoder().decode(all);
  }
}

/** Sleeps `ms`, rejecting early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CtrlError("CTRL_ERR_ABORTED", "request cancelled"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CtrlError("CTRL_ERR_ABORTED", "request cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `attempt` up to `retries + 1` times, `intervalMs` apart, while `retryIf(err)` holds.
 * Rejects with the last error.
 */
export async function retry<T>(
  attempt: (n: number) => Promise<T>,
  o: { retries: number; intervalMs: number; signal?: AbortSignal; retryIf?: (err: unknown) => boolean; onFail?: (err: unknown, n: number) => void; sleep?: typeof sleep },
): Promise<T> {
  const wait = o.sleep ?? sleep;
  for (let n = 1;; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (err instanceof CtrlError && err.code === "CTRL_ERR_ABORTED") throw err;
      o.onFail?.(err, n);
      if (n > o.retries || (o.retryIf && !o.retryIf(err))) throw err;
      await wait(o.intervalMs, o.signal);
    }
  }
}
