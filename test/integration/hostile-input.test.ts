/**
 * Hostile clients: each gets a coded error and loses only its own session, while a real ffmpeg
 * publisher on the same server keeps every frame. Memory stays bounded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { INPUTS, requireShared } from "../helpers/paths.ts";
import { have, start, requireTool } from "../helpers/proc.ts";
import { amf0, chunk, RawClient, u32be } from "../helpers/raw-client.ts";
import { startStack, type Stack } from "../helpers/stack.ts";
import { expectedFrames, receivedFrames } from "../helpers/expect-frames.ts";
import type { CloseCode } from "../../src/ingest/errors.ts";

async function connected(stack: Stack): Promise<RawClient> {
  const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
  await c.handshake();
  return c;
}

/** The session's close line names exactly this code. */
function logged(stack: Stack, code: CloseCode): boolean {
  return stack.logs.some((l) => l.includes(`session closed: ${code}: `));
}

test("hostile clients are dropped with coded errors while a good publisher keeps every frame", { timeout: 90_000 }, async (t) => {
  requireShared();
  await requireTool("ffmpeg");
  const stack = await startStack({ serverDirectives: "timeout 1500ms;" });
  const input = join(INPUTS, "av_h264main_bframes_aac.flv");
  const good = start("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", input, "-c", "copy", "-f", "flv", stack.rtmpUrl("live/good")]);
  const heapBefore = process.memoryUsage().heapUsed;
  try {
    await t.test("garbage instead of a handshake", async () => {
      const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
      const junk = new Uint8Array(4000);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) & 0xff;
      junk[0] = 0x47; // not version 3
      await c.write(junk).catch(() => {});
      assert.ok(await c.closedByServer(), "server closes");
      assert.ok(logged(stack, "RTMP_ERR_HANDSHAKE_VERSION"), "coded error logged");
    });

    await t.test("truncated handshake then silence: dropped after the handshake timeout", async () => {
      const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
      await c.write(Uint8Array.of(3, 0, 0, 0, 0));
      const t0 = Date.now();
      assert.ok(await c.closedByServer(6_000), "server closes");
      assert.ok(Date.now() - t0 < 5_000, "within the handshake timeout");
      assert.ok(logged(stack, "RTMP_ERR_HANDSHAKE_TIMEOUT"));
    });

    await t.test("a client that connects and says nothing is dropped", async () => {
      const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
      assert.ok(await c.closedByServer(6_000));
    });

    await t.test("message longer than max_message", async () => {
      const c = await connected(stack);
      await c.write(chunk(2, 1, 0, 0, u32be(0x7fffffff))); // huge chunk size
      // a 16 MB message header (max_message is 1m)
      await c.write(Uint8Array.of(0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0, 1, 2, 3));
      assert.ok(await c.closedByServer());
      assert.ok(logged(stack, "RTMP_ERR_MESSAGE_TOO_LARGE"));
    });

    await t.test("chunk stream id beyond max_streams", async () => {
      const c = await connected(stack);
      await c.write(Uint8Array.of(0x01, 0xff, 0xff, 0, 0, 0, 0, 0, 4, 20, 0, 0, 0, 0, 1, 2, 3, 4)); // 3-byte csid 65599
      assert.ok(await c.closedByServer());
      assert.ok(logged(stack, "RTMP_ERR_CSID_LIMIT"));
    });

    await t.test("AMF bomb: deeply nested objects in connect", async () => {
      const c = await connected(stack);
      const depth = 5000;
      const body = new Uint8Array(3 + 7 + 9 + depth * 6);
      let p = 0;
      body.set(amf0("connect", 1), p);
      p = amf0("connect", 1).length;
      for (let i = 0; i < depth; i++) body.set([0x03, 0x00, 0x01, 0x61], p), p += 4; // object { "a": object { ...
      const payload = body.subarray(0, p);
      await c.write(chunk(3, 20, 0, 0, payload, 128));
      assert.ok(await c.closedByServer());
      assert.ok(logged(stack, "RTMP_ERR_AMF"));
    });

    await t.test("strict array claiming 2^32-1 elements", async () => {
      const c = await connected(stack);
      const payload = new Uint8Array([...amf0("connect", 1), 0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]);
      await c.write(chunk(3, 20, 0, 0, payload));
      assert.ok(await c.closedByServer());
      assert.ok(logged(stack, "RTMP_ERR_AMF"));
    });

    await t.test("media on a stream that was never created", async () => {
      const c = await connected(stack);
      await c.write(chunk(3, 20, 0, 0, amf0("connect", 1, { app: "live", tcUrl: "rtmp://x/live" })));
      await c.write(chunk(6, 9, 7, 0, Uint8Array.of(0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65)));
      assert.ok(await c.closedByServer());
      assert.ok(logged(stack, "RTMP_ERR_NO_STREAM"));
    });

    await t.test("play is refused", async () => {
      const c = await connected(stack);
      await c.write(chunk(3, 20, 0, 0, amf0("connect", 1, { app: "live", tcUrl: "rtmp://x/live" })));
      await c.write(chunk(3, 20, 0, 0, amf0("createStream", 2, null)));
      await c.write(chunk(8, 20, 1, 0, amf0("play", 3, null, "x")));
      assert.ok(await c.closedByServer());
      assert.ok(logged(stack, "RTMP_ERR_PLAY"));
    });

    const r = await good.exited;
    assert.equal(r.code, 0, `the good publisher failed: ${r.stderr}`);
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length >= 2, 20_000);
    const expected = expectedFrames(readFileSync(input));
    for (const media of ["video", "audio"] as const) {
      const got = receivedFrames(stack.receiver.connections.filter((c) => c.trackId === (media === "video" ? "v1" : "a1")));
      assert.deepEqual(got.map((f) => f.md5), expected[media].map((f) => f.md5), `${media}: the good publisher lost frames`);
    }
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 200 * 1024 * 1024, `heap grew by ${grown} bytes`);
  } finally {
    await good.stop();
    await stack.close();
  }
});
