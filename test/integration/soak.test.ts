/**
 * The short soak (bench/soak.ts): one server process on the runtime under test, 3 cycles of 10
 * real-time publishers (rtmpflood) that come and go; the KMP receiver (kmpsink) is killed and back
 * in cycle 2; the controller answers 500 to one request in ten and holds one publish/republish in
 * twenty past the read timeout. Exact accounting in every cycle: each input that sent `publish`
 * got exactly one `unpublish`, nothing is left in the server, it is alive. (RSS over 40 cycles
 * is the bench's job: bench/RESULTS.md.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSoak } from "../../bench/soak.ts";
import { RUNTIME, requireShared } from "../helpers/paths.ts";
import { requireTool } from "../helpers/proc.ts";

test("short soak: publishers come and go with receiver kills and a flaky, hanging controller; one unpublish per publish, nothing left", { timeout: 240_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  await requireTool("cc", "--version");
  const res = await runSoak({ server: RUNTIME, cycles: 3, n: 10, cycleS: 6, faultEvery: 2, failEvery: 10, hangEvery: 20, settleS: 30 });
  assert.equal(res.rows.length, 3, `every cycle ran (logs in ${res.logDir})`);
  for (const r of res.rows) {
    assert.ok(r.alive, `cycle ${r.cycle}: the server is alive`);
    assert.ok(r.publish >= 5, `cycle ${r.cycle}: inputs published (${r.publish})`);
    assert.deepEqual(r.accountingErrors, [], `cycle ${r.cycle}: one unpublish per publish`);
    assert.equal(r.sessions, 0, `cycle ${r.cycle}: no session left`);
    assert.equal(r.tracks, 0, `cycle ${r.cycle}: no track left`);
  }
  assert.ok(res.rows[1].republish > 0, "the receiver kill made tracks republish");
});
