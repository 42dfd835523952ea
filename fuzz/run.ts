/**
 * The long fuzz run. Same inputs on every runtime for the same seed:
 *
 *   npx tsx fuzz/run.ts [--iterations N] [--seed S] [--hang-ms MS] [target ...]
 *   npx deno run -A fuzz/run.ts …      npx bun fuzz/run.ts …
 *
 * Prints one line per target; findings are written to fuzz/findings/<target>-<iteration>.bin.
 * Exit code 1 when anything crashed or hung.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fuzzTarget } from "./runner.ts";
import { loadTargets } from "./targets.ts";

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { iterations: { type: "string" }, seed: { type: "string" }, "hang-ms": { type: "string" } },
});
const iterations = Number(values.iterations ?? 100_000);
const seed = Number(values.seed ?? 1);
const hangMs = Number(values["hang-ms"] ?? 250);
const targets = loadTargets().filter((t) => positionals.length === 0 || positionals.includes(t.name));
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

let bad = 0;
let total = 0;
const started = performance.now();
for (const t of targets) {
  const r = fuzzTarget(t, { iterations, seed, hangMs });
  total += r.inputs;
  console.log(`${runtime} ${r.target.padEnd(18)} ${String(r.inputs).padStart(8)} inputs  ${String(r.coded).padStart(8)} coded errors  ` +
    `${r.findings.length} findings  slowest ${r.slowestMs.toFixed(2)} ms  ${(r.inputs / r.seconds).toFixed(0)} inputs/s`);
  for (const f of r.findings) {
    bad++;
    const dir = join(import.meta.dirname ?? "fuzz", "findings");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${f.target}-${f.iteration}.bin`);
    writeFileSync(file, f.input);
    console.log(`  ${f.kind} at ${f.iteration} (${file}): ${f.message}`);
  }
}
console.log(`${runtime}: ${total} inputs over ${targets.length} targets in ${((performance.now() - started) / 1000).toFixed(1)} s, ${bad} findings (seed ${seed})`);
process.exit(bad ? 1 : 0);
