/**
 * Idle connections: N clients complete the RTMP handshake and then say nothing — or, with
 * `connected`, also send `connect` (accepted: no connect callback is configured) and then say
 * nothing. Prints the server's RSS growth per connection (VmRSS from /proc/<pid>/status).
 *
 *   npx tsx bench/idle.bench.ts [node|deno|bun|ref] [N=1000] [handshaken|connected]
 *
 * `ref` runs the C reference built by ../shared/tools/reference/build.sh (../ref/nginx).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRuntime } from "../src/runtime/detect.ts";
import type { Conn } from "../src/runtime/types.ts";
import { idleClient, publishPreamble } from "../test/helpers/raw-client.ts";
import { freePort, rssKb, serverCmd, sleep, waitForPort } from "./proc.ts";

const [serverRuntime = "node", nArg = "1000", mode = "handshaken"] = process.argv.slice(2);
const N = Number(nArg);

async function main() {
  const rt = await getRuntime();
  const port = await freePort(rt);
  const dir = mkdtempSync(join(tmpdir(), "idle-"));
  const conf = join(dir, "nginx.conf");
  const rtmp = `rtmp { server { listen 127.0.0.1:${port}; timeout 120s; application live { live on; } } }`;
  let cmd: string[];
  if (serverRuntime === "ref") {
    mkdirSync(join(dir, "logs"));
    writeFileSync(conf, `daemon off; master_process off; worker_processes 1; error_log ${dir}/error.log notice; pid ${dir}/nginx.pid;
events { worker_connections ${N + 100}; } ${rtmp}`);
    cmd = [join(import.meta.dirname ?? ".", "..", "..", "ref", "nginx"), "-p", dir + "/", "-c", conf];
  } else {
    writeFileSync(conf, rtmp);
    cmd = [...serverCmd(serverRuntime), "--config", conf, "--log-level", "error"];
  }
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "inherit", "inherit"] });
  try {
    await waitForPort(rt, port);
    await sleep(1500);
    const before = rssKb(child.pid!);
    const conns: Conn[] = [];
    for (let i = 0; i < N; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, N - i) }, async () => {
        const { conn } = await idleClient(rt, port);
        if (mode === "connected") {
          const [chunkSize, connect] = publishPreamble("idle", 4096);
          const w = conn.writable.getWriter();
          await w.write(chunkSize);
          await w.write(connect);
          w.releaseLock();
        }
        return conn;
      }));
      conns.push(...batch);
    }
    await sleep(3000);
    const after = rssKb(child.pid!);
    console.log(`${serverRuntime}: ${N} idle ${mode} connections: RSS ${(before / 1024).toFixed(1)} MB → ${(after / 1024).toFixed(1)} MB, ` +
      `${((after - before) / N).toFixed(1)} KB per connection`);
    for (const c of conns) c.close();
  } finally {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);

