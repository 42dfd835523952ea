import { test } from "node:test";
import assert from "node:assert/strict";
import { fromHex } from "../../src/bytes/bytes.ts";
import { KmpError } from "../../src/kmp/errors.ts";
import { AckReader, encodeAck, encodeConnect, encodeFrame, encodeMediaInfo, EOST, NULL_PACKET, parseAck } from "../../src/kmp/packets.ts";
import { HeaderScratch, KmpMuxer, muxBatch, type KmpPackets, type PacketSink, type TrackWrite } from "../../src/kmp/muxer.ts";

const avcc = fromHex("01 64 00 0b ff e1 00 19 67 64 00 0b ac d9 42 84 7e 5c 04 40 00 00 03 00 40 00 00 07 83 c5 0a 65 80 01 00 04 68 ef bc b0");

test("cnct: kmp.md §3.1 and §3.2", () => {
  assert.deepEqual(encodeConnect({ channelId: "ch1", trackId: "v1", initialFrameId: 142005312012345n }), fromHex(`
    63 6e 63 74 68 00 00 00 00 00 00 00 00 00 00 00 63 68 31 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 76 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 39 c0 2d 30 27 81 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 01 00 00 00`));
  const re = encodeConnect({ channelId: "ch1", trackId: "v1", initialFrameId: 142005312012345n + 250n, initialUpstreamFrameId: 7n, data: Uint8Array.of(1, 2, 3) });
  assert.equal(re.length, 107);
  assert.deepEqual(re.subarray(0, 16), fromHex("63 6e 63 74 68 00 00 00 03 00 00 00 00 00 00 00"));
  assert.deepEqual(re.subarray(80, 107), fromHex("33 c1 2d 30 27 81 00 00 07 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 01 02 03"));
  assert.throws(() => encodeConnect({ channelId: "x".repeat(33), trackId: "v", initialFrameId: 0n }), (e: KmpError) => e.code === "KMP_ERR_ID_TOO_LONG");
});

test("minf: kmp.md §4.1 video and §4.2 audio", () => {
  const videoHeader = fromHex(`
    6d 69 6e 66 30 00 00 00 28 00 00 00 00 00 00 00 00 00 00 00 07 00 00 00 90 5f 01 00 a0 25 26 00
    00 05 d0 02 30 75 00 00 e9 03 00 00 00 00 00 00`);
  assert.deepEqual(
    encodeMediaInfo({ mediaType: "video", codecId: 7, timescale: 90000, bitrate: 2500000, width: 1280, height: 720, frameRate: { num: 30000, denom: 1001 }, ceaCaptions: false, extraData: avcc }),
    new Uint8Array([...videoHeader, ...avcc]),
  );
  assert.deepEqual(encodeMediaInfo({ mediaType: "audio", codecId: 1010, timescale: 90000, bitrate: 128000, channels: 2, bitsPerSample: 16, sampleRate: 44100, channelLayout: 3n, extraData: fromHex("12 10") }), fromHex(`
    6d 69 6e 66 30 00 00 00 02 00 00 00 00 00 00 00 01 00 00 00 f2 03 00 00 90 5f 01 00 00 f4 01 00
    02 00 10 00 44 ac 00 00 03 00 00 00 00 00 00 00 12 10`));
});

const FRAM_KEY = fromHex(`
    66 72 61 6d 28 00 00 00 08 00 00 00 00 00 00 00 c8 3f a7 16 27 8b 00 00 80 8a a9 00 00 00 00 00
    01 00 00 00 8e 17 00 00 00 00 00 04 65 88 84 00`);
const FRAM_NEG = fromHex(`
    66 72 61 6d 28 00 00 00 01 00 00 00 00 00 00 00 c8 3f a7 16 27 8b 00 00 80 8a a9 00 00 00 00 00
    00 00 00 00 4c ff ff ff aa`);
const MINF_AUDIO = fromHex(`
    6d 69 6e 66 30 00 00 00 02 00 00 00 00 00 00 00 01 00 00 00 f2 03 00 00 90 5f 01 00 00 f4 01 00
    02 00 10 00 44 ac 00 00 03 00 00 00 00 00 00 00 12 10`);

test("fram: kmp.md §5.1-5.3; eost and null", () => {
  assert.deepEqual(encodeFrame({ created: 153000000045000, dts: 11111040, key: true, ptsDelay: 6030, data: fromHex("00 00 00 04 65 88 84 00") }), fromHex(`
    66 72 61 6d 28 00 00 00 08 00 00 00 00 00 00 00 c8 3f a7 16 27 8b 00 00 80 8a a9 00 00 00 00 00
    01 00 00 00 8e 17 00 00 00 00 00 04 65 88 84 00`));
  assert.deepEqual(encodeFrame({ created: 153000000045000, dts: 11111040, key: false, ptsDelay: -180, data: fromHex("aa") }), fromHex(`
    66 72 61 6d 28 00 00 00 01 00 00 00 00 00 00 00 c8 3f a7 16 27 8b 00 00 80 8a a9 00 00 00 00 00
    00 00 00 00 4c ff ff ff aa`));
  assert.deepEqual(EOST, fromHex("65 6f 73 74 10 00 00 00 00 00 00 00 00 00 00 00"));
  assert.deepEqual(NULL_PACKET, fromHex("6e 75 6c 6c 10 00 00 00 00 00 00 00 00 00 00 00"));
});

test("ackf: kmp.md §8 example, strict validation, any split", () => {
  const ex = fromHex("61 63 6b 66 28 00 00 00 00 00 00 00 00 00 00 00 9d c0 2d 30 27 81 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
  assert.deepEqual(parseAck(ex), { frameId: 142005312012445n, upstreamFrameId: 0n, offset: 0 });
  assert.deepEqual(encodeAck({ frameId: 142005312012445n, upstreamFrameId: 0n, offset: 0 }), ex);
  const bad = (mut: (b: Uint8Array) => void) => {
    const b = ex.slice();
    mut(b);
    assert.throws(() => parseAck(b), (e: KmpError) => e.code === "KMP_ERR_BAD_ACK");
  };
  bad((b) => (b[0] = 0x66));
  bad((b) => (b[4] = 0x30));
  bad((b) => (b[8] = 1));
  const two = new Uint8Array([...ex, ...encodeAck({ frameId: 5n, upstreamFrameId: 6n, offset: 7 })]);
  for (const step of [1, 3, 39, 40, 80]) {
    const r = new AckReader();
    const got = [];
    for (let i = 0; i < two.length; i += step) got.push(...r.push(two.subarray(i, i + step)));
    assert.deepEqual(got.map((a) => a.frameId), [142005312012445n, 5n], `step ${step}`);
  }
});

test("muxBatch (the KmpMuxer's transform): a batch of writes becomes the spec's minf and fram bytes, one header buffer per batch, a view per header", () => {
  const writes: TrackWrite[] = [
    {
      mediaInfo: { mediaType: "audio", codecId: 1010, timescale: 90000, bitrate: 128000, channels: 2, bitsPerSample: 16, sampleRate: 44100, channelLayout: 3n, extraData: fromHex("12 10") },
      frame: { created: 153000000045000, dts: 11111040, key: true, ptsDelay: 6030, data: fromHex("00 00 00 04 65 88 84 00") },
    },
    { mediaInfo: null, frame: { created: 153000000045000, dts: 11111040, key: false, ptsDelay: -180, data: fromHex("aa") } },
  ];
  const p = muxBatch(writes);
  const bytes = (i: number) => new Uint8Array([...(p.minf[i] ?? []), ...p.headers[i], ...p.writes[i].frame.data]);
  assert.deepEqual(bytes(0), new Uint8Array([...MINF_AUDIO, ...FRAM_KEY]));
  assert.deepEqual(bytes(1), FRAM_NEG);
  assert.equal(p.headers[0].buffer, p.headers[1].buffer, "both headers in one buffer");
  assert.deepEqual([p.headers[0].byteLength, p.headers[1].byteOffset], [40, 40]);
  // a scratch is reused: the same views, rewritten
  const scratch = new HeaderScratch();
  const a = muxBatch(writes, scratch);
  const b = muxBatch([writes[1]], scratch);
  assert.equal(b.headers[0], a.headers[0], "the same view for the same slot");
  assert.deepEqual(b.headers[0], FRAM_NEG.subarray(0, 40));
  assert.equal(p.bytes, MINF_AUDIO.length + FRAM_KEY.length + FRAM_NEG.length);
  // the frame data is not copied
  assert.equal(p.writes[1].frame.data, writes[1].frame.data);
});

test("KmpMuxer.push: straight into the sink while it has room; the rest queues in the stream and reaches the sink in order as it drains", async () => {
  // each frame's data a view into one larger buffer, as frames of one socket read are
  const read = new Uint8Array(1000);
  const frame = (dts: number): TrackWrite => ({ mediaInfo: null, frame: { created: 0, dts, key: false, ptsDelay: 0, data: read.subarray(dts * 100, dts * 100 + 100) } });
  const got: number[] = [];
  const viewsRead: number[] = [];
  let room = 3; // frames the sink takes before it is full
  let wake: (() => void) | null = null;
  const sink: PacketSink = {
    room: () => room,
    append(p: KmpPackets, from: number) {
      for (let i = from; i < p.writes.length; i++) {
        if (room <= 0) return i;
        room--;
        got.push(p.writes[i].frame.dts);
        if (p.writes[i].frame.data.buffer === read.buffer) viewsRead.push(p.writes[i].frame.dts);
      }
      return p.writes.length;
    },
    whenRoom: () => (room > 0 ? Promise.resolve() : new Promise<void>((r) => (wake = r))),
  };
  const muxer = new KmpMuxer(sink, { sinkBytes: 1, queueBytes: 100, scratch: new HeaderScratch() });
  muxer.push([frame(1), frame(2)]);
  assert.deepEqual(got, [1, 2], "appended at once, with no stream hop");
  muxer.push([frame(3), frame(4), frame(5)]);
  assert.deepEqual(got, [1, 2, 3], "the sink filled mid-batch");
  muxer.push([frame(6)]);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got, [1, 2, 3], "nothing passes a full sink");
  assert.ok((muxer.desiredSize ?? 0) <= 0, `the input reports no room (${muxer.desiredSize})`);
  room = 10;
  (wake as (() => void) | null)?.();
  muxer.close();
  await muxer.drained;
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6], "every frame once, in order");
  assert.deepEqual(viewsRead, [1, 2, 3], "a frame that waited in the queue holds only its own bytes (a copy)");
});
