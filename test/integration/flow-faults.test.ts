/**
 * Flow faults through the real server over real sockets: a client that pipelines everything
 * before `connect` is answered, a KMP receiver that answers with garbage, hostile metadata.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readFlv } from "../../src/flv/reader.ts";
import { INPUTS, requireShared } from "../helpers/paths.ts";
import { concat } from "../../src/bytes/bytes.ts";
import { amf0, chunk, publishPreamble, RawClient } from "../helpers/raw-client.ts";
import { startStack, type Stack } from "../helpers/stack.ts";
import { receivedFrames } from "../helpers/expect-frames.ts";
import { assertStrictJson } from "../helpers/strict-json.ts";

const CHUNK = 4096;

/** Everything a publisher sends after the handshake, as one buffer: nobody waits for `_result`. */
function pipelinedPublish(name: string, tags: number, metadata: Record<string, unknown> = {}): { bytes: Uint8Array; tags: Uint8Array[]; video: number; audio: number } {
  const flv = new Uint8Array(readFileSync(join(INPUTS, "av_h264main_bframes_aac.flv")));
  const parts: Uint8Array[] = [
    ...publishPreamble(name, CHUNK, { flashVer: "FMLE/3.0 (pipelined)" }),
    chunk(5, 18, 1, 0, amf0("@setDataFrame", "onMetaData", { width: 320, height: 240, videodatarate: 300, audiodatarate: 64, framerate: 25, ...metadata }), CHUNK),
  ];
  let video = 0;
  let audio = 0;
  let n = 0;
  const media: Uint8Array[] = [];
  for (const t of readFlv(flv)) {
    if (t.type !== 8 && t.type !== 9) continue;
    if (n++ >= tags) break;
    const seq = t.type === 9 ? t.body[1] === 0 : t.body[1] === 0;
    if (!seq && t.body.length > (t.type === 9 ? 5 : 2)) t.type === 9 ? video++ : audio++;
    media.push(chunk(t.type === 9 ? 6 : 4, t.type, 1, t.timestamp, t.body, CHUNK));
  }
  parts.push(...media);
  return { bytes: concat(parts), tags: media, video, audio };
}

async function publishRaw(stack: Stack, bytes: Uint8Array): Promise<RawClient> {
  const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
  await c.handshake();
  await c.write(bytes);
  return c;
}

test("a pipelining client against a rejecting controller gets no stream, no publish and no track", { timeout: 30_000 }, async () => {
  requireShared();
  const stack = await startStack({ mode: { connect: "reject", connectDelayMs: 300 } });
  try {
    const { bytes } = pipelinedPublish("pipelined", 200);
    const c = await publishRaw(stack, bytes);
    assert.ok(await c.closedByServer(5_000), "the rejected client is closed");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(stack.controller.events("connect").length, 1);
    assert.equal(stack.controller.events("publish").length, 0, "no publish callback before connect was accepted");
    assert.equal(stack.controller.events("unpublish").length, 0);
    assert.equal(stack.receiver.connections.length, 0, "no KMP connection");
    assert.equal(stack.server.tracks.size, 0);
    assert.equal(stack.server.sessions.size, 0, "nothing left behind");
  } finally {
    await stack.close();
  }
});

test("a pipelining client against a slow accepting controller: held until the answer, then every frame", { timeout: 30_000 }, async () => {
  requireShared();
  const stack = await startStack({ mode: { connectDelayMs: 500 } });
  try {
    const { bytes, video, audio } = pipelinedPublish("held", 300);
    const t0 = Date.now();
    const c = await publishRaw(stack, bytes);
    await stack.controller.waitFor(() => stack.controller.events("publish").length === 2, 10_000);
    const connectAt = stack.controller.requests.find((r) => r.body.event_type === "connect")!.time;
    for (const r of stack.controller.requests.filter((r) => r.body.event_type === "publish")) {
      assert.ok(r.time >= connectAt + 450, `publish ${r.time - t0} ms after start came before the connect answer`);
    }
    await c.write(chunk(3, 20, 0, 0, amf0("deleteStream", 4, null, 1), CHUNK));
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 10_000);
    const got = (t: string) => receivedFrames(stack.receiver.connections.filter((x) => x.trackId === t)).length;
    assert.equal(got("v1"), video);
    assert.equal(got("a1"), audio);
    c.close();
  } finally {
    await stack.close();
  }
});

test("commands and media before connect are refused", { timeout: 15_000 }, async () => {
  const stack = await startStack();
  try {
    const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
    await c.handshake();
    await c.write(chunk(3, 20, 0, 0, amf0("createStream", 2, null)));
    assert.ok(await c.closedByServer());
    assert.ok(stack.logs.some((l) => l.includes("RTMP_ERR_NOT_CONNECTED")));
    assert.equal(stack.server.sessions.size, 0);
  } finally {
    await stack.close();
  }
});

test("a KMP receiver that answers with garbage: paced republishes, and every track ends with one unpublish", { timeout: 60_000 }, async () => {
  requireShared();
  const interval = 300;
  const max = 3;
  const stack = await startStack({
    receiver: { garbageAt: 2 },
    appDirectives: `kmp_republish_interval ${interval}ms; kmp_max_republishes ${max}; kmp_flush_timeout 20ms;`,
  });
  try {
    const { bytes, tags } = pipelinedPublish("garbage", 1500);
    const t0 = Date.now();
    const c = await publishRaw(stack, bytes.subarray(0, bytes.length - tags.slice(40).reduce((a, t) => a + t.length, 0)));
    // then the rest in real time (a tag every 20 ms), as an encoder would, until the server gives up
    let open = true;
    const feeder = (async () => {
      for (const t of tags.slice(40)) {
        if (!open) return;
        await c.write(t).catch(() => (open = false));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length >= 2, 40_000);
    const elapsed = Date.now() - t0;
    open = false;
    await feeder;
    await new Promise((r) => setTimeout(r, interval * 2));
    const unpublish = stack.controller.events("unpublish");
    assert.equal(unpublish.length, 2, "exactly one unpublish per track");
    assert.equal(new Set(unpublish.map((e) => e.input_id)).size, 2);
    assert.ok(unpublish.some((e) => e.reason === "upstream_error"), `reasons ${unpublish.map((e) => e.reason)}`);
    for (const track of ["video", "audio"]) {
      const times = stack.controller.requests.filter((r) => r.body.event_type === "republish" && String(r.body.input_id).endsWith(`/${track}`)).map((r) => r.time);
      // at most one request per interval (10% slack for timer jitter), and the maximum holds
      for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= interval * 0.9, `${track}: republish ${i} only ${times[i] - times[i - 1]} ms after the previous`);
      assert.ok(times.length <= max + 2, `${track}: ${times.length} republishes in ${elapsed} ms`);
    }
    assert.equal(stack.server.tracks.size, 0, "no track outlives its session");
    assert.ok(await c.closedByServer(5_000));
  } finally {
    await stack.close();
  }
});

test("hostile metadata: every number in every event body is finite and in range", { timeout: 30_000 }, async () => {
  requireShared();
  const stack = await startStack();
  try {
    const { bytes } = pipelinedPublish("hostile", 120, {
      videodatarate: 1e306, audiodatarate: -64, framerate: 1e306, width: 1e306, height: -1, fps: Number.NaN,
    });
    const c = await publishRaw(stack, bytes);
    await stack.controller.waitFor(() => stack.controller.events("publish").length === 2, 10_000);
    c.close();
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 10_000);
    for (const r of stack.controller.requests) assertStrictJson(r.bodyRaw);
    for (const e of stack.controller.events("publish")) {
      const mi = e.media_info as Record<string, number>;
      assert.equal(mi.bitrate, 0, `${mi.media_type} bitrate`);
    }
  } finally {
    await stack.close();
  }
});
