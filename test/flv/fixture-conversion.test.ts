/**
 * The conversion RTMP → KMP is a per-frame function of the input (fixtures README §4): feed each
 * fixture's raw RTMP through the codec state and converters, encode with our KMP encoders, and
 * the result must be the reference's .kmp file byte for byte (with `created` taken from the file).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { mediaInfoJson } from "../../src/codec/media-info-json.ts";
import { StreamCodecs } from "../../src/flv/stream-codecs.ts";
import { TrackConverter } from "../../src/flv/track-converter.ts";
import { encodeFrame, encodeMediaInfo, EOST } from "../../src/kmp/packets.ts";
import { ChunkDecoder, type RtmpMessage } from "../../src/rtmp/chunk-decoder.ts";
import { decodeCommand } from "../../src/rtmp/commands.ts";
import { afterHandshake, rawRtmpScenarios, readBin } from "../helpers/fixtures.ts";
import { requireShared, SCENARIOS } from "../helpers/paths.ts";

function messages(scenario: string): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  new ChunkDecoder({ onMessage: (m) => out.push(m) }).push(afterHandshake(readBin(scenario, "conn1_c2s.bin")));
  return out;
}

type Packet = { type: string; bytes: Uint8Array };

function packets(file: Uint8Array): Packet[] {
  const out: Packet[] = [];
  let off = 0;
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  while (off + 16 <= file.length) {
    const hs = v.getUint32(off + 4, true);
    const ds = v.getUint32(off + 8, true);
    out.push({ type: new TextDecoder().decode(file.subarray(off, off + 4)), bytes: file.subarray(off, off + hs + ds) });
    off += hs + ds;
  }
  return out;
}

/** Every track the reference sent KMP for (an audio-only input has no video .kmp, a rejected connect none). */
const cases = rawRtmpScenarios().flatMap((scenario) =>
  (["video", "audio"] as const)
    .map((media) => ({ scenario, media, kmpPath: join(SCENARIOS, scenario, "kmp", `ch1_${media === "video" ? "v1" : "a1"}_c1.kmp`) }))
    .filter((c) => existsSync(c.kmpPath))
);

test("the fixtures give every captured track as a case", () => {
  requireShared();
  assert.ok(cases.length >= 8, `${cases.length} cases`);
  assert.ok(cases.some((c) => c.media === "video") && cases.some((c) => c.media === "audio"));
});

for (const { scenario, media, kmpPath } of cases) {
  {
    const ref = new Uint8Array(readFileSync(kmpPath));
    test(`${scenario} ${media}: our packets equal the reference's .kmp byte for byte`, () => {
      const refPackets = packets(ref).slice(1); // after cnct
      const createdOf = refPackets.filter((p) => p.type === "fram").map((p) => new DataView(p.bytes.buffer, p.bytes.byteOffset).getBigInt64(16, true)).map(Number);
      const codecs = new StreamCodecs();
      const conv = new TrackConverter({ mediaType: media, timescale: 90000, audioSyncMarginMs: 2, state: codecs.of(0) });
      const ours: Uint8Array[] = [];
      let fi = 0;
      let mediaInfoText = "";
      for (const m of messages(scenario)) {
        if (m.type === 18 || m.type === 15) codecs.onMetadata(decodeCommand(m).all);
        if (m.type !== 8 && m.type !== 9) continue;
        // as the session: every tag through the codec states, this track's into its converter
        const tag = codecs.onMedia(m.type === 9, m.payload).find((t) => t.trackId === 0);
        if (!tag || (m.type === 9) !== (media === "video")) continue;
        const r = conv.convertTag(tag, m.timestamp, { created: () => createdOf[fi] ?? 0 });
        if (r.kind !== "frame") continue;
        if (r.mediaInfo) {
          ours.push(encodeMediaInfo(r.mediaInfo));
          mediaInfoText ||= mediaInfoJson(r.mediaInfo);
        }
        ours.push(encodeFrame(r.frame));
        fi++;
      }
      ours.push(EOST);
      const refHasEost = refPackets.at(-1)?.type === "eost";
      const expected = refHasEost ? refPackets : refPackets.concat({ type: "eost", bytes: EOST });
      assert.equal(ours.length, expected.length, "packet count");
      for (let i = 0; i < ours.length; i++) assert.deepEqual(ours[i], expected[i].bytes, `packet ${i} (${expected[i].type})`);
      // the publish body's media_info is the same JSON text
      const ctl = readFileSync(join(SCENARIOS, scenario, "ctl.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
      const pub = ctl.find((e) => e.path === "/publish" && e.body?.media_info?.media_type === media);
      const raw: string = pub.body_raw;
      assert.equal(raw.slice(raw.indexOf('"media_info":') + 13, -1), mediaInfoText);
    });
  }
}
