/**
 * A short run of every fuzz target (the long run is `fuzz/run.ts`): seeded mutants of the real
 * captures; any exception that is not a CodedError, or an input slower than the bound, fails.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzTarget } from "../../fuzz/runner.ts";
import { loadTargets } from "../../fuzz/targets.ts";
import { requireShared } from "../helpers/paths.ts";

const ITERATIONS = 3_000;
const TARGETS = ["handshake", "chunk-decoder", "amf0-commands", "amf3", "flv-tags", "codec-config", "conversion-events", "ack-reader", "controller-json", "config"];

test("every parser has a fuzz target with seeds from the captures", () => {
  requireShared();
  const targets = loadTargets();
  assert.deepEqual(targets.map((t) => t.name), TARGETS);
  for (const t of targets) assert.ok(t.seeds.length > 0, `${t.name} has no seeds`);
});

for (const name of TARGETS) {
  test(`fuzz ${name}: ${ITERATIONS} mutants, no crash, no hang`, () => {
    requireShared();
    const t = loadTargets().find((x) => x.name === name)!;
    const r = fuzzTarget(t, { iterations: ITERATIONS, seed: 20261201, hangMs: 1_000 });
    assert.equal(r.inputs, ITERATIONS);
    assert.deepEqual(r.findings.map((f) => `${f.kind} at ${f.iteration}: ${f.message}`), []);
  });
}
