/**
 * `worker_processes`: aggregate CPU-bound ingest with 1 worker vs N, in one run. P TS publishers
 * send a pre-chunked stream as fast as the server takes it (the `fast` mode of e2e.bench.ts, P at
 * once) to our server (CLI on the runtime under test), which forwards to a counting, acking KMP
 * receiver in this process. Wall time runs from the first byte to the last frame received.
 *
 *   bun bench/workers.bench.ts [node|deno|bun] [workers, e.g. 1,2] [publishers] [loops]
 *
 * CPU is the server's whole process tree (primary + workers) from /proc.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMessage } from "../src/rtmp/chunk-encoder.ts";
import { getRuntime } from "../src/runtime/detect.ts";
import type { Runtime } from "../src/runtime/types.ts";
import { chunkStream, flvMessages, isFrame } from "./flv-to-rtmp.ts";
import { benchPublisher, benchStack, cpuSeconds, ROOT, serverCmd, sleep, waitForPort } from "./proc.ts";

const INPUT = join(ROOT, "..", "shared", "fixtures", "inputs", "av_h264main_bframes_aac.flv");
const [serverRuntime = "node", workersArg = "1,2", pubsArg = "4", loopsArg = "60"] = process.argv.slice(2);

/** The pid and every descendant's (node:cluster workers, Deno/Bun children). */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const t of readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, "utf8").trim().split(/\s+/)) if (t) out.push(Number(t));
    } catch { /* gone */ }
  }
  return out;
}
const treeCpu = (pid: number) => tree(pid).reduce((n, p) => n + (() => {
  try {
    return cpuSeconds(p);
  } catch {
    return 0;
  }
})(), 0);

/** Sends the whole stream, then ends it (FIN: the tracks flush at once instead of on their timer). */
async function publisher(rt: Runtime, port: number, name: string, bytes: Uint8Array): Promise<void> {
  const p = await benchPublisher(rt, port, name);
  await p.w.write(encodeMessage({ csid: 2, msid: 0, type: 1, payload: Uint8Array.of(0, 0, 0x10, 0) }, 128));
  for (let o = 0; o < bytes.length; o += 64 * 1024) await p.w.write(bytes.subarray(o, o + 64 * 1024));
  await p.close();
}

async function once(rt: Runtime, workers: number, pubs: number, loops: number): Promise<{ mbps: number; cpuPerMb: number; cpuPct: number; loadPerMb: number }> {
  const stack = await benchStack(rt, "workers-bench-", (port, c) => `worker_processes ${workers};
rtmp { server { listen 127.0.0.1:${port}; application live {
    kmp_ctrl_connect_url ${c}/connect; kmp_ctrl_publish_url ${c}/publish; kmp_ctrl_unpublish_url ${c}/unpublish; } } }`, { keepPackets: false });
  const { receiver, port, conf } = stack;
  const cmd = serverCmd(serverRuntime);
  const server = spawn(cmd[0], [...cmd.slice(1), "--config", conf, "--log-level", "warn"], { stdio: ["ignore", "inherit", "inherit"] });
  try {
    await waitForPort(rt, port);
    await sleep(1000); // every worker bound
    const msgs = flvMessages(INPUT);
    const { bytes } = chunkStream(msgs, 4096, loops);
    const framesWanted = msgs.filter(isFrame).length * loops * pubs;
    const cpu0 = treeCpu(server.pid!);
    const own0 = cpuSeconds(process.pid);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: pubs }, (_, i) => publisher(rt, port, `fast${i}`, bytes)));
    const got = () => receiver.connections.reduce((n, x) => n + x.frames, 0);
    await receiver.waitFor(() => got() >= framesWanted, 300_000).catch((e) => {
      throw new Error(`${e.message}: ${got()} of ${framesWanted} frames`);
    });
    const s = (performance.now() - t0) / 1000;
    const cpu = treeCpu(server.pid!) - cpu0;
    const own = cpuSeconds(process.pid) - own0;
    const mb = (bytes.length * pubs) / 1e6;
    return { mbps: mb / s, cpuPerMb: (cpu / mb) * 1000, cpuPct: (cpu / s) * 100, loadPerMb: (own / mb) * 1000 };
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    await stack.close();
  }
}

async function main() {
  const rt = await getRuntime();
  const counts = workersArg.split(",").map(Number);
  const pubs = Number(pubsArg);
  const loops = Number(loopsArg);
  console.log(`| server | workers | publishers | aggregate MB/s | server CPU % (tree) | ms CPU per MB | load generator ms CPU per MB | × 1 worker |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  let base = 0;
  for (const n of counts) {
    const r = await once(rt, n, pubs, loops);
    if (n === counts[0]) base = r.mbps;
    console.log(`| ${serverRuntime} | ${n} | ${pubs} | ${r.mbps.toFixed(1)} | ${r.cpuPct.toFixed(0)} | ${r.cpuPerMb.toFixed(2)} | ${r.loadPerMb.toFixed(2)} | ${(r.mbps / base).toFixed(2)} |`);
  }
  process.exit(0);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
