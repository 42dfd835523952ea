import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHex } from "../../src/bytes/bytes.ts";
import { readFlv } from "../../src/flv/reader.ts";
import { requireTool, run } from "../helpers/proc.ts";
import { parseAsc } from "../../src/codec/aac.ts";
import { parseAc3Frame } from "../../src/codec/ac3.ts";
import { parseAvcConfig, unescapeRbsp } from "../../src/codec/avc.ts";
import { parseHevcConfig, parseHevcSpsSize } from "../../src/codec/hevc.ts";
import { parseVideoTags } from "../../src/flv/tag.ts";
import { FIXTURES, requireShared } from "../helpers/paths.ts";
import { hasCaptions } from "../../src/codec/captions.ts";
import { toRational } from "../../src/codec/frame-rate.ts";
import { frameRateText, mediaInfoJson } from "../../src/codec/media-info-json.ts";

test("AudioSpecificConfig: LC, explicit SBR extension rate, mono 48k, escape object type", () => {
  assert.deepEqual(parseAsc(fromHex("12 10")), { objectType: 2, sampleRate: 44100, channelConfig: 2 });
  assert.deepEqual(parseAsc(fromHex("12 10 56 e5 00")), { objectType: 2, sampleRate: 44100, channelConfig: 2 });
  assert.deepEqual(parseAsc(fromHex("11 88")), { objectType: 2, sampleRate: 48000, channelConfig: 1 });
  // HE-AAC (object type 5): 24 kHz core, extension 48 kHz, then AAC LC
  assert.deepEqual(parseAsc(fromHex("2b 11 88 00")), { objectType: 2, sampleRate: 48000, channelConfig: 2 });
  // explicit 24-bit frequency (index 15): 7350*... use 22050 = 0x005622
  assert.equal(parseAsc(fromHex("17 80 2b 11 00"))?.sampleRate, 22050);
});

test("AVC config record: SPS size, profile, NAL length (fixture s01 avcC)", () => {
  const rec = fromHex("014d400dffe10018674d400deca0a0fd80880000030008000003019078a14cb001000468ebecb2");
  assert.deepEqual(parseAvcConfig(rec), { profile: 0x4d, compat: 0x40, level: 0x0d, nalLengthSize: 4, width: 320, height: 240 });
  // high profile with cropping: 1920x1080 (1088 coded, crop bottom 4)
  const high = fromHex("0164002affe1001b6764002aacd940780227e5c044000003000400000300f03c60c65801000568ebecb22c");
  assert.deepEqual([parseAvcConfig(high)?.width, parseAvcConfig(high)?.height], [1920, 1080]);
  assert.equal(parseAvcConfig(fromHex("01 64")), null);
});

test("frame rate: continued fractions with denominators up to 1e6 (spec §3.3)", () => {
  const cases: [number, number, number][] = [[30, 30, 1], [29.97, 2997, 100], [23.976, 2997, 125], [59.94, 2997, 50], [30000 / 1001, 30000, 1001], [12.5, 25, 2], [29.96969696969697, 989, 33], [0, 0, 1]];
  for (const [d, n, den] of cases) assert.deepEqual(toRational(d), { num: n, denom: den }, String(d));
  assert.equal(frameRateText(25, 1), "25.00");
  assert.equal(frameRateText(989, 33), "29.96");
  assert.equal(frameRateText(30000, 1001), "29.97");
  assert.equal(frameRateText(0, 1), "0.00");
});

test("media_info JSON: key order and number formats", () => {
  const v = mediaInfoJson({ mediaType: "video", codecId: 7, timescale: 90000, bitrate: 292000, width: 320, height: 240, frameRate: { num: 25, denom: 1 }, ceaCaptions: false, extraData: fromHex("0164") });
  assert.equal(v, '{"media_type":"video","bitrate":292000,"codec_id":7,"extra_data":"0164","width":320,"height":240,"frame_rate":25.00,"cea_captions":false}');
  const a = mediaInfoJson({ mediaType: "audio", codecId: 1002, timescale: 90000, bitrate: 128000, channels: 1, bitsPerSample: 16, sampleRate: 44100, channelLayout: 4n, extraData: new Uint8Array(0) });
  assert.equal(a, '{"media_type":"audio","bitrate":128000,"codec_id":1002,"extra_data":"","channels":1,"channel_layout":"4","bits_per_sample":16,"sample_rate":44100}');
});

test("CEA-608/708 detection: GA94 user data in an H.264 SEI", () => {
  const sei = [0x06, 0x04, 0x0b, 0xb5, 0x00, 0x31, 0x47, 0x41, 0x39, 0x34, 0x03, 0x01, 0x02, 0x03, 0x80];
  const nals = Uint8Array.from([0, 0, 0, sei.length, ...sei]);
  assert.equal(hasCaptions(nals, 4, false), true);
  const other = Uint8Array.from([0, 0, 0, 5, 0x06, 0x05, 0x01, 0x00, 0x80]);
  assert.equal(hasCaptions(other, 4, false), false);
});

test("H.264 from a real encoder: the SPS crop in the units of 4:2:0, 4:2:2, 4:4:4 and monochrome, interlaced too", async () => {
  await requireTool("ffmpeg");
  const dir = mkdtempSync(join(tmpdir(), "sps-"));
  const cases = [
    { pix: "yuv420p", extra: [] as string[], want: [640, 360] },
    { pix: "yuv422p", extra: [], want: [640, 360] },
    { pix: "yuv444p", extra: [], want: [640, 360] },
    { pix: "gray", extra: [], want: [640, 360] },
    { pix: "yuv420p", extra: ["-flags", "+ildct+ilme", "-x264opts", "interlaced=1"], want: [640, 360] },
    { pix: "yuv444p", extra: [], want: [1278, 718], size: "1278x718" },
  ];
  try {
    for (const c of cases) {
      const out = join(dir, `${cases.indexOf(c)}-${c.pix}.flv`);
      const r = await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `testsrc2=size=${c.size ?? "640x360"}:rate=25`, "-frames:v", "3",
        "-c:v", "libx264", "-pix_fmt", c.pix, ...c.extra, "-f", "flv", out]);
      assert.equal(r.code, 0, r.stderr);
      const seq = [...readFlv(new Uint8Array(readFileSync(out)))].find((t) => t.type === 9 && t.body[1] === 0)!;
      const cfg = parseAvcConfig(seq.body.subarray(5))!;
      assert.deepEqual([cfg.width, cfg.height], c.want, `${c.pix} ${c.extra.join(" ")} (profile ${cfg.profile})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("AC-3 / E-AC-3 from a real encoder: rate from fscod, channels and layout from acmod + lfeon", async () => {
  await requireTool("ffmpeg");
  const dir = mkdtempSync(join(tmpdir(), "ac3-"));
  const cases = [
    { codec: "ac3", layout: "5.1(side)", rate: 44100, want: { sampleRate: 44100, channels: 6, channelLayout: 0x60fn } },
    { codec: "ac3", layout: "stereo", rate: 48000, want: { sampleRate: 48000, channels: 2, channelLayout: 0x3n } },
    { codec: "ac3", layout: "mono", rate: 32000, want: { sampleRate: 32000, channels: 1, channelLayout: 0x4n } },
    { codec: "eac3", layout: "5.1(side)", rate: 48000, want: { sampleRate: 48000, channels: 6, channelLayout: 0x60fn } },
    { codec: "eac3", layout: "stereo", rate: 44100, want: { sampleRate: 44100, channels: 2, channelLayout: 0x3n } },
  ];
  try {
    for (const [i, c] of cases.entries()) {
      const out = join(dir, `${i}.${c.codec}`);
      const r = await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=${c.rate}:duration=0.2`,
        "-af", `aformat=channel_layouts=${c.layout}`, "-c:a", c.codec, "-f", c.codec, out]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(parseAc3Frame(new Uint8Array(readFileSync(out))), c.want, `${c.codec} ${c.layout} ${c.rate}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(parseAc3Frame(fromHex("0b 78 00 00 00 00 00 00")), null, "not a sync word");
});

test("HEVC from real encoders: the SPS size with its conformance window (x265 Annex B; ffmpeg 9 and GStreamer hvcC)", async () => {
  await requireTool("ffmpeg");
  requireShared();
  const dir = mkdtempSync(join(tmpdir(), "hevc-"));
  const cases = [
    { size: "640x360", pix: "yuv420p" },
    { size: "1278x718", pix: "yuv420p" },
    { size: "640x360", pix: "yuv444p" },
    { size: "1278x718", pix: "yuv422p" },
  ];
  try {
    for (const [i, c] of cases.entries()) {
      const out = join(dir, `${i}.hevc`);
      const r = await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `testsrc2=size=${c.size}:rate=25`, "-frames:v", "2",
        "-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", c.pix, "-f", "hevc", out]);
      assert.equal(r.code, 0, r.stderr);
      const b = new Uint8Array(readFileSync(out));
      // the first SPS NAL (type 33) of the Annex-B stream
      let sps: Uint8Array | null = null;
      for (let p = 0; p + 4 < b.length && !sps; p++) {
        if (b[p] === 0 && b[p + 1] === 0 && b[p + 2] === 1 && ((b[p + 3] >> 1) & 0x3f) === 33) {
          let e = p + 3;
          while (e + 3 < b.length && !(b[e] === 0 && b[e + 1] === 0 && (b[e + 2] === 1 || (b[e + 2] === 0 && b[e + 3] === 1)))) e++;
          sps = b.subarray(p + 3, e);
        }
      }
      assert.ok(sps, `${c.size} ${c.pix}: no SPS`);
      const [w, h] = c.size.split("x").map(Number);
      assert.deepEqual(parseHevcSpsSize(unescapeRbsp(sps.subarray(2))), { width: w, height: h }, `${c.size} ${c.pix}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const f of ["hevc_aac.flv", "gst_hevc_aac.flv", "gst_mt_hevc_aac_track0.flv", "hevc_opus_mono.flv"]) {
    const seq = [...readFlv(new Uint8Array(readFileSync(join(FIXTURES, "ertmp", f))))].map((t) => (t.type === 9 ? parseVideoTags(t.body) : [])).flat().find((t) => t.kind === "sequence-header")!;
    const cfg = parseHevcConfig(seq.data)!;
    assert.deepEqual([cfg.width, cfg.height], [320, 240], f);
  }
});
