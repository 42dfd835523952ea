/**
 * 1000 clients complete the handshake and then say nothing: the server (a child process on the
 * runtime under test, embedded defaults) keeps serving a real publisher beside them, its memory
 * per idle connection stays small, and every idle client is dropped by the idle timeout.
 * The measured figures per runtime are in bench/RESULTS.md (bench/idle.bench.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRuntime } from "../../src/runtime/detect.ts";
import type { Conn } from "../../src/runtime/types.ts";
import { INPUTS, requireShared, serverCommand } from "../helpers/paths.ts";
import { requireTool, run, start } from "../helpers/proc.ts";
import { idleClient } from "../helpers/raw-client.ts";

const N = 1000;
/** Generous: the runtimes measure 10–40 KB (bench/RESULTS.md); a per-connection leak of a read buffer or a pipeline is far above it. */
const MAX_KB_PER_CONNECTION = 100;

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
}

test(`${N} idle handshaken clients: a publisher is still served, memory per connection is small, all dropped by the idle timeout`, { timeout: 120_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  const rt = await getRuntime();
  const probe = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const dir = mkdtempSync(join(tmpdir(), "idle-"));
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, `rtmp { server { listen 127.0.0.1:${port}; kmp_idle_timeout 8s; application live { live on; } } }`);
  const cmd = serverCommand();
  const server = start(cmd[0], [...cmd.slice(1), "--config", conf, "--log-level", "error"], { cwd: dir });
  const clients: { conn: Conn; closed: Promise<void> }[] = [];
  try {
    for (let t0 = Date.now(); ; ) {
      try {
        (await rt.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch {
        if (Date.now() - t0 > 20_000) throw new Error("the server never listened");
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssKb(server.child.pid!);
    for (let i = 0; i < N; i += 50) clients.push(...(await Promise.all(Array.from({ length: 50 }, () => idleClient(rt, port)))));
    const r = await run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", join(INPUTS, "av_h264baseline_aac.flv"), "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${port}/live/beside`], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `the publisher beside ${N} idle clients failed: ${r.stderr}`);
    const perConn = (rssKb(server.child.pid!) - before) / N;
    assert.ok(perConn < MAX_KB_PER_CONNECTION, `${perConn.toFixed(1)} KB per idle connection`);
    // kmp_idle_timeout (armed at accept) drops every one of them, bounded in time
    const all = Promise.all(clients.map((c) => c.closed));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([all.then(() => "closed"), new Promise((res) => (timer = setTimeout(() => res("timeout"), 30_000)))]);
    clearTimeout(timer);
    assert.equal(outcome, "closed", "every idle client was dropped");
    assert.equal(server.child.exitCode, null, "the server is still running");
  } finally {
    for (const c of clients) c.conn.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
