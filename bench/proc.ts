/** Process helpers shared by the benches: the server command per runtime, /proc readings. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { encodeAmf0 } from "../src/rtmp/amf0.ts";
import { encodeMessage } from "../src/rtmp/chunk-encoder.ts";
import type { Runtime } from "../src/runtime/types.ts";
import { Controller } from "../src/tools/controller.ts";
import { KmpReceiver, type KmpReceiverOptions } from "../src/tools/kmp-receiver.ts";

const here = import.meta.dirname ?? new URL(".", import.meta.url).pathname;
export const ROOT = join(here, "..");

export function serverCmd(rt: string): string[] {
  const bin = (n: string) => join(ROOT, "node_modules", ".bin", n);
  const cli = join(ROOT, "src", "cli.ts");
  return rt === "deno" ? [bin("deno"), "run", "-A", "--no-check", cli] : rt === "bun" ? [bin("bun"), "run", cli] : [process.execPath, ...(process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean), "--import", pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href, cli];
}

/** utime + stime of a process, seconds. */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // clock ticks (USER_HZ 100)
}

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(rt: Runtime): Promise<number> {
  const probe = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

export async function waitForPort(rt: Runtime, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await rt.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

/** What a bench's server runs against (`benchStack`). */
export type BenchStack = { receiver: KmpReceiver; controller: Controller; port: number; conf: string; close(): Promise<void> };

/**
 * An acking KMP receiver and a controller in this process, a free port, and `config(port,
 * controllerUrl)` written to `nginx.conf` in a new temporary directory; `close` (once the server
 * has exited) stops the two and removes the directory.
 */
export async function benchStack(rt: Runtime, prefix: string, config: (port: number, controllerUrl: string) => string, receiverOpts: Omit<KmpReceiverOptions, "runtime"> = {}): Promise<BenchStack> {
  const receiver = await new KmpReceiver({ ...receiverOpts, runtime: rt }).start();
  const controller = await new Controller({ runtime: rt, kmpUrl: receiver.url }).start();
  const port = await freePort(rt);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, config(port, controller.url));
  const close = async () => {
    await controller.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { receiver, controller, port, conf, close };
}

/** A minimal publisher: simple handshake, connect/createStream/publish pipelined, then media. */
export async function benchPublisher(rt: Runtime, port: number, name: string) {
  const conn = await rt.connect({ hostname: "127.0.0.1", port });
  const w = conn.writable.getWriter();
  const r = conn.readable.getReader();
  let got = 0;
  const drained = (async () => {
    for (;;) {
      const x = await r.read();
      if (x.done) return;
      got += x.value.length;
    }
  })().catch(() => {});
  const c0c1 = new Uint8Array(1537);
  c0c1[0] = 3;
  await w.write(c0c1);
  while (got < 3073) await sleep(1);
  await w.write(new Uint8Array(1536)); // C2
  const cmd = (csid: number, msid: number, ...v: unknown[]) => encodeMessage({ csid, msid, type: 20, payload: encodeAmf0(...v) }, 128);
  await w.write(cmd(3, 0, "connect", 1, { app: "live", tcUrl: `rtmp://127.0.0.1:${port}/live`, flashVer: "bench" }));
  await w.write(cmd(3, 0, "createStream", 2, null));
  await w.write(cmd(8, 1, "publish", 3, null, name, "live"));
  // close: FIN (the server ends the session and flushes every track at once), then its close
  return { w, close: async () => { await w.close().catch(() => {}); await drained; conn.close(); } };
}
