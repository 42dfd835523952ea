import { test } from "node:test";
import assert from "node:assert/strict";
import type { FlvError } from "../../src/flv/errors.ts";
import { fromHex } from "../../src/bytes/bytes.ts";
import { StreamCodecs } from "../../src/flv/stream-codecs.ts";
import { fourccValue, parseAudioTag, parseVideoTag } from "../../src/flv/tag.ts";
import { TrackConverter, type ConvertResult } from "../../src/flv/track-converter.ts";

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const now = () => 1;

/** A stream's codec states and the converter of its track 0, as the session builds them. */
function track(mediaType: "video" | "audio", codecs = new StreamCodecs()) {
  return { codecs, conv: new TrackConverter({ mediaType, timescale: 90000, audioSyncMarginMs: 2, state: codecs.of(0) }) };
}
const video = (codecs?: StreamCodecs) => track("video", codecs);

/** One message as the session passes it: every tag through the codec states, track 0's into the converter. */
function pass(t: { codecs: StreamCodecs; conv: TrackConverter }, p: Uint8Array, ts: number): ConvertResult {
  const tag = t.codecs.onMedia(t.conv.mediaType === "video", p).find((x) => x.trackId === 0);
  return tag ? t.conv.convertTag(tag, ts, { created: now }) : { kind: "empty" };
}
function feed(t: { codecs: StreamCodecs; conv: TrackConverter }, media: "video" | "audio", payload: number[], ts: number) {
  assert.equal(t.conv.mediaType, media);
  return pass(t, Uint8Array.from(payload), ts);
}

test("legacy H.264: 5 header bytes stripped, key flag, signed composition time, spec §4.3 example", () => {
  const t = video();
  assert.equal(feed(t, "video", [0x17, 0, 0, 0, 0, 1, 0x4d, 0x40, 0x0d, 0xff, 0xe1, 0, 0], 0).kind, "sequence-header");
  const r = feed(t, "video", [0x17, 0x01, 0x00, 0x00, 0x43, 0x00, 0x00, 0x00, 0x04, 0x65, 0x88, 0x84, 0x00], 123456);
  assert.equal(r.kind, "frame");
  if (r.kind !== "frame") return;
  assert.equal(r.frame.dts, 11111040);
  assert.equal(r.frame.ptsDelay, 6030);
  assert.equal(r.frame.key, true);
  assert.deepEqual([...r.frame.data], [0, 0, 0, 4, 0x65, 0x88, 0x84, 0]);
  assert.ok(r.mediaInfo && r.mediaInfo.mediaType === "video" && r.mediaInfo.codecId === 7);
  const neg = feed(t, "video", [0x27, 0x01, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 0x41], 123496);
  assert.ok(neg.kind === "frame" && neg.frame.ptsDelay === -180 && neg.frame.key === false && neg.mediaInfo === null);
});

test("dts: first frame not rebased; 32-bit wrap-around unwraps; backwards steps allowed", () => {
  const t = video();
  const f = (ts: number) => {
    const r = feed(t, "video", [0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41], ts);
    assert.equal(r.kind, "frame");
    return r.kind === "frame" ? r.frame.dts : -1;
  };
  assert.equal(f(0xfffffff0), 0xfffffff0 * 90);
  assert.equal(f(0x10), 0x100000010 * 90);
  assert.equal(f(0x08), 0x100000008 * 90);
});

test("too-short messages are FLV_ERR_SHORT_TAG; empty payloads are dropped", () => {
  for (const p of [[], [0x17, 1, 0], [0xaf]]) {
    assert.throws(() => (p[0] === 0xaf ? parseAudioTag : parseVideoTag)(Uint8Array.from(p)), (e: FlvError) => e.code === "FLV_ERR_SHORT_TAG");
  }
  const t = video();
  assert.equal(feed(t, "video", [0x17, 2, 0, 0, 0], 0).kind, "empty", "AVC end of sequence");
});

test("legacy non-H.264 video: 1 byte stripped, never a key frame (reference rule)", () => {
  const t = video();
  const r = feed(t, "video", [0x12, 9, 9, 9], 0); // Sorenson H.263 key frame
  assert.ok(r.kind === "frame" && r.frame.key === false && r.frame.data.length === 3 && r.mediaInfo?.codecId === 2);
});

test("Enhanced RTMP HEVC: codec 8, 8 bytes stripped with composition time, sequence start is extra data", () => {
  const t = video();
  const hvcc = new Array(23).fill(0).map((_, i) => (i === 21 ? 0x03 : i));
  assert.equal(feed(t, "video", [0x90, ...ascii("hvc1"), ...hvcc], 0).kind, "sequence-header");
  const r = feed(t, "video", [0x91, ...ascii("hvc1"), 0, 0, 0x28, 0, 0, 0, 2, 0x26, 0x01], 40);
  assert.ok(r.kind === "frame");
  if (r.kind !== "frame") return;
  assert.equal(r.mediaInfo?.codecId, 8);
  assert.equal(r.mediaInfo?.extraData.length, 23);
  assert.equal(r.frame.ptsDelay, 40 * 90);
  assert.equal(r.frame.key, true);
  assert.deepEqual([...r.frame.data], [0, 0, 0, 2, 0x26, 0x01]);
  const x = feed(t, "video", [0xa3, ...ascii("hvc1"), 0, 0, 0, 1, 0x02], 80); // CodedFramesX, inter
  assert.ok(x.kind === "frame" && x.frame.ptsDelay === 0 && x.frame.data.length === 5 && x.frame.key === false);
  assert.equal(feed(t, "video", [0x94, ...ascii("hvc1"), 2, 0, 1, 0x41], 80).kind, "empty", "metadata packets are not frames");
});

test("AV1 and VP9 have no KMP codec id: refused with FLV_ERR_UNSUPPORTED_CODEC", () => {
  for (const fc of ["av01", "vp09"]) {
    const t = video();
    assert.throws(() => feed(t, "video", [0x91, ...ascii(fc), 1, 2, 3], 0), (e: FlvError) => e.code === "FLV_ERR_UNSUPPORTED_CODEC");
  }
});

test("Enhanced audio: Opus → 1018 with OpusHead channels and 48 kHz; FLAC refused", () => {
  const t = track("audio");
  const head = [...ascii("OpusHead"), 1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0];
  const seq = Uint8Array.from([0x90, ...ascii("Opus"), ...head]);
  assert.equal(pass(t, seq, 0).kind, "sequence-header");
  const fr = Uint8Array.from([0x91, ...ascii("Opus"), 0xfc, 0xff, 0xfe]);
  const r = pass(t, fr, 20);
  assert.ok(r.kind === "frame" && r.mediaInfo?.mediaType === "audio");
  if (r.kind === "frame" && r.mediaInfo?.mediaType === "audio") {
    assert.deepEqual([r.mediaInfo.codecId, r.mediaInfo.channels, r.mediaInfo.sampleRate, r.mediaInfo.channelLayout], [1018, 1, 48000, 4n]);
    assert.deepEqual([...r.frame.data], [0xfc, 0xff, 0xfe]);
  }
  assert.throws(() => pass(track("audio"), Uint8Array.from([0x91, ...ascii("fLaC"), 1]), 0), (e: FlvError) => e.code === "FLV_ERR_UNSUPPORTED_CODEC");
});

test("multitrack and ModEx headers are parsed; track 0 is forwarded", () => {
  // ModEx (packet type 7) with a 3-byte nanosecond offset, then CodedFrames of hvc1
  const modex = Uint8Array.from([0x97, 2, 0x00, 0x01, 0xf4, 0x01, ...ascii("hvc1"), 0, 0, 0, 9, 9]);
  const t = parseVideoTag(modex);
  assert.deepEqual([t.kind, t.fourcc, t.timestampOffsetNs, t.data.length], ["frame", "hvc1", 500, 2]);
  // multitrack, one track (type 0), CodedFramesX, avc1, track id 0
  const mt = Uint8Array.from([0x96, 0x03, ...ascii("avc1"), 0, 0, 0, 0, 1, 0x65]);
  const m = parseVideoTag(mt);
  assert.deepEqual([m.kind, m.fourcc, m.trackId, m.data.length], ["frame", "avc1", 0, 5]);
  // many tracks (type 1): first track id 1 with a 3-byte size
  const many = Uint8Array.from([0x96, 0x11, ...ascii("hvc1"), 1, 0, 0, 5, 0, 0, 0, 1, 2]);
  const mm = parseVideoTag(many);
  assert.deepEqual([mm.trackId, mm.cts, mm.data.length], [1, 0, 2]);
  assert.equal(fourccValue("hvc1"), 0x31637668);
});

test("AAC sync reproduces the fixtures' dts sequence (5130, 7200, 9289, 11379, 13469)", () => {
  const t = track("audio");
  pass(t, Uint8Array.of(0xaf, 0, 0x12, 0x10), 0);
  const out: number[] = [];
  for (const ts of [57, 80, 103, 126, 149]) {
    const r = pass(t, Uint8Array.of(0xaf, 1, 0x21, 0x10), ts);
    if (r.kind === "frame") out.push(r.frame.dts);
  }
  assert.deepEqual(out, [5130, 7200, 9289, 11379, 13469]);
});

test("onMetaData: every message overwrites width/height/rates; fps and framerate share one value", () => {
  const s = new StreamCodecs().main;
  s.onMetadata(["@setDataFrame", "onMetaData", { width: 640, height: 360, framerate: 25, fps: 30, videodatarate: 292.9, audiodatarate: 93.75 }]);
  assert.deepEqual([s.width, s.height, s.frameRate, s.videoDataRate], [640, 360, 30, 292.9]);
  s.onMetadata(["onMetaData", { duration: 1 }]);
  assert.deepEqual([s.width, s.height, s.frameRate, s.videoDataRate, s.audioDataRate], [0, 0, 0, 0, 0]);
});

test("dts keeps increasing across ffmpeg's 2^31 ms wrap and RTMP's 2^32 ms wrap (a 30-day channel)", () => {
  const t = video();
  const f = (ts: number) => {
    const r = feed(t, "video", [0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41], ts);
    return r.kind === "frame" ? r.frame.dts : -1;
  };
  // ffmpeg: 0x7fffffe0 → 0x10 (masked extension byte); then on past 2^32 of real time
  assert.equal(f(0x7fffffe0), 0x7fffffe0 * 90);
  assert.equal(f(0x10), 0x80000010 * 90);
  assert.equal(f(0x7ffffff0), (0x80000000 + 0x7ffffff0) * 90);
  assert.equal(f(0x20), (0x100000000 + 0x20) * 90);
  // 30 days of 40 ms steps through both kinds of wrap never go back
  const u = video();
  let prev = -1;
  const step = 40 * 1000 * 60 * 60; // an hour of 40 ms frames in one jump per sample
  for (let ms = 0; ms <= 30 * 86_400_000; ms += step / 1000) {
    const r = feed(u, "video", [0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41], ms % 0x8000_0000);
    const dts = r.kind === "frame" ? r.frame.dts : -1;
    assert.ok(dts > prev, `dts went back at ${ms} ms`);
    assert.equal(dts, ms * 90);
    prev = dts;
  }
});

test("onMetaData never overrides the SPS size, whatever the order of the tags", () => {
  const avcc = fromHex("01 64 00 0b ff e1 00 19 67 64 00 0b ac d9 42 84 7e 5c 04 40 00 00 03 00 40 00 00 07 83 c5 0a 65 80 01 00 04 68 ef bc b0");
  for (const metadataFirst of [true, false]) {
    const codecs = new StreamCodecs();
    const meta = ["@setDataFrame", "onMetaData", { width: 999, height: 777, videocodecid: 7 }];
    if (metadataFirst) codecs.onMetadata(meta);
    codecs.onMedia(true, Uint8Array.from([0x17, 0, 0, 0, 0, ...avcc]));
    if (!metadataFirst) codecs.onMetadata(meta);
    assert.deepEqual([codecs.main.width, codecs.main.height], [160, 120], `metadata ${metadataFirst ? "before" : "after"} the SPS`);
  }
});
