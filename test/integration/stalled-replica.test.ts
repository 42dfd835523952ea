/**
 * Liveness through the real server: each track is replicated to a healthy acking receiver and to
 * a replica that stalls (accepts and never reads, or reads and never acks). The healthy receiver
 * gets every frame, in real time and as fast as ffmpeg can send; memory stays under the limit;
 * both tracks end with one unpublish after a bounded wait.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Conn } from "../../src/runtime/types.ts";
import { getRuntime } from "../../src/runtime/detect.ts";
import { KmpReceiver } from "../../src/tools/kmp-receiver.ts";
import { INPUTS, requireShared } from "../helpers/paths.ts";
import { requireTool, start } from "../helpers/proc.ts";
import { startStack } from "../helpers/stack.ts";
import { expectedFrames, receivedFrames } from "../helpers/expect-frames.ts";

const INPUT = () => join(INPUTS, "av_h264main_bframes_aac.flv");
const LIMITS = "kmp_video_mem_limit 256k; kmp_audio_mem_limit 64k; kmp_video_buffer_size 16k; kmp_timeout 2s; kmp_republish_interval 200ms;";

/** A KMP peer that accepts the connection and never reads a byte. */
async function blackHole() {
  const rt = await getRuntime();
  const l = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Conn[] = [];
  void (async () => {
    for await (const c of l) conns.push(c);
  })().catch(() => {});
  return { url: `kmp://127.0.0.1:${l.addr.port}`, accepted: () => conns.length, close() { l.close(); for (const c of conns) c.close(); } };
}

type Stall = "never-reads" | "never-acks";

async function run(stall: Stall, realtime: boolean) {
  requireShared();
  await requireTool("ffmpeg");
  const rt = await getRuntime();
  const hole = stall === "never-reads" ? await blackHole() : null;
  const mute = stall === "never-acks" ? await new KmpReceiver({ runtime: rt, ackEvery: 0 }).start() : null;
  const replicaUrl = hole?.url ?? mute!.url;
  const stack = await startStack({ appDirectives: LIMITS, mode: { replicas: [{ url: replicaUrl, id: "replica", required: false }] } });
  const loops = realtime ? 1 : 9;
  const track = { peak: 0, limit: 0 };
  const sampler = setInterval(() => {
    for (const t of stack.server.tracks.values()) {
      const s = t.track.stats();
      track.peak = Math.max(track.peak, s.memLimit - s.memLeft);
      track.limit = Math.max(track.limit, s.memLimit);
    }
  }, 20);
  try {
    const args = ["-hide_banner", "-nostdin", "-loglevel", "error", ...(realtime ? ["-re"] : []), "-stream_loop", String(loops), "-i", INPUT(), "-c", "copy", "-f", "flv", stack.rtmpUrl("live/stall")];
    const ff = start("ffmpeg", args);
    const r = await ff.exited;
    assert.equal(r.code, 0, `ffmpeg failed: ${r.stderr}`);
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 15_000);
    const reasons = stack.controller.events("unpublish").map((e) => e.reason);
    assert.deepEqual(reasons.filter((x) => x !== "rtmp_close" && x !== "rtmp_disconnect"), [], `unpublish reasons ${reasons}`);
    const one = expectedFrames(readFileSync(INPUT()));
    for (const media of ["video", "audio"] as const) {
      const want = Array.from({ length: loops + 1 }, () => one[media].map((f) => f.md5)).flat();
      const healthy = stack.receiver.connections.filter((c) => c.trackId === (media === "video" ? "v1" : "a1"));
      const got = receivedFrames(healthy).map((f) => f.md5);
      if (got.length !== want.length && process.env.DEBUG_STALL) console.log(stack.logs.filter((l) => !l.includes("write frame")).join("\n"));
      assert.equal(got.length, want.length, `${media}: the healthy receiver got ${got.length} of ${want.length} frames`);
      assert.deepEqual(got, want, `${media}: frames differ`);
    }
    assert.ok(track.peak <= track.limit, `retained ${track.peak} > limit ${track.limit}`);
    if (hole) assert.ok(hole.accepted() >= 2, "the replica was connected");
    assert.equal(stack.server.tracks.size, 0);
  } finally {
    clearInterval(sampler);
    await stack.close();
    hole?.close();
    await mute?.close();
  }
}

test("a replica that never reads: the healthy receiver gets every frame in real time", { timeout: 60_000 }, () => run("never-reads", true));
test("a replica that never reads: the healthy receiver gets every frame, publisher as fast as possible", { timeout: 60_000 }, () => run("never-reads", false));
test("a replica that reads but never acks: the healthy receiver gets every frame, as fast as possible", { timeout: 60_000 }, () => run("never-acks", false));
