#!/usr/bin/env node
// Every bench once, with a short setting, on the runtime given (node by default): a smoke run
// that proves the benches still work. The figures in bench/RESULTS.md come from the longer
// settings each bench's header gives, with the C reference beside ours (../shared/tools/perf).
//   node scripts/bench-all.mjs [node|deno|bun]
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const rt = process.argv[2] ?? "node";
const bin = (n) => join(root, "node_modules", ".bin", n);
const tsx = [bin("tsx")];
const runner = { node: tsx, deno: [bin("deno"), "run", "-A", "--no-check"], bun: [bin("bun"), "run"] }[rt];
if (!runner) {
  console.error(`unknown runtime '${rt}' (node, deno or bun)`);
  process.exit(2);
}
// the fast publisher's input of the warm-up bench, small here (its default is the 81 MB one of compare.py)
const smallFlv = join(root, "..", "shared", "fixtures", "inputs", "av_h264main_bframes_aac.flv");
// [bench, args, env]: the benches that start a server take the runtime under test first
const benches = [
  ["chunk-demux.bench.ts", []],
  ["e2e.bench.ts", [rt, "fast"]],
  ["e2e.bench.ts", [rt, "realtime", "5", "5"]],
  ["idle.bench.ts", [rt, "100"]],
  ["balance.bench.ts", [rt, "20"]],
  ["workers.bench.ts", [rt, "1,2", "2", "5"]],
  ["warmup.bench.ts", [rt, "2", "0", "1"], { INPUT: smallFlv }],
];
let failed = 0;
for (const [file, args, env] of benches) {
  const [cmd, ...pre] = runner;
  console.log(`\n## ${file} ${args.join(" ")}`);
  const r = spawnSync(cmd, [...pre, join(root, "bench", file), ...args], { cwd: root, stdio: "inherit", timeout: 300_000, env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.log(`(${file} failed: ${r.status ?? r.signal})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
