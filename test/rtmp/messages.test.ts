import { test } from "node:test";
import assert from "node:assert/strict";
import { requireShared } from "../helpers/paths.ts";
import { fromHex } from "../../src/bytes/bytes.ts";
import { ChunkDecoder, type RtmpMessage } from "../../src/rtmp/chunk-decoder.ts";
import { decodeCommand } from "../../src/rtmp/commands.ts";
import * as out from "../../src/rtmp/messages.ts";
import { rawRtmpScenarios, readBin } from "../helpers/fixtures.ts";

test("protocol control messages are the spec's bytes (§1.7)", () => {
  assert.deepEqual(out.windowAckSize(5_000_000), fromHex("02 00 00 00 00 00 04 05 00 00 00 00 00 4c 4b 40"));
  assert.deepEqual(out.setPeerBandwidth(5_000_000, 2), fromHex("02 00 00 00 00 00 05 06 00 00 00 00 00 4c 4b 40 02"));
  assert.deepEqual(out.setChunkSize(4096), fromHex("02 00 00 00 00 00 04 01 00 00 00 00 00 00 10 00"));
});

/** Splits the server→client bytes of a fixture (after S0/S1/S2) into raw message byte ranges. */
function serverMessages(scenario: string): { msgs: RtmpMessage[]; raw: Uint8Array } {
  const raw = readBin(scenario, "conn1_s2c.bin").subarray(1 + 1536 + 1536);
  const msgs: RtmpMessage[] = [];
  const d = new ChunkDecoder({ onMessage: (m) => msgs.push({ ...m, payload: m.payload.slice() }) });
  d.push(raw);
  return { msgs, raw };
}

test("s01: our replies are byte-identical to what the reference sent", () => {
  const { raw } = serverMessages("s01_av_bframes_re");
  const ours = [
    out.windowAckSize(5_000_000),
    out.setPeerBandwidth(5_000_000, 2),
    out.setChunkSize(4096),
    out.connectResult(1, 0, 4096),
    out.onFCPublish(3, "streamname_1?arg=value", 4096),
    out.createStreamResult(4, 1, 4096),
    out.onStatus(1, "status", "NetStream.Publish.Start", "Start publishing", 4096),
    out.onStatus(1, "status", "NetStream.Unpublish.Success", "Stop publishing", 4096),
  ];
  const joined = new Uint8Array(ours.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of ours) joined.set(b, off), (off += b.length);
  assert.deepEqual(joined, raw);
});

test("s08: the connect rejection sequence is byte-identical", () => {
  requireShared();
  assert.ok(rawRtmpScenarios().includes("s08_connect_reject"), "the s08 capture is missing");
  const { raw, msgs } = serverMessages("s08_connect_reject");
  const desc = (decodeCommand(msgs[2]).args[1] as Record<string, unknown>).description as string;
  assert.equal(desc, "rejected by test controller");
  const ours = out.connectRejected(1, desc, 4096);
  const joined = new Uint8Array(ours.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of ours) joined.set(b, off), (off += b.length);
  assert.deepEqual(joined, raw);
});
