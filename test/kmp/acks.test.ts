/** The ack walk (kmp.md §8, spec §5.5) over a log of real minf/fram packets. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AckPosition } from "../../src/kmp/acks.ts";
import { BufferPool } from "../../src/bytes/buffer-pool.ts";
import { ByteLog, PACKET_FRAME, PACKET_MEDIA_INFO } from "../../src/kmp/byte-log.ts";
import { encodeFrame, encodeMediaInfo } from "../../src/kmp/packets.ts";
import type { MediaInfo } from "../../src/media/types.ts";

const mi = (w: number): MediaInfo => ({ mediaType: "video", codecId: 7, timescale: 90000, bitrate: 0, width: w, height: 2, frameRate: { num: 25, denom: 1 }, ceaCaptions: false, extraData: Uint8Array.of(1, 2) });
const frame = (i: number) => encodeFrame({ created: 0, dts: i * 3600, key: i === 0, ptsDelay: 0, data: Uint8Array.of(i, i, i) });

/** minf(w=1), 3 frames, minf(w=2), 2 frames: returns the log and each packet's end offset. */
function log(): { log: ByteLog; ends: number[]; minf2: Uint8Array } {
  const l = new ByteLog({ bufferSize: 64 * 1024, memLimit: 1 << 20, maxFreeBuffers: 1, pool: new BufferPool() });
  const ends: number[] = [];
  const minf2 = encodeMediaInfo(mi(2));
  const put = (kind: number, b: Uint8Array) => (l.writePacket(kind, b, null), ends.push(l.written));
  put(PACKET_MEDIA_INFO, encodeMediaInfo(mi(1)));
  for (let i = 0; i < 3; i++) put(PACKET_FRAME, frame(i));
  put(PACKET_MEDIA_INFO, minf2);
  for (let i = 3; i < 5; i++) put(PACKET_FRAME, frame(i));
  l.appendAll();
  return { log: l, ends, minf2 };
}

test("an ackf of frame N moves past N frames and the media infos between them", () => {
  const { log: l, ends, minf2 } = log();
  const a = new AckPosition({ frameId: 1000n, offset: 0, packet: l.firstPacket });
  assert.ok(a.walk(l, 1002n, l.written));
  assert.deepEqual([a.frameId, a.packet, a.offset], [1002n, 3, ends[2]], "after minf + 2 frames");
  assert.equal(a.minf?.byteLength, 50, "the first minf is the one to re-send");
  assert.ok(a.walk(l, 1004n, l.written));
  assert.deepEqual([a.frameId, a.packet, a.offset], [1004n, 6, ends[5]], "past the second minf");
  assert.deepEqual(a.minf, minf2, "which becomes the acknowledged one, copied out of the log");
  assert.equal(a.framesSince(1000n), 4);
});

test("over-ack: a frame past what was handed to the socket fails and leaves the position unchanged", () => {
  const { log: l, ends } = log();
  const a = new AckPosition({ frameId: 1000n, offset: 0, packet: 0 });
  assert.equal(a.walk(l, 1003n, ends[2]), false, "frame 3 ends after the limit");
  assert.deepEqual([a.frameId, a.packet, a.offset, a.minf], [1000n, 0, 0, null]);
  assert.equal(a.walk(l, 1009n, l.written), false, "more frames than the log holds");
  assert.equal(a.frameId, 1000n);
});

test("auto-ack (resume modes, memory pressure) takes whole packets below a limit and counts them", () => {
  const { log: l, ends, minf2 } = log();
  const a = new AckPosition({ frameId: 1000n, offset: 0, packet: 0 });
  assert.equal(a.autoAck(l, ends[4] + 3), 3, "a packet cut by the limit is not taken");
  assert.deepEqual([a.frameId, a.packet, a.offset, a.autoAckedFrames], [1003n, 5, ends[4], 3]);
  assert.deepEqual(a.minf, minf2);
  assert.equal(a.autoAck(l, l.written), 2);
  assert.deepEqual([a.frameId, a.autoAckedFrames], [1005n, 5]);
  const copy = AckPosition.copyOf(a);
  assert.deepEqual([copy.frameId, copy.offset, copy.packet, copy.autoAckedFrames, copy.initialFrameId], [1005n, a.offset, a.packet, 0, 1005n], "a copy starts where its source is acked");
});
