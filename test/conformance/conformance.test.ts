/**
 * Conformance against the C reference's captures: runs ../shared/tools/conformance/run.py
 * (real ffmpeg over RTMP, real controller, acking KMP receiver) with our server as started by
 * this test's runtime. Node runs every shared scenario; Deno and Bun run a representative subset
 * so the three-runtime suite stays well under CI's budget.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, RUNTIME, serverCommand, SHARED, requireShared } from "../helpers/paths.ts";
import { have, run, requireTool } from "../helpers/proc.ts";

const ALL = process.env.CONFORMANCE_SCENARIOS ?? (RUNTIME === "node" ? "all" : "s01,s05,s11,s12");

test(`conformance runner (${RUNTIME}: ${ALL})`, { timeout: 900_000 }, async (t) => {
  requireShared();
  await requireTool("ffmpeg");
  const cmd = serverCommand().map((a) => (a.includes(" ") ? `'${a}'` : a)).join(" ") + " --config {conf}";
  const r = await run("python3", [join(SHARED, "tools", "conformance", "run.py"), "--server-cmd", cmd, "--scenarios", ALL, "-v"], {
    cwd: ROOT,
    timeoutMs: 880_000,
  });
  process.stdout.write(r.stdout);
  if (r.code !== 0) process.stdout.write(r.stderr.slice(-4000));
  assert.equal(r.code, 0, `conformance failed:\n${r.stdout.split("\n").filter((l) => /FAIL|conformance:/.test(l)).join("\n")}`);
});
