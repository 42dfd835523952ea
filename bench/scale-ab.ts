/**
 * Two revisions side by side under the same load at the same time: each gets its own checkout
 * (a detached `git worktree`, sharing this checkout's node_modules) and its own scale rig
 * (`../shared/tools/scale/scale.py`: rtmpflood, kmpsink, controller), and both rigs run at once,
 * so a change of the machine's speed during a run hits both alike. On this VM the CPU of one
 * revision moves ±15–25 % from run to run; two copies of the same revision measured this way
 * stay within 1–2 % of each other. Prints each pair of rows and the mean ratio B / A of the
 * server CPU. `--server-b` runs another server on side B: `--server ref --server-b bun` puts the
 * C reference (`../ref/nginx`, from `../shared/tools/reference/build.sh`) beside us at once.
 *
 *   npx tsx bench/scale-ab.ts REV_A REV_B [--n 150] [--reps 3] [--window 25] [--server node|bun|deno|ref] [--server-b …]
 *
 * N publishers per side (2 × N in all: keep the two servers and two rigs inside the cores).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./proc.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    n: { type: "string", default: "150" },
    reps: { type: "string", default: "3" },
    window: { type: "string", default: "25" },
    server: { type: "string", default: "node" },
    "server-b": { type: "string" },
  },
});
const [revA, revB] = positionals;
if (!revA || !revB) {
  console.error("usage: npx tsx bench/scale-ab.ts REV_A REV_B [--n 150] [--reps 3] [--window 25] [--server node|bun|deno|ref] [--server-b …]");
  process.exit(2);
}
const scale = join(ROOT, "..", "shared", "tools", "scale", "scale.py");
if (!existsSync(scale)) throw new Error(`no scale rig at ${scale}`);

function git(...args: string[]): string {
  const r = spawnSync("git", ["-C", ROOT, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** A detached checkout of `rev` beside this one (the rig's `--project`), using our node_modules. */
function checkout(rev: string, dir: string): void {
  git("worktree", "add", "--detach", dir, rev);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
}

const serverA = values.server!;
const serverB = values["server-b"] ?? serverA;

/** One scale.py run of `server` on `dir`; resolves with its row (`server N cpu% cpu%/pub …`). */
function run(dir: string, server: string): Promise<{ row: string; cpu: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`, NODE_OPTIONS: process.env.NODE_OPTIONS ?? "--max-semi-space-size=8" };
    const p = spawn("python3", [scale, "--servers", server, "--n", values.n!, "--window", values.window!, "--project", dir], { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", () => {
      const row = out.split("\n").find((l) => l.trim().startsWith(`${server} `));
      if (!row) return reject(new Error(`scale.py printed no row for ${dir}:\n${out}`));
      resolve({ row: row.trim(), cpu: Number(row.trim().split(/\s+/)[2]) });
    });
  });
}

const base = mkdtempSync(join(tmpdir(), "scale-ab-"));
const dirA = join(base, "a");
const dirB = join(base, "b");
try {
  checkout(revA, dirA);
  checkout(revB, dirB);
  const ratios: number[] = [];
  for (let i = 1; i <= Number(values.reps); i++) {
    const [a, b] = await Promise.all([run(dirA, serverA), run(dirB, serverB)]);
    ratios.push(b.cpu / a.cpu);
    console.log(`A ${revA.padEnd(10)} ${a.row}`);
    console.log(`B ${revB.padEnd(10)} ${b.row}`);
  }
  const mean = ratios.reduce((x, y) => x + y, 0) / ratios.length;
  console.log(`server CPU B / A: ${ratios.map((r) => r.toFixed(3)).join(", ")} (mean ${mean.toFixed(3)})`);
} finally {
  for (const d of [dirA, dirB]) if (existsSync(d)) git("worktree", "remove", "--force", d);
  rmSync(base, { recursive: true, force: true });
  git("worktree", "prune");
}
