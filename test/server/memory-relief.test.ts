/**
 * MemoryRelief on the runtime under test (its real `releaseMemory()`): after a heap peak, a fall of
 * the sessions to half runs one memory-reducing collection — on Node the resident set drops and
 * the metrics count it; Deno and Bun say once that they offer none and stop asking. No collection
 * while the sessions stay above half, nor when the process did not grow.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryRelief } from "../../src/server/memory-relief.ts";
import { getRuntime } from "../../src/runtime/detect.ts";
import { Logger } from "../../src/log/logger.ts";
import { Metrics } from "../../src/stats/metrics.ts";
import { systemClock } from "../../src/time/clock.ts";
import { until } from "../helpers/until.ts";
import { RUNTIME } from "../helpers/paths.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ~150 MB of small objects, kept until the returned function drops them (a heap peak). */
function peak(): () => void {
  let keep: unknown[][] | null = [];
  for (let r = 0; r < 6; r++) {
    const a: unknown[] = [];
    for (let i = 0; i < 300_000; i++) a.push({ i, s: `x${i}`, v: [i, i + 1] });
    keep.push(a);
  }
  return () => {
    keep = null;
  };
}

function rig(opts: { minGrowthBytes: number; delayMs?: number }) {
  const lines: string[] = [];
  const pools: number[] = [];
  const metrics = new Metrics();
  return getRuntime().then((runtime) => ({
    lines,
    pools,
    metrics,
    runtime,
    relief: new MemoryRelief(
      { runtime, clock: systemClock, log: new Logger({ sink: (l) => lines.push(l) }), metrics, letGoOfPool: () => pools.push(1) },
      { delayMs: opts.delayMs ?? 30, minIntervalMs: 0, minGrowthBytes: opts.minGrowthBytes },
    ),
  }));
}

test("memory relief: a fall to half after a peak collects once; no collection above half or without growth", { timeout: 60_000 }, async () => {
  // Growth decides only where a collection exists (Node); elsewhere any resident set counts, as a
  // peak need not raise it where earlier test files freed pages the runtime reuses (Bun: one process).
  const r = await rig({ minGrowthBytes: RUNTIME === "node" ? 8e6 : -Infinity });
  try {
    const drop = peak();
    for (let n = 1; n <= 10; n++) r.relief.sessions(n);
    r.relief.sessions(6); // above half of the peak: nothing
    await sleep(300);
    assert.deepEqual(r.lines, [], "no collection while more than half are left");
    drop();
    r.relief.sessions(5);
    const line = await until("a relief line", () => r.lines.find((l) => l.includes("memory: sessions fell from 10 to 5")), 20_000);
    assert.equal(r.pools.length, 0, "the pool is kept while sessions are left");
    if (RUNTIME === "node") {
      const m = /collected in (\d+) ms, resident ([\d.]+) → ([\d.]+) MB/.exec(line);
      assert.ok(m, line);
      assert.ok(Number(m[3]) < Number(m[2]), `resident memory went down: ${line}`);
      assert.equal(r.metrics.counters.get("rtmp_kmp_memory_releases_total{}")?.value, 1);
      assert.ok((r.metrics.counters.get("rtmp_kmp_memory_released_bytes_total{}")?.value ?? 0) > 0);
      assert.equal(r.metrics.histograms.get("rtmp_kmp_memory_release_seconds{}")?.count, 1);
      // the next fall (5 → 0) without new growth collects nothing, but the event loop ran on
      r.relief.sessions(0);
      await sleep(300);
      assert.equal(r.lines.length, 1, r.lines.join("\n"));
      assert.equal(r.pools.length, 0, "no collection, so the pool was not touched");
      // growth again, all leave: one collection, and the pool goes first
      const drop2 = peak();
      for (let n = 1; n <= 4; n++) r.relief.sessions(n);
      drop2();
      r.relief.sessions(0);
      await until("a second relief", () => r.lines.length === 2, 20_000);
      assert.match(r.lines[1], /sessions fell from 4 to 0; collected/);
      assert.equal(r.pools.length, 1);
    } else {
      assert.match(line, /offers no memory-reducing collection/);
      assert.equal(r.metrics.counters.size, 0);
      const drop2 = peak();
      for (let n = 1; n <= 10; n++) r.relief.sessions(n);
      drop2();
      r.relief.sessions(0);
      await sleep(300);
      assert.equal(r.lines.length, 1, "it says so once and stops asking");
    }
  } finally {
    r.relief.stop();
  }
});

test("memory relief: without growth since start a fall collects nothing", async () => {
  const r = await rig({ minGrowthBytes: 1e12 });
  try {
    for (let n = 1; n <= 8; n++) r.relief.sessions(n);
    r.relief.sessions(0);
    await sleep(300);
    assert.deepEqual(r.lines, []);
    assert.equal(r.pools.length, 0);
  } finally {
    r.relief.stop();
  }
});

test("memory relief: a fall that does not hold for the delay collects nothing; the wait starts again at the next fall", { timeout: 60_000 }, async () => {
  // Growth is the first two tests' subject; here any resident set counts. (A peak made here need
  // not raise it: Bun ran every file in one process and reuses the pages an earlier peak freed.)
  const r = await rig({ minGrowthBytes: -Infinity, delayMs: 1_000 });
  try {
    for (let n = 1; n <= 4; n++) r.relief.sessions(n);
    const t0 = Date.now();
    r.relief.sessions(2); // half: the wait starts
    await sleep(10);
    r.relief.sessions(3); // back above half within the delay: the fall did not hold
    await sleep(600 - (Date.now() - t0));
    r.relief.sessions(2); // a new fall: a new wait of the whole delay
    await sleep(1_300 - (Date.now() - t0));
    assert.deepEqual(r.lines, [], "nothing when the first fall's delay ran out: it did not hold");
    await until("a relief once the second fall held", () => r.lines.length === 1, 20_000);
    assert.ok(Date.now() - t0 >= 1_600, "not before the second fall's delay");
    assert.match(r.lines[0], /sessions fell from 4 to 2|offers no memory-reducing collection/);
  } finally {
    r.relief.stop();
  }
});
