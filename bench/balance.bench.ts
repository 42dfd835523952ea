/**
 * How `worker_processes 2` spreads connections: C clients connect (handshake + RTMP connect) one
 * after another and stay; the API then says how many each worker holds.
 *
 *   npx tsx bench/balance.bench.ts [node|deno|bun] [clients]
 *   NODE_CLUSTER_SCHED_POLICY=none npx tsx bench/balance.bench.ts node   (kernel accept, no round-robin)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { encodeAmf0 } from "../src/rtmp/amf0.ts";
import { encodeMessage } from "../src/rtmp/chunk-encoder.ts";
import { getRuntime } from "../src/runtime/detect.ts";
import type { Conn } from "../src/runtime/types.ts";
import { freePort, serverCmd, sleep } from "./proc.ts";

const [serverRuntime = "node", clientsArg = "100"] = process.argv.slice(2);

async function main() {
  const rt = await getRuntime();
  const [port, api] = [await freePort(rt), await freePort(rt)];
  const cmd = serverCmd(serverRuntime);
  const dir = mkdtempSync(`${tmpdir()}/balance-`);
  const server = spawn(cmd[0], [...cmd.slice(1), "--workers", "2", "--listen", `127.0.0.1:${port}`, "--api-listen", `127.0.0.1:${api}`, "--log-level", "warn"], { stdio: ["ignore", "inherit", "inherit"], cwd: dir });
  const conns: Conn[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      const h = await fetch(`http://127.0.0.1:${api}/healthz`).then((r) => r.json()).catch(() => null) as { workers?: number } | null;
      if (h?.workers === 2) break;
      await sleep(100);
    }
    for (let i = 0; i < Number(clientsArg); i++) {
      const conn = await rt.connect({ hostname: "127.0.0.1", port });
      const w = conn.writable.getWriter();
      const c0c1 = new Uint8Array(1537);
      c0c1[0] = 3;
      await w.write(c0c1);
      const r = conn.readable.getReader();
      let got = 0;
      while (got < 3073) {
        const x = await r.read();
        if (x.done) throw new Error("closed in the handshake");
        got += x.value.length;
      }
      void (async () => {
        while (!(await r.read()).done);
      })().catch(() => {});
      await w.write(new Uint8Array(1536));
      await w.write(encodeMessage({ csid: 3, msid: 0, type: 20, payload: encodeAmf0("connect", 1, { app: "live", tcUrl: `rtmp://127.0.0.1:${port}/live` }) }, 128));
      w.releaseLock();
      conns.push(conn);
    }
    await sleep(1000);
    const root = await (await fetch(`http://127.0.0.1:${api}/rtmp_kmp_api/`)).json() as { workers: { worker: number; sessions: number[] }[] };
    const counts = root.workers.map((w) => w.sessions.length);
    const policy = serverRuntime === "node" ? `node:cluster ${process.env.NODE_CLUSTER_SCHED_POLICY ?? "rr"}` : "SO_REUSEPORT";
    console.log(`| ${serverRuntime} | ${policy} | ${clientsArg} sequential clients | ${counts.join(" / ")} | max/mean ${(Math.max(...counts) / (counts.reduce((a, b) => a + b, 0) / counts.length)).toFixed(2)} |`);
  } finally {
    for (const c of conns) c.close();
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
