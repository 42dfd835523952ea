/** Runs mutants of a target's seeds and classifies what happens: ok, coded error, crash, hang. */
import { CodedError } from "../src/errors.ts";
import { mutate, Rng } from "./mutate.ts";
import type { Target } from "./targets.ts";

export type Finding = { kind: "crash" | "hang"; target: string; iteration: number; message: string; input: Uint8Array; ms: number };

export type FuzzReport = {
  target: string;
  inputs: number;
  coded: number;
  findings: Finding[];
  slowestMs: number;
  seconds: number;
};

/**
 * `iterations` mutants (seed, then mutations of it) of one target. A crash is any exception that
 * is not a CodedError; a hang is an input that took longer than `hangMs`.
 */
export function fuzzTarget(t: Target, o: { iterations: number; seed: number; hangMs: number; maxFindings?: number }): FuzzReport {
  if (t.seeds.length === 0) throw new Error(`fuzz target '${t.name}' has no seeds (are the fixtures in ../shared?)`);
  const rng = new Rng(o.seed ^ hash(t.name));
  const report: FuzzReport = { target: t.name, inputs: 0, coded: 0, findings: [], slowestMs: 0, seconds: 0 };
  const started = performance.now();
  for (let i = 0; i < o.iterations; i++) {
    const seed = t.seeds[rng.below(t.seeds.length)];
    const input = i < t.seeds.length ? t.seeds[i] : mutate(seed, t.seeds[rng.below(t.seeds.length)], rng);
    const splitRng = new Rng(rng.next());
    const t0 = performance.now();
    let crash: unknown = null;
    try {
      t.run(input, splitRng);
    } catch (err) {
      if (err instanceof CodedError) report.coded++;
      else crash = err;
    }
    const ms = performance.now() - t0;
    report.inputs++;
    if (ms > report.slowestMs) report.slowestMs = ms;
    if (crash !== null) report.findings.push({ kind: "crash", target: t.name, iteration: i, message: describe(crash), input, ms });
    else if (ms > o.hangMs) report.findings.push({ kind: "hang", target: t.name, iteration: i, message: `took ${ms.toFixed(1)} ms`, input, ms });
    if (report.findings.length >= (o.maxFindings ?? 20)) break;
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}\n${err.stack?.split("\n").slice(1, 4).join("\n") ?? ""}`;
  return String(err);
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
