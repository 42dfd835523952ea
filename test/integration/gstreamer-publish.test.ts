/**
 * GStreamer's own RTMP client (rtmp2sink) publishes a generated H.264/AAC stream; a copy of the
 * exact FLV it muxed is written beside it (tee), and every frame in that copy must reach KMP.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { have, run, requireTool } from "../helpers/proc.ts";
import { startStack } from "../helpers/stack.ts";
import { expectedFrames, receivedFrames } from "../helpers/expect-frames.ts";

test("gst-launch rtmp2sink publishes H.264/AAC: every frame reaches KMP", { timeout: 90_000 }, async () => {
  await requireTool("gst-launch-1.0");
  await requireTool("gst-inspect-1.0");
  for (const el of ["rtmp2sink", "x264enc", "voaacenc", "flvmux"]) {
    const r = await run("gst-inspect-1.0", [el], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, `GStreamer element ${el} missing (.ci/run installs gstreamer1.0-plugins-{good,bad,ugly})`);
  }
  const dir = mkdtempSync(join(tmpdir(), "gst-"));
  const copy = join(dir, "sent.flv");
  const stack = await startStack();
  try {
    const pipeline =
      `videotestsrc num-buffers=100 ! video/x-raw,width=320,height=240,framerate=25/1 ! ` +
      `x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! h264parse ! queue ! m. ` +
      `audiotestsrc num-buffers=150 ! audio/x-raw,rate=44100,channels=2 ! audioconvert ! voaacenc ! aacparse ! queue ! m. ` +
      `flvmux name=m streamable=true ! tee name=t ! queue ! rtmp2sink location=${stack.rtmpUrl("live/gst")} ` +
      `t. ! queue ! filesink location=${copy}`;
    const r = await run("gst-launch-1.0", ["-e", ...pipeline.split(" ").filter(Boolean)], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `gst-launch failed: ${r.stdout}\n${r.stderr}`);
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 30_000);
    const expected = expectedFrames(readFileSync(copy));
    assert.equal(expected.video.length, 100, "the muxed copy has all 100 video frames");
    assert.ok(expected.audio.length > 100, `the muxed copy has ${expected.audio.length} audio frames`);
    for (const media of ["video", "audio"] as const) {
      const got = receivedFrames(stack.receiver.connections.filter((c) => c.trackId === (media === "video" ? "v1" : "a1")));
      assert.deepEqual(got.map((f) => f.md5), expected[media].map((f) => f.md5), `${media} frames differ`);
    }
  } finally {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
