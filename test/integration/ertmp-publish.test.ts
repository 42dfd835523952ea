/**
 * Enhanced RTMP from real encoders (../shared/fixtures/ertmp/: ffmpeg 9 and GStreamer 1.28 FLV
 * files): each file is published tag by tag — every FLV tag one RTMP message — through the real
 * server to an acking receiver. Every track gets its own publish with the media info as encoded,
 * its own minf and all its frames; a track KMP cannot carry stops alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readFlv } from "../../src/flv/reader.ts";
import { parseAudioTags, parseVideoTags } from "../../src/flv/tag.ts";
import { FIXTURES, requireShared } from "../helpers/paths.ts";
import { concat } from "../../src/bytes/bytes.ts";
import { amf0, chunk, publishPreamble, RawClient } from "../helpers/raw-client.ts";
import { md5 } from "../helpers/expect-frames.ts";
import { startStack } from "../helpers/stack.ts";

const ERTMP = join(FIXTURES, "ertmp");
const CHUNK = 4096;

type Video = { codec_id: number; width: number; height: number };
type Audio = { codec_id: number; sample_rate: number; channels: number; channel_layout: string };
/** What the README of ../shared/fixtures/ertmp lists for each file, per track key; a string = refused codec. */
const EXPECTED: Record<string, Record<string, Video | Audio | string>> = {
  "hevc_aac.flv": { video: { codec_id: 8, width: 320, height: 240 }, audio: { codec_id: 1010, sample_rate: 48000, channels: 2, channel_layout: "3" } },
  "av1_aac.flv": { video: "av01", audio: { codec_id: 1010, sample_rate: 48000, channels: 2, channel_layout: "3" } },
  "vp9_aac.flv": { video: "vp09", audio: { codec_id: 1010, sample_rate: 48000, channels: 2, channel_layout: "3" } },
  "h264_opus.flv": { video: { codec_id: 7, width: 320, height: 240 }, audio: { codec_id: 1018, sample_rate: 48000, channels: 2, channel_layout: "3" } },
  "h264_flac.flv": { video: { codec_id: 7, width: 320, height: 240 }, audio: "fLaC" },
  "h264_ac3.flv": { video: { codec_id: 7, width: 320, height: 240 }, audio: { codec_id: 1016, sample_rate: 48000, channels: 2, channel_layout: "3" } },
  "h264_eac3.flv": { video: { codec_id: 7, width: 320, height: 240 }, audio: { codec_id: 1017, sample_rate: 48000, channels: 2, channel_layout: "3" } },
  "hevc_opus_mono.flv": { video: { codec_id: 8, width: 320, height: 240 }, audio: { codec_id: 1018, sample_rate: 48000, channels: 1, channel_layout: "4" } },
  "mt_h264_2aac.flv": {
    video: { codec_id: 7, width: 320, height: 240 },
    audio: { codec_id: 1010, sample_rate: 48000, channels: 2, channel_layout: "3" },
    "audio/1": { codec_id: 1010, sample_rate: 44100, channels: 1, channel_layout: "4" },
  },
  "mt_2h264_aac.flv": {
    video: { codec_id: 7, width: 320, height: 240 },
    "video/1": { codec_id: 7, width: 160, height: 120 },
    audio: { codec_id: 1010, sample_rate: 48000, channels: 2, channel_layout: "3" },
  },
  "gst_hevc_aac.flv": { video: { codec_id: 8, width: 320, height: 240 }, audio: { codec_id: 1010, sample_rate: 48000, channels: 2, channel_layout: "3" } },
  "gst_mt_hevc_aac_track0.flv": { video: { codec_id: 8, width: 320, height: 240 }, audio: { codec_id: 1010, sample_rate: 48000, channels: 2, channel_layout: "3" } },
};

/** The coded frames of each track of a file, in order: md5 of what KMP must carry. */
function framesOf(file: Uint8Array): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of readFlv(file)) {
    if (t.type !== 8 && t.type !== 9) continue;
    const media = t.type === 9 ? "video" : "audio";
    for (const tag of t.type === 9 ? parseVideoTags(t.body) : parseAudioTags(t.body)) {
      if (tag.kind !== "frame" || tag.data.length === 0) continue;
      const key = tag.trackId === 0 ? media : `${media}/${tag.trackId}`;
      if (!out.has(key)) out.set(key, []);
      out.get(key)!.push(md5(tag.data));
    }
  }
  return out;
}

/** Every FLV tag (metadata, audio, video) as one RTMP message, then deleteStream. */
function publishBytes(file: Uint8Array, name: string): Uint8Array {
  const parts = publishPreamble(name, CHUNK);
  for (const t of readFlv(file)) {
    if (t.type === 18) parts.push(chunk(5, 18, 1, t.timestamp, new Uint8Array([...amf0("@setDataFrame"), ...t.body]), CHUNK));
    else if (t.type === 8 || t.type === 9) parts.push(chunk(t.type === 9 ? 6 : 4, t.type, 1, t.timestamp, t.body, CHUNK));
  }
  parts.push(chunk(3, 20, 0, 0, amf0("deleteStream", 4, null, 1), CHUNK));
  return concat(parts);
}

test("every Enhanced-RTMP capture has an expectation (and the other way round)", () => {
  requireShared();
  assert.ok(existsSync(ERTMP), `${ERTMP} is missing`);
  const files = (readFileSync(join(ERTMP, "README.md"), "utf8").match(/`([\w.]+\.flv)`/g) ?? []).map((s) => s.slice(1, -1)).sort();
  assert.ok(files.length >= 12, `only ${files.length} files in the README`);
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
});

for (const [file, tracks] of Object.entries(EXPECTED)) {
  test(`E-RTMP ${file}: every track its own publish, minf and frames; unsupported tracks stop alone`, { timeout: 30_000 }, async () => {
    requireShared();
    const bytes = new Uint8Array(readFileSync(join(ERTMP, file)));
    const frames = framesOf(bytes);
    const stack = await startStack();
    try {
      const name = file.replace(/\W/g, "_").slice(0, 30);
      const supported = Object.entries(tracks).filter(([, e]) => typeof e !== "string");
      const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
      await c.handshake();
      await c.write(publishBytes(bytes, name));
      await stack.controller.waitFor(() => stack.controller.events("unpublish").length === supported.length, 15_000);
      const publishes = stack.controller.events("publish");
      assert.equal(publishes.length, supported.length, `publish events: ${publishes.map((p) => p.input_id)}`);
      for (const [key, want] of Object.entries(tracks)) {
        const inputId = `rtmp://127.0.0.1/live/${name}/${key}`;
        const pub = publishes.find((p) => p.input_id === inputId);
        if (typeof want === "string") {
          assert.equal(pub, undefined, `${key}: an unsupported track is not published`);
          assert.equal(stack.logs.filter((l) => l.includes(`codec '${want}' cannot be forwarded`)).length, 1, `${key}: one log line naming ${want}`);
          continue;
        }
        assert.ok(pub, `${key}: no publish for ${inputId}`);
        const mi = pub.media_info as Record<string, unknown>;
        for (const [k, v] of Object.entries(want)) assert.equal(mi[k], v, `${key}: media_info.${k}`);
        if (key.includes("/")) assert.equal(pub.multitrack_id, Number(key.split("/")[1]), `${key}: multitrack_id`);
        else assert.equal(pub.multitrack_id, undefined);
        // the receiver: minf as announced, then every frame of that track, byte for byte
        const trackId = `${key.startsWith("video") ? "v" : "a"}${key.includes("/") ? Number(key.split("/")[1]) + 1 : 1}`;
        const conns = stack.receiver.connections.filter((x) => x.channelId === name && x.trackId === trackId);
        assert.equal(conns.length, 1, `${key}: one KMP connection for ${trackId}`);
        const minf = conns[0].packets.find((p) => p.type === "minf")!;
        const hv = new DataView(minf.header.buffer, minf.header.byteOffset);
        assert.equal(hv.getUint32(20, true), want.codec_id, `${key}: minf codec id`);
        if ("width" in want) assert.deepEqual([hv.getUint16(32, true), hv.getUint16(34, true)], [want.width, want.height], `${key}: minf size`);
        else assert.deepEqual([hv.getUint16(32, true), hv.getUint32(36, true)], [want.channels, want.sample_rate], `${key}: minf channels, rate`);
        const got = conns[0].packets.filter((p) => p.type === "fram").map((p) => md5(p.data));
        const sent = frames.get(key) ?? [];
        assert.ok(sent.length > 0, `${key}: the file has frames`);
        if (key.startsWith("video")) assert.equal(sent.length, 50, `${key}: 2 s at 25 fps`);
        assert.deepEqual(got, sent, `${key}: frames`);
      }
      assert.deepEqual(stack.controller.events("unpublish").map((e) => e.reason), supported.map(() => "rtmp_close"), "the session ended when the client ended it");
      c.close();
    } finally {
      await stack.close();
    }
  });
}
