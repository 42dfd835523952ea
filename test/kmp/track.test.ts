/**
 * KmpTrack against a real acking KMP receiver on loopback, with a scripted controller:
 * delivery, reconnect/resume, faults, replication and the bounded wait after eost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TrackConfig } from "../../src/config/types.ts";
import type { PublishAnswer, RepublishAnswer, TrackControl, UnpublishReason } from "../../src/control/types.ts";
import { KmpTrack } from "../../src/kmp/track.ts";
import type { KmpUpstream } from "../../src/kmp/upstream.ts";
import { BufferPool } from "../../src/bytes/buffer-pool.ts";
import { HeaderScratch } from "../../src/kmp/muxer.ts";
import { Metrics } from "../../src/stats/metrics.ts";
import { systemClock } from "../../src/time/clock.ts";
import type { KmpFrame, MediaInfo } from "../../src/media/types.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { getRuntime } from "../../src/runtime/detect.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { KmpReceiver, type ReceivedConnection } from "../../src/tools/kmp-receiver.ts";
import { SCENARIOS, requireShared } from "../helpers/paths.ts";
import { parseNginxConf } from "../../src/config/index.ts";

const base: TrackConfig = parseNginxConf("rtmp { server { listen 1935; application live { } } }", "t").servers[0].applications[0];
const cfg = (o: Partial<TrackConfig> = {}): TrackConfig => ({ ...base, kmp_flush_timeout: 5, kmp_timeout: 2_000, kmp_republish_interval: 20, kmp_ctrl_republish_url: "http://x/", ...o });

/** The minf and frames of a reference capture, as inputs. */
function loadTrackInput(): { mi: MediaInfo; frames: KmpFrame[]; raw: Uint8Array[] } {
  const file = new Uint8Array(readFileSync(join(SCENARIOS, "s01_av_bframes_re", "kmp", "ch1_v1_c1.kmp")));
  const v = new DataView(file.buffer, file.byteOffset);
  let off = 0;
  let mi: MediaInfo | null = null;
  const frames: KmpFrame[] = [];
  const raw: Uint8Array[] = [];
  while (off + 16 <= file.length) {
    const type = new TextDecoder().decode(file.subarray(off, off + 4));
    const hs = v.getUint32(off + 4, true);
    const ds = v.getUint32(off + 8, true);
    const data = file.subarray(off + hs, off + hs + ds);
    if (type === "minf") {
      mi = {
        mediaType: "video", codecId: v.getUint32(off + 20, true), timescale: v.getUint32(off + 24, true), bitrate: v.getUint32(off + 28, true),
        width: v.getUint16(off + 32, true), height: v.getUint16(off + 34, true),
        frameRate: { num: v.getUint32(off + 36, true), denom: v.getUint32(off + 40, true) }, ceaCaptions: v.getUint32(off + 44, true) === 1, extraData: data,
      };
    } else if (type === "fram") {
      frames.push({ created: Number(v.getBigInt64(off + 16, true)), dts: Number(v.getBigInt64(off + 24, true)), key: v.getUint32(off + 32, true) === 1, ptsDelay: v.getInt32(off + 36, true), data });
    }
    if (type !== "cnct") raw.push(file.subarray(off, off + hs + ds));
    off += hs + ds;
  }
  return { mi: mi!, frames, raw };
}

type Script = { publish?: () => Promise<PublishAnswer>; republish?: () => Promise<RepublishAnswer> };

function control(script: Script, canRepublish = true) {
  const calls = { publish: 0, republish: 0, unpublish: [] as UnpublishReason[] };
  const c: TrackControl = {
    canRepublish,
    publish: () => (calls.publish++, script.publish!()),
    republish: () => (calls.republish++, script.republish!()),
    unpublish: (r) => void calls.unpublish.push(r),
  };
  return { c, calls };
}

function answer(url: string, extra: Partial<PublishAnswer["upstreams"][number]> = {}): PublishAnswer {
  return { channel_id: "ch1", track_id: "v1", upstreams: [{ url, id: "u1", required: true, resume_from: "last_acked", connect_data: null, ...extra }] };
}

let trackIds = 0;
let connectionIds = 0;

/** A track as the server builds one (its own metrics, pool and id sources stand in for the server's). */
function newTrack(runtime: Runtime, c: TrackControl, config: TrackConfig, errors: UnpublishReason[] = [], closed?: () => void): KmpTrack {
  return new KmpTrack({
    id: String(++trackIds),
    mediaType: "video",
    config,
    runtime,
    clock: systemClock,
    control: c,
    identity: { inputId: "i", rtmpInfoJson: "" },
    log: silentLogger,
    metrics: new Metrics(),
    bufferPool: new BufferPool(),
    headerScratch: new HeaderScratch(),
    nextConnectionId: () => ++connectionIds,
    onError: (r) => void errors.push(r),
    onClosed: closed,
  });
}

/** One frame through the production door, waiting while the track has no room (as the session does). */
async function push(track: KmpTrack, mediaInfo: MediaInfo | null, frame: KmpFrame): Promise<void> {
  track.push([{ mediaInfo, frame }]);
  if (track.desiredSize <= 0) await track.ready;
}

const PASSES = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function feed(track: KmpTrack, input: ReturnType<typeof loadTrackInput>, gapMs = 0, count = input.frames.length, from = 0): Promise<void> {
  for (let i = from; i < count; i++) {
    await push(track, i === 0 ? input.mi : null, input.frames[i]);
    if (gapMs) await sleep(gapMs);
  }
}

/** Packets after cnct of a received connection, as raw bytes. */
const body = (c: ReceivedConnection) => c.packets.slice(1).map((p) => new Uint8Array([...p.header, ...p.data]));


test("delivers minf + every frame + eost byte for byte, then unpublishes after the receiver closes", { timeout: 20_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const rx = await new KmpReceiver({ runtime }).start();
  const input = loadTrackInput();
  const { c, calls } = control({ publish: async () => answer(rx.url) });
  let closed = false;
  const track = newTrack(runtime, c, cfg(), [], () => (closed = true));
  try {
    await feed(track, input);
    track.end("rtmp_close");
    await rx.waitFor(() => rx.connections.length === 1 && rx.connections[0].closed);
    const conn = rx.connections[0];
    assert.equal(conn.initialFrameId, track.initialFrameId);
    assert.deepEqual(body(conn), [...input.raw.slice(0, -1), input.raw.at(-1)!]);
    await sleep(50);
    assert.ok(closed);
    assert.deepEqual(calls.unpublish, ["rtmp_close"]);
  } finally {
    await rx.close();
  }
});

test("receiver closes mid-stream: republish and resume from the last acked frame (s11)", { timeout: 20_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const rx = await new KmpReceiver({ runtime, closeAfter: 25 }).start();
  const input = loadTrackInput();
  const { c, calls } = control({ publish: async () => answer(rx.url), republish: async () => ({ url: rx.url, connect_data: null }) });
  const track = newTrack(runtime, c, cfg());
  try {
    await feed(track, input, 3, 60);
    await rx.waitFor(() => rx.connections.length === 2);
    await feed(track, input, 0, input.frames.length, 60);
    track.end("rtmp_close");
    await rx.waitFor(() => rx.connections.every((x) => x.closed) && rx.connections[1].eos);
    const [c1, c2] = rx.connections;
    assert.equal(calls.republish, 1);
    assert.equal(c2.initialFrameId, c1.initialFrameId + 20n, "resumes at the last ack (every 10 frames)");
    assert.equal(c2.initialUpstreamFrameId, 100020n);
    assert.equal(c2.initialOffset, 7);
    const got = body(c2);
    assert.deepEqual(got[0], input.raw[0], "the acked minf comes first");
    assert.deepEqual(got.slice(1), input.raw.slice(21), "then every frame from the first unacked one, byte-identical");
  } finally {
    await rx.close();
  }
});

test("first connect refused, republish to a live receiver: the whole stream from the start (s10)", { timeout: 20_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const rx = await new KmpReceiver({ runtime }).start();
  const dead = await new KmpReceiver({ runtime }).start();
  const deadUrl = dead.url;
  await dead.close();
  const input = loadTrackInput();
  const { c, calls } = control({ publish: async () => answer(deadUrl), republish: async () => ({ url: rx.url, connect_data: null }) });
  const track = newTrack(runtime, c, cfg());
  try {
    await feed(track, input, 1);
    track.end("rtmp_close");
    await rx.waitFor(() => rx.connections.length === 1 && rx.connections[0].closed);
    assert.equal(calls.republish, 1);
    assert.equal(rx.connections[0].initialFrameId, track.initialFrameId);
    assert.deepEqual(body(rx.connections[0]), input.raw);
  } finally {
    await rx.close();
  }
});

test("an ack beyond what was sent kills the upstream without republish (s15)", { timeout: 20_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const rx = await new KmpReceiver({ runtime, badAckAt: 15, ackEvery: 0 }).start();
  const input = loadTrackInput();
  const { c, calls } = control({ publish: async () => answer(rx.url), republish: async () => ({ url: rx.url, connect_data: null }) });
  const errors: UnpublishReason[] = [];
  const track = newTrack(runtime, c, cfg(), errors);
  try {
    await feed(track, input, 2);
    await sleep(100);
    assert.deepEqual(errors, ["upstream_error"]);
    assert.equal(calls.republish, 0);
    track.end("rtmp_disconnect");
    await sleep(50);
    assert.deepEqual(calls.unpublish, ["upstream_error"], "the first reason wins");
  } finally {
    await rx.close();
  }
});

test("resume_from last_sent: acks ignored, resume after the last frame written to the old socket (s16)", { timeout: 20_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const rx = await new KmpReceiver({ runtime, closeAfter: 25, ackEvery: 0 }).start();
  const input = loadTrackInput();
  const { c } = control({ publish: async () => answer(rx.url, { resume_from: "last_sent" }), republish: async () => ({ url: rx.url, connect_data: null }) });
  const track = newTrack(runtime, c, cfg());
  try {
    await feed(track, input, 3, 60);
    await rx.waitFor(() => rx.connections.length === 2);
    track.end("rtmp_close");
    await rx.waitFor(() => rx.connections[1].closed);
    const [c1, c2] = rx.connections;
    const k = Number(c2.initialFrameId - c1.initialFrameId);
    assert.ok(k >= 25 && k >= c1.frames, `resume point ${k}`);
    const got = body(c2);
    assert.deepEqual(got[0], input.raw[0]);
    assert.deepEqual(got.slice(1, -1), input.raw.slice(1 + k, 61));
    assert.equal(c2.initialUpstreamFrameId, 0n);
  } finally {
    await rx.close();
  }
});

test("republish rate limit: 16 republish requests, then upstream_error (s09)", { timeout: 20_000 }, async () => {
  const runtime = await getRuntime();
  const dead = await new KmpReceiver({ runtime }).start();
  const url = dead.url;
  await dead.close();
  const { c, calls } = control({ publish: async () => answer(url), republish: async () => ({ url, connect_data: null }) });
  const errors: UnpublishReason[] = [];
  const track = newTrack(runtime, c, cfg({ kmp_republish_interval: 20 }), errors);
  const mi: MediaInfo = { mediaType: "video", codecId: 7, timescale: 90000, bitrate: 0, width: 2, height: 2, frameRate: { num: 0, denom: 1 }, ceaCaptions: false, extraData: new Uint8Array(0) };
  await push(track, mi, { created: 1, dts: 0, key: true, ptsDelay: 0, data: Uint8Array.of(1, 2, 3) });
  const t0 = Date.now();
  while (!errors.length && Date.now() - t0 < 10_000) await sleep(10);
  assert.deepEqual(errors, ["upstream_error"]);
  assert.equal(calls.republish, 16);
});

test("a stalled receiver never stalls its sibling; watermarks keep memory under the limit", { timeout: 30_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const good = await new KmpReceiver({ runtime }).start();
  // a receiver that accepts and never reads: its TCP window fills up
  const stalled = await runtime.listen({ hostname: "127.0.0.1", port: 0 });
  const held: unknown[] = [];
  void (async () => {
    for await (const conn of stalled) held.push(conn);
  })();
  const input = loadTrackInput();
  const twoUpstreams: PublishAnswer = {
    channel_id: "ch1", track_id: "v1",
    upstreams: [
      { url: `kmp://127.0.0.1:${stalled.addr.port}`, id: "slow", required: false, resume_from: "last_acked", connect_data: null },
      { url: good.url, id: "fast", required: true, resume_from: "last_acked", connect_data: null },
    ],
  };
  const { c } = control({ publish: async () => twoUpstreams, republish: async () => ({ url: `kmp://127.0.0.1:${stalled.addr.port}`, connect_data: null }) });
  const errors: UnpublishReason[] = [];
  const memLimit = 2 * 1024 * 1024;
  const track = newTrack(runtime, c, cfg({ kmp_video_mem_limit: memLimit, kmp_timeout: 60_000 }), errors);
  let minLeft = Infinity;
  let slow: KmpUpstream | undefined;
  try {
    // 10 MB through a 2 MB budget: 60 passes over the 167 KB clip
    for (let pass = 0; pass < PASSES; pass++) {
      for (const [i, f] of input.frames.entries()) {
        await push(track, pass === 0 && i === 0 ? input.mi : null, { ...f, dts: f.dts + pass * 400_000 });
        minLeft = Math.min(minLeft, track.log.memLeft);
      }
      await sleep(20);
      slow ??= track.upstreams.find("slow");
    }
    track.end("rtmp_close");
    await good.waitFor(() => good.connections.length > 0 && good.connections.every((x) => x.closed), 20_000);
    assert.deepEqual(errors, [], "the publisher was never failed");
    assert.ok(minLeft >= 0, "memory never exceeded the limit");
    const frames = good.connections.reduce((n, x) => n + x.frames, 0);
    assert.equal(frames, PASSES * input.frames.length, "the fast receiver got every frame");
    assert.ok(slow && slow.acked.autoAckedFrames > 0, "memory pressure auto-acked the stalled upstream instead of failing the publisher");
  } finally {
    track.close("shutdown");
    stalled.close();
    for (const h of held) (h as { close(): void }).close();
    await good.close();
  }
});

test("a receiver that keeps the socket open after eost is closed after kmp_timeout, then unpublish (s22, bounded)", { timeout: 20_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const rx = await new KmpReceiver({ runtime, keepOpenOnEos: true }).start();
  const input = loadTrackInput();
  const { c, calls } = control({ publish: async () => answer(rx.url) });
  const track = newTrack(runtime, c, cfg({ kmp_timeout: 300 }));
  try {
    await feed(track, input, 0, 10);
    await sleep(50);
    track.end("rtmp_close");
    const t0 = Date.now();
    await rx.waitFor(() => rx.connections[0]?.closed === true, 5_000);
    const waited = Date.now() - t0;
    assert.ok(rx.connections[0].eos);
    assert.equal(rx.connections[0].closedBy, "sender");
    assert.ok(waited >= 250, `closed after ${waited} ms`);
    await sleep(50);
    assert.deepEqual(calls.unpublish, ["rtmp_close"]);
  } finally {
    await rx.close();
  }
});

test("the stream ends before the publish answer: frames are still delivered, then unpublish (better than s02)", { timeout: 20_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const rx = await new KmpReceiver({ runtime }).start();
  const input = loadTrackInput();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { c, calls } = control({ publish: async () => (await gate, answer(rx.url)) });
  const track = newTrack(runtime, c, cfg());
  try {
    await feed(track, input);
    track.end("rtmp_close");
    release();
    await rx.waitFor(() => rx.connections[0]?.closed === true);
    assert.deepEqual(body(rx.connections[0]), input.raw);
    await sleep(50);
    assert.deepEqual(calls.unpublish, ["rtmp_close"]);
  } finally {
    await rx.close();
  }
});

test("empty upstream list: inactive, media ignored, unpublish still sent (s14)", { timeout: 5_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const input = loadTrackInput();
  const { c, calls } = control({ publish: async () => ({ channel_id: "ch1", track_id: "v1", upstreams: [] }) });
  const track = newTrack(runtime, c, cfg());
  await feed(track, input, 0, 5);
  await sleep(20);
  assert.equal(track.state, "inactive");
  assert.ok(track.log.memLimit - track.log.memLeft < 4096, "no buffers held (only the extra-data charge)");
  track.end("rtmp_close");
  await sleep(20); // the muxer drains first, then eost and the teardown
  assert.deepEqual(calls.unpublish, ["rtmp_close"]);
});

test("republish refused while the stream ends: unpublish waits for the retries to run out, reason rtmp_close (s17)", { timeout: 20_000 }, async () => {
  requireShared();
  const runtime = await getRuntime();
  const rx = await new KmpReceiver({ runtime, closeAfter: 25 }).start();
  const input = loadTrackInput();
  let refuse!: (e: Error) => void;
  const { c, calls } = control({ publish: async () => answer(rx.url), republish: () => new Promise((_, reject) => (refuse = reject)) });
  const errors: UnpublishReason[] = [];
  const track = newTrack(runtime, c, cfg(), errors);
  try {
    await feed(track, input, 3, 60);
    const t0 = Date.now();
    while (calls.republish === 0 && Date.now() - t0 < 5_000) await sleep(10);
    track.end("rtmp_close");
    await sleep(100);
    assert.deepEqual(calls.unpublish, [], "no unpublish while the republish is still being retried");
    refuse(new Error("republish refused"));
    await sleep(50);
    assert.deepEqual(calls.unpublish, ["rtmp_close"]);
    assert.deepEqual(errors, [], "a refused republish after the stream ended does not fail the session");
  } finally {
    await rx.close();
  }
});
