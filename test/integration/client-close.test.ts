/**
 * How clients end a publish: `deleteStream` with the stream's name (GStreamer rtmp2sink), and a
 * TCP reset right after it (ffmpeg, VLC, librtmp) — a normal close, not a server fault.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { readFlv } from "../../src/flv/reader.ts";
import { INPUTS, requireShared } from "../helpers/paths.ts";
import { concat } from "../../src/bytes/bytes.ts";
import { amf0, chunk, publishPreamble, RawClient } from "../helpers/raw-client.ts";
import { startStack } from "../helpers/stack.ts";

const CHUNK = 4096;

function publishBytes(name: string): Uint8Array {
  const parts = publishPreamble(`${name}?token=1`, CHUNK);
  let n = 0;
  for (const t of readFlv(new Uint8Array(readFileSync(join(INPUTS, "av_h264main_bframes_aac.flv"))))) {
    if (t.type !== 8 && t.type !== 9) continue;
    if (n++ >= 60) break;
    parts.push(chunk(t.type === 9 ? 6 : 4, t.type, 1, t.timestamp, t.body, CHUNK));
  }
  return concat(parts);
}

test("deleteStream naming the stream (rtmp2sink) closes it: unpublish with rtmp_close", { timeout: 20_000 }, async () => {
  requireShared();
  const stack = await startStack();
  try {
    const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
    await c.handshake();
    await c.write(publishBytes("named"));
    await stack.controller.waitFor(() => stack.controller.events("publish").length === 2, 10_000);
    await c.write(chunk(3, 20, 0, 0, amf0("deleteStream", 4, null, "named"), CHUNK));
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 10_000);
    assert.deepEqual(stack.controller.events("unpublish").map((e) => e.reason), ["rtmp_close", "rtmp_close"]);
    c.close();
  } finally {
    await stack.close();
  }
});

test("a client that resets the connection is closed at info level with its own code", { timeout: 20_000 }, async () => {
  requireShared();
  const stack = await startStack();
  try {
    // node:net here (a test is the client, not the server): resetAndDestroy() sends a TCP RST
    const sock = net.connect(stack.rtmpPort, "127.0.0.1");
    await new Promise<void>((r) => sock.once("connect", () => r()));
    const c0c1 = Buffer.alloc(1537);
    c0c1[0] = 3;
    sock.write(c0c1);
    let got = 0;
    await new Promise<void>((r) => sock.on("data", (d: Buffer) => ((got += d.length) >= 3073 ? r() : undefined)));
    sock.write(Buffer.alloc(1536));
    sock.write(publishBytes("reset"));
    await stack.controller.waitFor(() => stack.controller.events("publish").length === 2, 10_000);
    sock.resetAndDestroy();
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 10_000);
    const lines = stack.logs.filter((l) => l.includes("session closed"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /\[info\].*RTMP_CLIENT_RESET/, lines[0]);
    assert.ok(!stack.logs.some((l) => l.includes("RTMP_ERR_INTERNAL")), "no internal error logged");
    assert.deepEqual(stack.controller.events("unpublish").map((e) => e.reason), ["rtmp_disconnect", "rtmp_disconnect"]);
  } finally {
    await stack.close();
  }
});
