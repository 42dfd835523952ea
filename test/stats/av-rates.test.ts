/** A stream's media byte rates: the same figures as three separate `RateMeter`s fed alike. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AvRates } from "../../src/stats/av-rates.ts";
import { RateMeter } from "../../src/stats/rate-meter.ts";

test("AvRates counts and figures all, audio and video as three RateMeters would", () => {
  const t0 = 1_700_000_000_000;
  const rates = new AvRates(t0);
  const all = new RateMeter(t0);
  const audio = new RateMeter(t0);
  const video = new RateMeter(t0);
  // video for 14 s, then audio only, a 25 s gap, then both again; figures asked along the way
  const events: [number, boolean, number][] = [];
  for (let ms = 0; ms < 14_000; ms += 40) events.push([ms, true, 1500 + (ms % 7)]);
  for (let ms = 0; ms < 31_000; ms += 23) events.push([ms, false, 300 + (ms % 5)]);
  for (let ms = 56_000; ms < 70_000; ms += 33) events.push([ms, ms % 2 === 0, 900]);
  events.sort((a, b) => a[0] - b[0]);
  let checks = 0;
  for (const [i, [ms, isVideo, n]] of events.entries()) {
    const now = t0 + ms;
    rates.add(n, isVideo, now);
    all.add(n, now);
    (isVideo ? video : audio).add(n, now);
    if (i % 50 === 0) {
      assert.equal(rates.bps(now), all.bps(now));
      assert.equal(rates.audioBps(now), audio.bps(now));
      assert.equal(rates.videoBps(now), video.bps(now));
      checks++;
    }
  }
  assert.ok(checks > 20, `only ${checks} checks`);
  assert.equal(rates.bytes, all.bytes);
  assert.equal(rates.audioBytes, audio.bytes);
  assert.equal(rates.videoBytes, video.bytes);
  for (const ms of [75_000, 95_000]) {
    assert.equal(rates.bps(t0 + ms), all.bps(t0 + ms));
    assert.equal(rates.audioBps(t0 + ms), audio.bps(t0 + ms));
    assert.equal(rates.videoBps(t0 + ms), video.bps(t0 + ms));
  }
  assert.equal(rates.bps(t0 + 95_000), 0); // a whole window idle
  assert.ok(rates.bytes > 0 && rates.audioBytes > 0 && rates.videoBytes > 0);
});
