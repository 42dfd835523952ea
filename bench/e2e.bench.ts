/**
 * End to end on loopback: TS publishers → our server (a child process on the runtime under test)
 * → an acking KMP receiver, with a controller answering every event.
 *
 *   npx tsx bench/e2e.bench.ts [node|deno|bun] fast            one publisher, as fast as possible
 *   npx tsx bench/e2e.bench.ts [node|deno|bun] realtime N [s]  N real-time publishers for s seconds
 *
 * Server CPU comes from /proc/<pid>/stat (utime+stime), RSS from /proc/<pid>/status.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMessage } from "../src/rtmp/chunk-encoder.ts";
import { getRuntime } from "../src/runtime/detect.ts";
import type { Runtime } from "../src/runtime/types.ts";
import { chunkStream, flvMessages, isFrame } from "./flv-to-rtmp.ts";
import { benchPublisher, benchStack, cpuSeconds, ROOT, rssKb, serverCmd, sleep, waitForPort } from "./proc.ts";

const INPUT = join(ROOT, "..", "shared", "fixtures", "inputs", "av_h264main_bframes_aac.flv");
const [serverRuntime = "node", mode = "fast", nArg = "1", secArg = "20"] = process.argv.slice(2);
const rssMb = (pid: number) => rssKb(pid) / 1024;

async function main() {
  const rt = await getRuntime();
  const stack = await benchStack(rt, "e2e-", (port, c) => `rtmp { server { listen 127.0.0.1:${port}; application live {
    kmp_ctrl_connect_url ${c}/connect; kmp_ctrl_publish_url ${c}/publish; kmp_ctrl_unpublish_url ${c}/unpublish; kmp_ctrl_republish_url ${c}/republish; } } }`);
  const { receiver, port, conf } = stack;
  const cmd = serverCmd(serverRuntime);
  const server = spawn(cmd[0], [...cmd.slice(1), "--config", conf, "--log-level", "warn"], { stdio: ["ignore", "inherit", "inherit"] });
  const msgs = flvMessages(INPUT);
  try {
    await waitForPort(rt, port);
    if (mode === "fast") {
      const loops = 200;
      const { bytes } = chunkStream(msgs, 4096, loops);
      const framesWanted = msgs.filter(isFrame).length * loops;
      const p = await benchPublisher(rt, port, "fast");
      await p.w.write(encodeMessage({ csid: 2, msid: 0, type: 1, payload: Uint8Array.of(0, 0, 0x10, 0) }, 128));
      const cpu0 = cpuSeconds(server.pid!);
      const t0 = performance.now();
      for (let o = 0; o < bytes.length; o += 64 * 1024) await p.w.write(bytes.subarray(o, o + 64 * 1024));
      const got = () => receiver.connections.reduce((n, x) => n + x.frames, 0);
      await receiver.waitFor(() => got() >= framesWanted, 120_000).catch((e) => {
        throw new Error(`${e.message}: ${got()} of ${framesWanted} frames`);
      });
      const s = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(server.pid!) - cpu0;
      const mb = bytes.length / 1e6;
      console.log(`| ${serverRuntime} | fast, 1 publisher | ${mb.toFixed(1)} MB in ${s.toFixed(2)} s | ${(mb / s).toFixed(1)} MB/s | ${((cpu / mb) * 1000).toFixed(2)} ms CPU per MB | RSS ${rssMb(server.pid!).toFixed(0)} MB |`);
      await p.close();
    } else {
      const n = Number(nArg);
      const seconds = Number(secArg);
      const pubs = await Promise.all(Array.from({ length: n }, (_, i) => benchPublisher(rt, port, `rt${i}`)));
      const span = msgs.at(-1)!.timestamp + 40;
      const start = performance.now();
      let stop = false;
      const loops = pubs.map(async (p, i) => {
        await sleep((i * 37) % 1000); // stagger
        let idx = 0;
        let loop = 0;
        const base = performance.now();
        while (!stop) {
          const m = msgs[idx];
          const due = base + loop * span + m.timestamp;
          const wait = due - performance.now();
          if (wait > 2) await sleep(wait);
          await p.w.write(encodeMessage({ csid: m.csid, msid: 1, type: m.type, timestamp: m.timestamp + loop * span, payload: m.payload }, 128)).catch(() => (stop = true));
          if (++idx === msgs.length) (idx = 0), loop++;
        }
      });
      await sleep(3000);
      const cpu0 = cpuSeconds(server.pid!);
      const t0 = performance.now();
      await sleep((seconds - 3) * 1000);
      const cpu = cpuSeconds(server.pid!) - cpu0;
      const s = (performance.now() - t0) / 1000;
      const rss = rssMb(server.pid!);
      stop = true;
      await Promise.all(loops);
      for (const p of pubs) await p.close();
      const kbps = (readFileSync(INPUT).length * 8) / (span / 1000) / 1000;
      console.log(`| ${serverRuntime} | ${n} real-time publishers (${kbps.toFixed(0)} kbit/s each) | ${((cpu / s) * 100).toFixed(2)} % CPU | ${((cpu / s) * 100 / n).toFixed(3)} % per publisher | RSS ${rss.toFixed(0)} MB | ${(performance.now() - start) / 1000 | 0} s |`);
    }
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    await stack.close();
  }
  process.exit(0);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
