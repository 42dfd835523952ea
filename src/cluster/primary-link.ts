import type { UnpublishRequest } from "../control/types.ts";
import type { Logger } from "../log/logger.ts";
import type { IdRange } from "../server/ids.ts";
import { type Hello, type IdKind, type Owed, TOKEN_HEADER } from "./protocol.ts";

const REQUEST_TIMEOUT_MS = 5_000;
const RETRY_MS = 1_000;
/** Bytes of JSON per request: well below the HTTP body limit of every API (64 KiB). */
const BATCH_BYTES = 32 * 1024;

/**
 * A worker's calls to its primary. Owed unpublishes are coalesced by key (a track that opens and
 * closes between two sends costs nothing) and sent one request at a time, so what is queued is
 * bounded by the live tracks.
 */
export class PrimaryLink {
  private readonly url: string;
  private readonly token: string;
  private readonly instance: number;
  private readonly log: Logger;
  private readonly pending = new Map<string, UnpublishRequest | null>();
  private sending = false;
  private readonly utf8 = new TextEncoder();

  constructor(opts: { url: string; token: string; instance: number; log: Logger }) {
    this.url = opts.url.replace(/\/+$/, "");
    this.token = opts.token;
    this.instance = opts.instance;
    this.log = opts.log;
  }

  private async post(path: string, body: unknown): Promise<Response> {
    const r = await fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", [TOKEN_HEADER]: this.token },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!r.ok) {
      await r.body?.cancel();
      throw new Error(`primary answered ${r.status} to ${path}`);
    }
    return r;
  }

  async hello(h: Omit<Hello, "instance">): Promise<void> {
    await (await this.post("/hello", { instance: this.instance, ...h })).body?.cancel();
  }

  async ids(kind: IdKind): Promise<IdRange> {
    const r = await (await this.post("/ids", { instance: this.instance, kind })).json() as IdRange;
    if (!(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.end > r.start)) throw new Error("bad id block");
    return r;
  }

  owed(key: string, unpublish: UnpublishRequest | null): void {
    if (unpublish === null && this.pending.get(key)) this.pending.delete(key); // never told: nothing to clear
    else this.pending.set(key, unpublish);
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.sending || this.pending.size === 0) return;
    this.sending = true;
    const batch: Owed = { instance: this.instance, set: [], clear: [] };
    let bytes = 0;
    for (const [k, u] of this.pending) {
      const size = this.utf8.encode(JSON.stringify(u ? [k, u] : k)).length + 1;
      if (size > BATCH_BYTES) {
        // a client's huge connect strings: never sendable, and must not hold the others back
        this.pending.delete(k);
        this.log.warn(`the unpublish owed for ${k.slice(0, 80)} is ${size} bytes: the primary cannot send it if this worker dies`);
        continue;
      }
      if (bytes + size > BATCH_BYTES) break;
      bytes += size;
      if (u) batch.set.push([k, u]);
      else batch.clear.push(k);
      this.pending.delete(k);
    }
    if (batch.set.length + batch.clear.length === 0) {
      this.sending = false;
      return;
    }
    try {
      await (await this.post("/owed", batch)).body?.cancel();
    } catch (err) {
      this.log.warn(`cannot tell the primary about ${batch.set.length + batch.clear.length} owed unpublish(es), retrying in ${RETRY_MS} ms: ${(err as Error).message}`);
      // what changed meanwhile is newer than the failed batch
      for (const [k, u] of batch.set) if (!this.pending.has(k)) this.pending.set(k, u);
      for (const k of batch.clear) if (!this.pending.has(k)) this.pending.set(k, null);
      setTimeout(() => {
        this.sending = false;
        void this.flush();
      }, RETRY_MS);
      return;
    }
    this.sending = false;
    void this.flush();
  }
}
