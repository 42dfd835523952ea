/**
 * Real ffmpeg publishes every fixture input over real TCP to our server; a real HTTP controller
 * answers and a real KMP receiver acks. Every frame ffmpeg sent must reach KMP (count + md5).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INPUTS, requireShared } from "../helpers/paths.ts";
import { have, run, requireTool } from "../helpers/proc.ts";
import { startStack } from "../helpers/stack.ts";
import { expectedFrames, receivedFrames } from "../helpers/expect-frames.ts";

const inputs = [
  { file: "av_h264main_bframes_aac.flv", re: true },
  { file: "av_h264baseline_aac.flv", re: false },
  { file: "audio_aac.flv", re: false },
  { file: "video_h264.flv", re: false },
];

for (const input of inputs) {
  test(`ffmpeg publishes ${input.file}${input.re ? " with -re" : ""}: every frame reaches KMP`, { timeout: 60_000 }, async (t) => {
    requireShared();
    await requireTool("ffmpeg");
    const path = join(INPUTS, input.file);
    const expected = expectedFrames(readFileSync(path));
    const stack = await startStack();
    try {
      const args = ["-hide_banner", "-nostdin", "-loglevel", "error", ...(input.re ? ["-re"] : []), "-i", path, "-c", "copy", "-f", "flv", stack.rtmpUrl("live/s1?x=1")];
      const r = await run("ffmpeg", args, { timeoutMs: 40_000 });
      assert.equal(r.code, 0, `ffmpeg failed: ${r.stderr}`);
      const tracks = (expected.video.length ? 1 : 0) + (expected.audio.length ? 1 : 0);
      await stack.controller.waitFor(() => stack.controller.events("unpublish").length === tracks, 30_000);
      for (const media of ["video", "audio"] as const) {
        const want = expected[media];
        const trackId = media === "video" ? "v1" : "a1";
        const got = receivedFrames(stack.receiver.connections.filter((c) => c.trackId === trackId));
        assert.equal(got.length, want.length, `${media}: ${got.length} frames received, ${want.length} sent`);
        for (let i = 0; i < want.length; i++) {
          assert.equal(got[i].md5, want[i].md5, `${media} frame ${i} payload differs`);
          if (media === "video") {
            assert.equal(got[i].key, want[i].key, `video frame ${i} key flag`);
            assert.equal(got[i].dts, BigInt(want[i].ts) * 90n, `video frame ${i} dts`);
          } else {
            // AAC dts is smoothed to the 1024-sample grid, never by more than the 2 ms margin
            const diff = got[i].dts - BigInt(want[i].ts) * 90n;
            assert.ok(diff >= -180n && diff <= 180n, `audio frame ${i} dts off by ${diff}`);
          }
        }
      }
      for (const ev of stack.controller.events("unpublish")) assert.equal(ev.reason, "rtmp_close");
    } finally {
      await stack.close();
    }
  });
}

/** Inputs the shared fixtures hold back (MP3, mono 48 kHz AAC, 29.97 fps): generated here, tee'd to a file. */
const generated = [
  { name: "H.264 + MP3", audio: ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-ac", "2"], rate: "25", audioCodec: 1002, channels: 2, sampleRate: 44100, frameRate: "25.00" },
  { name: "H.264 29.97 fps + mono 48 kHz AAC", audio: ["-c:a", "aac", "-b:a", "64k", "-ar", "48000", "-ac", "1"], rate: "30000/1001", audioCodec: 1010, channels: 2, sampleRate: 48000, frameRate: "29.97" },
];

for (const g of generated) {
  test(`ffmpeg encodes and publishes ${g.name}: media info as the reference reports it, every frame reaches KMP`, { timeout: 60_000 }, async (t) => {
    await requireTool("ffmpeg");
    const stack = await startStack();
    const dir = mkdtempSync(join(tmpdir(), "gen-"));
    const copy = join(dir, "sent.flv");
    try {
      const args = [
        "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "lavfi", "-i", `testsrc2=size=320x240:rate=${g.rate}:duration=2`,
        "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", ...g.audio,
        "-map", "0:v", "-map", "1:a", "-f", "tee", `[f=flv]${stack.rtmpUrl("live/gen")}|[f=flv]${copy}`,
      ];
      const r = await run("ffmpeg", args, { timeoutMs: 40_000 });
      assert.equal(r.code, 0, r.stderr);
      await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 30_000);
      const audioInfo = stack.controller.events("publish").map((e) => e.media_info as Record<string, unknown>).find((m) => m.media_type === "audio")!;
      assert.equal(audioInfo.codec_id, g.audioCodec);
      assert.equal(audioInfo.channels, g.channels, "channels come from the FLV stereo flag, like the reference");
      assert.equal(audioInfo.sample_rate, g.sampleRate);
      const videoRaw = stack.controller.requests.find((q) => q.path === "/publish" && q.bodyRaw.includes('"media_type":"video"'))!.bodyRaw;
      assert.match(videoRaw, new RegExp(`"frame_rate":${g.frameRate.replace(".", "\\.")}[,}]`));
      const expected = expectedFrames(readFileSync(copy));
      for (const media of ["video", "audio"] as const) {
        const got = receivedFrames(stack.receiver.connections.filter((c) => c.trackId === (media === "video" ? "v1" : "a1")));
        assert.deepEqual(got.map((f) => f.md5), expected[media].map((f) => f.md5), `${media} frames`);
      }
    } finally {
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
