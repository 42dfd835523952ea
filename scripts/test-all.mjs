#!/usr/bin/env node
// One suite, three runtimes. Runs the node:test files under Node (tsx), Deno and Bun,
// prints each runner's counts and then one plain closing line CI can read:
//   tests: N passed, N failed, N skipped
// Usage: node scripts/test-all.mjs [node|deno|bun ...] [-- file-or-filter ...]
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);

const argv = process.argv.slice(2);
const dash = argv.indexOf("--");
const runtimes = (dash < 0 ? argv : argv.slice(0, dash)).filter(Boolean);
const only = dash < 0 ? [] : argv.slice(dash + 1);
const selected = runtimes.length ? runtimes : ["node", "deno", "bun"];

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}
let files = findTests(join(root, "test"));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error("no test files selected");
  process.exit(2);
}

const env = { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
delete env.FORCE_COLOR;
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

const runners = {
  node: {
    cmd: process.execPath,
    args: ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=1", ...files],
    parse(out) {
      const n = (k) => Number((out.match(new RegExp(`^\\S*\\s*${k} (\\d+)`, "m")) ?? [])[1] ?? NaN);
      return { passed: n("pass"), failed: n("fail"), skipped: n("skipped") + n("todo") };
    },
  },
  deno: {
    cmd: bin("deno"),
    args: ["test", "-A", "--no-check", ...files],
    parse(out) {
      const m = out.match(/(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/);
      return m ? { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) } : { passed: NaN, failed: NaN, skipped: NaN };
    },
  },
  bun: {
    cmd: bin("bun"),
    args: ["test", "--timeout", "120000", ...files.map((f) => "./" + f)],
    parse(out) {
      const n = (k) => Number((out.match(new RegExp(`^\\s*(\\d+) ${k}$`, "m")) ?? [])[1] ?? 0);
      const ran = /Ran \d+ tests?/.test(out);
      return ran ? { passed: n("pass"), failed: n("fail"), skipped: n("skip") + n("todo") } : { passed: NaN, failed: NaN, skipped: NaN };
    },
  },
};

function run(name) {
  const r = runners[name];
  if (!r) throw new Error(`unknown runtime '${name}'`);
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(r.cmd, r.args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const tee = (stream, sink) => stream.on("data", (d) => { out += d; sink.write(d); });
    tee(child.stdout, process.stdout);
    tee(child.stderr, process.stderr);
    child.on("close", (code, signal) => {
      const c = r.parse(stripAnsi(out));
      resolve({ name, code: code ?? 1, signal, ...c, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const results = [];
for (const name of selected) {
  console.log(`\n### ${name}: ${runners[name].cmd} ${runners[name].args.length} args, ${files.length} files`);
  results.push(await run(name));
}
let passed = 0, failed = 0, skipped = 0, bad = false;
console.log("");
for (const r of results) {
  const ok = r.code === 0 && Number.isFinite(r.passed) && r.failed === 0;
  if (!ok) bad = true;
  console.log(`# ${r.name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped, exit ${r.signal ?? r.code} (${r.seconds.toFixed(1)} s)`);
  passed += Number.isFinite(r.passed) ? r.passed : 0;
  failed += Number.isFinite(r.failed) ? r.failed : 1;
  skipped += Number.isFinite(r.skipped) ? r.skipped : 0;
  if (r.code !== 0 && r.failed === 0) failed += 1; // a crash with no failing test still fails
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(bad ? 1 : 0);
