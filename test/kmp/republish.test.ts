/** The republish policy (spec §5.7): one request per interval, kmp_max_republishes delayed ones in a row, then no more. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseNginxConf } from "../../src/config/index.ts";
import type { TrackConfig } from "../../src/config/types.ts";
import type { RepublishAnswer, TrackControl } from "../../src/kmp/controller.ts";
import { AckPosition } from "../../src/kmp/acks.ts";
import { BufferPool } from "../../src/bytes/buffer-pool.ts";
import { ByteLog } from "../../src/kmp/byte-log.ts";
import { RepublishPolicy, type RepublishHost } from "../../src/kmp/republish.ts";
import { KmpUpstream, type UpstreamHost } from "../../src/kmp/upstream.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { getRuntime } from "../../src/runtime/detect.ts";
import { Metrics } from "../../src/stats/metrics.ts";
import type { Clock } from "../../src/time/clock.ts";

const base: TrackConfig = parseNginxConf("rtmp { server { listen 1935; application live { } } }", "t").servers[0].applications[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(o: { interval: number; max: number; canRepublish?: boolean }) {
  const config: TrackConfig = { ...base, kmp_republish_interval: o.interval, kmp_max_republishes: o.max };
  let now = 1_000_000;
  const clock: Clock = { nowMs: () => now, preciseMs: () => now };
  const requests: number[] = [];
  const control: TrackControl = {
    canRepublish: o.canRepublish ?? true,
    publish: () => Promise.reject(new Error("unused")),
    republish: (): Promise<RepublishAnswer> => (requests.push(now), Promise.resolve({ url: "kmp://127.0.0.1:1", connect_data: null })),
    unpublish: () => {},
  };
  const answered: string[] = [];
  const host: RepublishHost = {
    channelId: "ch1",
    trackId: "v1",
    mediaInfo: null,
    hasUpstream: () => true,
    republished: (u) => void answered.push(u.id),
    republishFailed: () => {},
  };
  const metrics = new Metrics();
  const policy = new RepublishPolicy({ host, config, control, clock, metrics, mediaType: "video", logger: silentLogger });
  const upstreamHost: UpstreamHost = {
    log: new ByteLog({ bufferSize: 1024, memLimit: 4096, maxFreeBuffers: 0, pool: new BufferPool() }),
    channelId: "ch1",
    trackId: "v1",
    runtime: await getRuntime(),
    clock,
    timeoutMs: 1000,
    metrics,
    nextConnectionId: () => 1,
    upstreamError: () => {},
    upstreamProgress: () => {},
    upstreamEnded: () => {},
  };
  const u = new KmpUpstream(upstreamHost, { id: "u1", url: "kmp://127.0.0.1:1", required: true, resumeFrom: "last_acked", connectData: new Uint8Array(0) }, new AckPosition({ frameId: 0n, offset: 0, packet: 0 }), silentLogger);
  return { policy, u, requests, answered, metrics, advance: (ms: number) => (now += ms) };
}

test("the first failure asks at once; one within the interval waits for the rest of it", async () => {
  const t = await setup({ interval: 40, max: 15 });
  t.policy.schedule(t.u);
  assert.equal(t.requests.length, 1, "asked at once");
  assert.ok(t.policy.recovering(t.u), "in flight");
  await sleep(0);
  assert.deepEqual(t.answered, ["u1"]);
  assert.equal(t.policy.recovering(t.u), false);
  t.advance(10);
  t.policy.schedule(t.u);
  assert.equal(t.requests.length, 1, "within the interval: waits");
  assert.ok(t.policy.recovering(t.u), "a timer waits");
  t.policy.schedule(t.u);
  await sleep(80);
  assert.equal(t.requests.length, 2, "one request for both failures, after the interval");
  assert.equal(t.metrics.counters.get('rtmp_kmp_republishes_total{media="video"}')?.value, 2, "each request counted");
});

test("after kmp_max_republishes delayed requests in a row the upstream is no longer allowed; a calm interval resets it", async () => {
  const t = await setup({ interval: 5, max: 3 });
  t.policy.schedule(t.u); // at once: consecutive 0
  await sleep(0);
  for (let i = 1; i <= 3; i++) {
    assert.ok(t.policy.allowed(t.u), `delayed request ${i} allowed`);
    t.policy.schedule(t.u);
    await sleep(20);
  }
  assert.equal(t.requests.length, 4);
  assert.equal(t.policy.allowed(t.u), false, "the limit is reached within the interval");
  t.advance(5);
  assert.ok(t.policy.allowed(t.u), "once the interval passed with no request");
});

test("no republish URL or an over-acked upstream: never allowed; forget cancels a waiting request", async () => {
  const none = await setup({ interval: 5, max: 3, canRepublish: false });
  assert.equal(none.policy.allowed(none.u), false);
  const t = await setup({ interval: 50, max: 3 });
  t.u.unrecoverable = true;
  assert.equal(t.policy.allowed(t.u), false);
  t.u.unrecoverable = false;
  t.policy.schedule(t.u);
  t.policy.defer(t.u);
  assert.ok(t.policy.deferred(t.u));
  t.policy.schedule(t.u);
  t.policy.forget(t.u);
  assert.equal(t.policy.recovering(t.u), false);
  await sleep(80);
  assert.equal(t.requests.length, 1, "the waiting request was cancelled");
});
