/**
 * RTMPS terminated in-process (`listen … ssl` with `ssl_certificate` / `ssl_certificate_key`):
 * ffmpeg publishes `rtmps://` on each runtime, beside a plain listener of the same server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INPUTS, requireShared } from "../helpers/paths.ts";
import { requireTool, run } from "../helpers/proc.ts";
import { startStack } from "../helpers/stack.ts";
import { expectedFrames, receivedFrames } from "../helpers/expect-frames.ts";
import { readFileSync } from "node:fs";

test("ffmpeg publishes rtmps:// to an in-process TLS listener: every frame reaches KMP", { timeout: 60_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  await requireTool("openssl", "version");
  const dir = mkdtempSync(join(tmpdir(), "rtmps-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const g = await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"]);
  assert.equal(g.code, 0, g.stderr);
  const stack = await startStack({ listenDirectives: "ssl", serverDirectives: `ssl_certificate ${cert}; ssl_certificate_key ${key};` });
  try {
    const input = join(INPUTS, "av_h264baseline_aac.flv");
    const r = await run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", input, "-c", "copy", "-f", "flv", `rtmps://127.0.0.1:${stack.rtmpPort}/live/secure`], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 15_000);
    const expected = expectedFrames(readFileSync(input));
    for (const media of ["video", "audio"] as const) {
      const got = receivedFrames(stack.receiver.connections.filter((c) => c.trackId === (media === "video" ? "v1" : "a1")));
      assert.deepEqual(got.map((f) => f.md5), expected[media].map((f) => f.md5), `${media} frames`);
    }
    assert.ok(stack.logs.some((l) => l.includes("rtmps listening")), "the listener says it serves RTMPS");
    // a plain RTMP client on the TLS port does not get in (its bytes are not a TLS ClientHello)
    const plain = await run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-rw_timeout", "3000000", "-i", input, "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${stack.rtmpPort}/live/plain`], { timeoutMs: 20_000 });
    assert.notEqual(plain.code, 0, "plain RTMP on the TLS listener must fail");
    assert.equal(stack.controller.events("connect").length, 1, "only the TLS client connected");
  } finally {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
