/**
 * The frame path's warm-up, publish by publish: one server (a child process on the runtime under
 * test), K publishes of the fast input by ffmpeg (no `-re`, `-c copy`), G seconds apart, and each
 * publish's server CPU. On Node the server also runs with V8's `--trace-opt --trace-deopt`, and
 * each publish gets its deoptimizations and its optimizing compilers' time (Turbofan, Maglev) from
 * the server's stdout — whether a new publisher throws away the code the last one warmed up
 * (`bench/RESULTS.md`, session 19). The trace costs CPU itself: compare CPU without it
 * (`TRACE=0`).
 *
 *   npx tsx bench/warmup.bench.ts [node|deno|bun] [publishes=5] [gap-s=1] [loops=5]
 *
 * `INPUT=FLV`, by default `../ref/perf/perf_60s_2mbps.flv` (built by the ffmpeg command of
 * `../shared/fixtures/README.md` section 2, as `compare.py` uses it), played `loops` times per publish.
 * `LOG_LEVEL` sets the server's (warn), `ECHO=1` passes its stdout through.
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { getRuntime } from "../src/runtime/detect.ts";
import { benchStack, cpuSeconds, ROOT, serverCmd, sleep, waitForPort } from "./proc.ts";

const [serverRuntime = "node", pubArg = "5", gapArg = "1", loopArg = "5"] = process.argv.slice(2);
const INPUT = process.env.INPUT ?? join(ROOT, "..", "ref", "perf", "perf_60s_2mbps.flv");
const trace = serverRuntime === "node" && process.env.TRACE !== "0";

/** One publish's share of the server's V8 trace. */
type Jit = { deopts: number; turbofanMs: number; maglevMs: number };

function jitOf(lines: string[]): Jit {
  const j: Jit = { deopts: 0, turbofanMs: 0, maglevMs: 0 };
  for (const l of lines) {
    if (l.startsWith("[bailout (kind: deopt-")) j.deopts++;
    const m = /^\[completed compiling .*\(target (\w+)\) - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/.exec(l);
    if (!m) continue;
    const ms = Number(m[2]) + Number(m[3]) + Number(m[4]);
    if (m[1].startsWith("TURBOFAN")) j.turbofanMs += ms;
    else if (m[1] === "MAGLEV") j.maglevMs += ms;
  }
  return j;
}

/** ffmpeg publishing `INPUT` `loops` times as fast as it reads; resolves with its exit code. */
function publish(port: number, name: string, loops: number): Promise<number> {
  const args = ["-hide_banner", "-nostdin", "-loglevel", "error", "-stream_loop", String(loops - 1), "-i", INPUT, "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${port}/live/${name}`];
  const p = spawn("ffmpeg", args, { stdio: ["ignore", "ignore", "inherit"] });
  return new Promise((resolve, reject) => {
    p.once("error", reject);
    p.once("exit", (code) => resolve(code ?? -1));
  });
}

async function main() {
  if (!existsSync(INPUT)) throw new Error(`no input at ${INPUT}: build it (../shared/fixtures/README.md, section 2) or set INPUT`);
  const publishes = Number(pubArg);
  const gapMs = Number(gapArg) * 1000;
  const loops = Number(loopArg);
  const mb = (statSync(INPUT).size * loops) / 1e6;
  const rt = await getRuntime();
  const stack = await benchStack(rt, "warmup-", (port, c) => `rtmp { server { listen 127.0.0.1:${port}; application live { live on;
    kmp_ctrl_connect_url ${c}/connect; kmp_ctrl_publish_url ${c}/publish; kmp_ctrl_unpublish_url ${c}/unpublish; kmp_ctrl_republish_url ${c}/republish; } } }`, { keepPackets: false });
  const { controller, port, conf } = stack;
  if (trace) process.env.BENCH_NODE_FLAGS = `${process.env.BENCH_NODE_FLAGS ?? ""} --trace-opt --trace-deopt`;
  const cmd = serverCmd(serverRuntime);
  const server = spawn(cmd[0], [...cmd.slice(1), "--config", conf, "--log-level", process.env.LOG_LEVEL ?? "warn"], { stdio: ["ignore", "pipe", "inherit"] });
  const out: string[] = [];
  let partial = "";
  server.stdout!.setEncoding("utf8");
  server.stdout!.on("data", (s: string) => {
    if (process.env.ECHO) process.stdout.write(s);
    const lines = (partial + s).split("\n");
    partial = lines.pop()!;
    out.push(...lines);
  });
  try {
    await waitForPort(rt, port);
    console.log(`${serverRuntime}: ${publishes} publishes of ${mb.toFixed(1)} MB (${INPUT.split("/").pop()} x${loops}), ${gapArg} s apart`);
    console.log(`| publish | server CPU | ms per MB |${trace ? " deoptimizations | Turbofan | Maglev |" : ""}`);
    for (let i = 0; i < publishes; i++) {
      const from = out.length;
      const unpublished = controller.events("unpublish").length;
      const cpu0 = cpuSeconds(server.pid!);
      const code = await publish(port, `warm${i}`, loops);
      if (code !== 0) throw new Error(`ffmpeg exited with ${code} on publish ${i + 1}`);
      await controller.waitFor(() => controller.events("unpublish").length >= unpublished + 2, 60_000);
      const cpu = cpuSeconds(server.pid!) - cpu0;
      const j = jitOf(out.slice(from));
      const jit = trace ? ` ${j.deopts} | ${j.turbofanMs.toFixed(0)} ms | ${j.maglevMs.toFixed(0)} ms |` : "";
      console.log(`| ${i + 1} | ${cpu.toFixed(2)} s | ${((cpu / mb) * 1000).toFixed(2)} |${jit}`);
      if (i + 1 < publishes) await sleep(gapMs);
    }
  } finally {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited; // before the controller goes: the last unpublish is answered
    await stack.close();
  }
}

await main();
