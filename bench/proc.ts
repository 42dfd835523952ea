/** Process helpers shared by the benches: the server command per runtime, /proc readings. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Runtime } from "../src/runtime/types.ts";

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
