import { test } from "node:test";
import assert from "node:assert/strict";
import { RateHistory } from "../../src/stats/rate-history.ts";

test("RateHistory: complete seconds since the first frame, gaps as zero, bounded by its window", () => {
  const h = new RateHistory(5);
  assert.deepEqual(h.series(1_000_000), { start: 1000, window: 4, bitrate: [], frameRate: [] });
  const t0 = 1_000_000; // second 1000
  h.count(100, t0);
  h.count(50, t0 + 999);
  h.count(10, t0 + 1000); // second 1001
  // second 1002 without a frame; second 1003 still filling
  h.count(7, t0 + 3000);
  assert.deepEqual(h.series(t0 + 3500), { start: 1000, window: 4, bitrate: [1200, 80, 0], frameRate: [2, 1, 0] });
  // much later: only the last `window` complete seconds, all zero but the one with a frame
  h.count(1, t0 + 9000);
  assert.deepEqual(h.series(t0 + 10_100), { start: 1006, window: 4, bitrate: [0, 0, 0, 8], frameRate: [0, 0, 0, 1] });
  // a clock that steps back counts into the newest second instead of an old one
  h.count(2, t0 + 5000);
  assert.deepEqual(h.series(t0 + 10_100).bitrate, [0, 0, 0, 8]);
});
