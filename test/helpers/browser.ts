/**
 * Debian's Chromium, headless, driven over the DevTools protocol with the runtime's own
 * WebSocket (Node, Deno and Bun all have one): enough to open a page, evaluate script in it,
 * accept its dialogs and take a screenshot. No browser download, no driver package.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start } from "./proc.ts";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class Browser {
  private readonly ws: WebSocket;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private sessionId = "";
  private readonly proc: ReturnType<typeof start>;
  private readonly profile: string;
  /** Page errors and console errors seen so far. */
  readonly errors: string[] = [];

  private constructor(ws: WebSocket, proc: ReturnType<typeof start>, profile: string) {
    this.ws = ws;
    this.proc = proc;
    this.profile = profile;
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data));
      if (m.id !== undefined) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error) p?.reject(new Error(`${m.error.message} (${m.error.code})`));
        else p?.resolve(m.result);
        return;
      }
      if (m.method === "Page.javascriptDialogOpening") void this.send("Page.handleJavaScriptDialog", { accept: true });
      if (m.method === "Runtime.exceptionThrown") this.errors.push(m.params.exceptionDetails?.exception?.description ?? m.params.exceptionDetails?.text);
      if (m.method === "Log.entryAdded" && m.params.entry.level === "error") this.errors.push(`${m.params.entry.text} ${m.params.entry.url ?? ""}`);
    };
  }

  /** Starts Chromium and attaches to one blank page. */
  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), "chromium-"));
    const proc = start(CHROMIUM, [
      "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
      "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0",
      "--remote-debugging-address=127.0.0.1", `--user-data-dir=${profile}`, "--window-size=1280,900", "about:blank",
    ]);
    const deadline = Date.now() + 30_000;
    let url = "";
    while (!url) {
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(proc.output());
      if (m) url = m[1];
      else if (Date.now() > deadline || proc.child.exitCode !== null) {
        await proc.stop("SIGKILL");
        throw new Error(`chromium did not start: ${proc.output().slice(-2000)}`);
      } else await new Promise((r) => setTimeout(r, 100));
    }
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
    });
    const b = new Browser(ws, proc, profile);
    const { targetInfos } = await b.send("Target.getTargets") as { targetInfos: { targetId: string; type: string }[] };
    const page = targetInfos.find((t) => t.type === "page");
    if (!page) throw new Error("chromium has no page");
    const { sessionId } = await b.send("Target.attachToTarget", { targetId: page.targetId, flatten: true }) as { sessionId: string };
    b.sessionId = sessionId;
    await b.send("Page.enable");
    await b.send("Runtime.enable");
    await b.send("Log.enable");
    return b;
  }

  /** One DevTools command (on the page once attached); rejects after 15 s. */
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    const msg: Record<string, unknown> = { id, method, params };
    if (this.sessionId) msg.sessionId = this.sessionId;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in 15 s`));
      }, 15_000);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify(msg));
    });
  }

  async goto(url: string): Promise<void> {
    await this.send("Page.navigate", { url });
    await this.waitFor("document.readyState === 'complete'", 15_000);
  }

  /** The value of an expression in the page (awaited if it is a promise). */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true }) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Polls `expression` in the page until it is truthy. */
  async waitFor(expression: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.eval<boolean>(`!!(${expression})`).catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`page never satisfied: ${expression}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async screenshot(): Promise<Uint8Array> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }) as { data: string };
    return new Uint8Array(Buffer.from(data, "base64"));
  }

  async close(): Promise<void> {
    try {
      this.ws.close();
    } catch { /* already closed */ }
    await this.proc.stop("SIGKILL");
    rmSync(this.profile, { recursive: true, force: true });
  }
}
