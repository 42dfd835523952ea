/**
 * Fuzz targets: every parser that reads bytes from a peer or a file, each with seeds taken from
 * the real captures in ../shared/fixtures/. `run` feeds one input to the program's own code;
 * anything it throws that is not a CodedError is a crash.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BufferPool } from "../src/bytes/buffer-pool.ts";
import { equals as equalBytes } from "../src/bytes/bytes.ts";
import { parseAsc } from "../src/codec/aac.ts";
import { parseAvcConfig } from "../src/codec/avc.ts";
import { parseHevcConfig } from "../src/codec/hevc.ts";
import { parseNginxConf } from "../src/config/index.ts";
import { parseConnectAnswer } from "../src/control/connect.ts";
import { connectBody, publishBody, rtmpInfoJson } from "../src/control/events.ts";
import { parseControlJson } from "../src/control/json.ts";
import { parsePublishAnswer, parseRepublishAnswer } from "../src/control/track-control.ts";
import { StreamCodecs } from "../src/flv/stream-codecs.ts";
import { readFlv } from "../src/flv/reader.ts";
import { parseAudioTag, parseVideoTag } from "../src/flv/tag.ts";
import { kmpCodecId, TrackConverter } from "../src/flv/track-converter.ts";
import { AckReader, encodeAck } from "../src/kmp/packets.ts";
import { decodeAmf0 } from "../src/rtmp/amf0.ts";
import { decodeAmf3Value } from "../src/rtmp/amf3.ts";
import { ChunkDecoder, type RtmpMessage } from "../src/rtmp/chunk-decoder.ts";
import { decodeCommand, parseConnect } from "../src/rtmp/commands.ts";
import { HandshakeServer } from "../src/rtmp/handshake.ts";
import { pieces, type Rng } from "./mutate.ts";

export type Target = {
  name: string;
  seeds: Uint8Array[];
  /** Feeds one input; `rng` decides how it is split where the parser is incremental. */
  run(input: Uint8Array, rng: Rng): void;
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const SHARED = process.env.SHARED_DIR ?? resolve(ROOT, "..", "shared");
const SCENARIOS = join(SHARED, "fixtures", "scenarios");
const FLV_DIRS = [join(SHARED, "fixtures", "inputs"), join(SHARED, "fixtures", "ertmp")];
const HANDSHAKE = 1 + 1536 + 1536;
const utf8 = new TextDecoder();
const enc = new TextEncoder();

function scenarioFiles(rel: string): Uint8Array[] {
  if (!existsSync(SCENARIOS)) return [];
  return readdirSync(SCENARIOS).sort().map((s) => join(SCENARIOS, s, rel)).filter(existsSync).map((p) => new Uint8Array(readFileSync(p)));
}

function flvFiles(): Uint8Array[] {
  return FLV_DIRS.filter(existsSync).flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".flv")).sort().map((f) => new Uint8Array(readFileSync(join(d, f)))));
}

function messagesOf(c2s: Uint8Array): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  const d = new ChunkDecoder({ onMessage: (m) => out.push({ ...m, payload: m.payload.slice() }) });
  try {
    d.push(c2s.subarray(HANDSHAKE));
  } catch { /* a capture cut mid-message */ }
  return out;
}

/** Tags as `type u8, timestamp u32, size u32, body` records: a converter input in one buffer. */
function packTags(tags: { type: number; timestamp: number; body: Uint8Array }[]): Uint8Array {
  let n = 0;
  for (const t of tags) n += 9 + t.body.length;
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const t of tags) {
    out[o] = t.type;
    v.setUint32(o + 1, t.timestamp);
    v.setUint32(o + 5, t.body.length);
    out.set(t.body, o + 9);
    o += 9 + t.body.length;
  }
  return out;
}

function* unpackTags(b: Uint8Array): Generator<{ type: number; timestamp: number; body: Uint8Array }> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 0;
  while (o + 9 <= b.length) {
    const size = Math.min(v.getUint32(o + 5), b.length - o - 9);
    yield { type: b[o], timestamp: v.getUint32(o + 1), body: b.subarray(o + 9, o + 9 + size) };
    o += 9 + size;
  }
}

/** Strict JSON as a controller's parser reads it: valid, and no number outside the doubles. */
export function checkEventBody(body: string): void {
  const walk = (x: unknown): void => {
    if (typeof x === "number" && !Number.isFinite(x)) throw new Error(`non-finite number in event body: ${body.slice(0, 200)}`);
    if (x && typeof x === "object") for (const y of Object.values(x)) walk(y);
  };
  walk(JSON.parse(body));
}

export function loadTargets(): Target[] {
  const c2s = scenarioFiles("rtmp/conn1_c2s.bin");
  const flvs = flvFiles();
  const tags = flvs.map((f) => [...readFlv(f)]);
  const commands = c2s.flatMap((b) => messagesOf(b)).filter((m) => m.type === 20 || m.type === 18).map((m) => m.payload);
  const mediaTags = tags.flatMap((ts) => ts.filter((t) => t.type === 8 || t.type === 9).slice(0, 40).map((t) => Uint8Array.of(t.type, ...t.body.subarray(0, 2048))));
  const configs = tags.flatMap((ts) => ts.filter((t) => (t.type === 9 || t.type === 8) && t.body.length > 5 && (t.body[1] === 0 || (t.body[0] & 0x0f) === 0)).slice(0, 4)
    .map((t) => t.body.subarray(t.type === 9 ? 5 : 2)));
  const answers = scenarioFiles("http_exchanges.jsonl").flatMap((b) =>
    utf8.decode(b).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { response?: string })
      .map((x) => x.response?.split("\r\n\r\n")[1] ?? "").filter((s) => s.startsWith("{")).map((s) => enc.encode(s))
  );
  const track = { app: "live", flashver: "f", swfUrl: "", tcUrl: "rtmp://h/live", pageUrl: "", addr: "127.0.0.1", connection: 1, name: "n", type: "live", args: "" };
  const identity = { inputId: "rtmp://h/live/n/video", rtmpInfoJson: rtmpInfoJson(track) };

  return [
    {
      name: "handshake",
      seeds: c2s.map((b) => b.slice(0, HANDSHAKE + 64)),
      run(input, rng) {
        const hs = new HandshakeServer();
        for (const p of pieces(input, rng)) if (hs.push(p).done) break;
      },
    },
    {
      name: "chunk-decoder",
      seeds: c2s.map((b) => b.slice(HANDSHAKE, HANDSHAKE + 48 * 1024)),
      // differential: a decoder that reassembles in lent buffers (given back, and scribbled
      // over, after every read as the demuxer does) delivers what a plain one delivers
      run(input, rng) {
        const reads = [...pieces(input, rng)];
        const decode = (pool: BufferPool | null) => {
          const got: Uint8Array[] = [];
          const d = new ChunkDecoder({ maxMessage: 1 << 20, buffers: pool ?? undefined, onMessage: (m) => got.push(m.payload.slice()) });
          let error: unknown = null;
          for (const p of reads) {
            try {
              d.push(p);
            } catch (err) {
              error = err;
            }
            for (const b of d.delivered() ?? []) pool!.give(b.fill(0xa5));
            if (error !== null) break;
          }
          return { got, error };
        };
        const plain = decode(null);
        const lent = decode(new BufferPool(1 << 22));
        if (lent.got.length !== plain.got.length || lent.got.some((b, i) => !equalBytes(b, plain.got[i]))) {
          throw new Error(`lent buffers: ${lent.got.length} messages against ${plain.got.length}, or a payload differs`);
        }
        if (String(lent.error) !== String(plain.error)) throw new Error(`lent buffers: error ${String(lent.error)} against ${String(plain.error)}`);
        if (plain.error !== null) throw plain.error;
      },
    },
    {
      name: "amf0-commands",
      seeds: commands,
      run(input) {
        const values = decodeAmf0(input);
        if (values[0] === "connect") {
          const cmd = decodeCommand({ csid: 3, timestamp: 0, type: 20, msid: 0, payload: input });
          const c = parseConnect(cmd.args);
          checkEventBody(connectBody({ app: c.app, flashver: c.flashVer, swfUrl: c.swfUrl, tcUrl: c.tcUrl, pageUrl: c.pageUrl, addr: "127.0.0.1:1", connection: 1 }));
        }
      },
    },
    {
      name: "amf3",
      seeds: [
        Uint8Array.of(0x0a, 0x0b, 0x01, 0x09, 0x77, 0x69, 0x64, 0x74, 0x68, 0x04, 0x82, 0x40, 0x01), // {width: 320}
        Uint8Array.of(0x09, 0x05, 0x01, 0x04, 0x01, 0x06, 0x05, 0x68, 0x69), // [1, "hi"]
        Uint8Array.of(0x05, 0x40, 0x3e, 0, 0, 0, 0, 0, 0, 0x06, 0x07, 0x61, 0x62, 0x63, 0x08, 0x01, 0x42, 0x72, 0, 0, 0, 0, 0, 0),
        ...commands.slice(0, 4),
      ],
      run(input) {
        let pos = 0;
        while (pos < input.length) pos = decodeAmf3Value(input, pos).end;
      },
    },
    {
      name: "flv-tags",
      seeds: mediaTags,
      run(input) {
        if (input.length < 1) return;
        const body = input.subarray(1);
        if (input[0] & 1) parseVideoTag(body);
        else parseAudioTag(body);
      },
    },
    {
      name: "codec-config",
      seeds: configs,
      run(input) {
        parseAvcConfig(input);
        parseHevcConfig(input);
        parseAsc(input);
      },
    },
    {
      name: "conversion-events",
      seeds: tags.map((ts) => packTags(ts.slice(0, 24))),
      run(input) {
        // codec states + one converter per track as the session drives them (a malformed tag
        // ends the stream with its FlvError); every minf becomes a publish body
        const codecs = new StreamCodecs();
        const convs = new Map<string, TrackConverter>();
        for (const t of unpackTags(input)) {
          if (t.type === 18) {
            codecs.onMetadata(decodeAmf0(t.body));
            continue;
          }
          if (t.type !== 8 && t.type !== 9) continue;
          const media = t.type === 9 ? "video" : "audio";
          for (const tag of codecs.onMedia(media === "video", t.body)) {
            if (kmpCodecId(media, tag) === null) continue; // an unsupported track: not published
            const key = `${media}/${tag.trackId}`;
            let conv = convs.get(key);
            if (!conv) convs.set(key, (conv = new TrackConverter({ mediaType: media, timescale: 90000, audioSyncMarginMs: 2, state: codecs.of(tag.trackId) })));
            const r = conv.convertTag(tag, t.timestamp, { created: () => 0 });
            if (r.kind === "frame" && r.mediaInfo) checkEventBody(publishBody(identity, r.mediaInfo));
          }
        }
      },
    },
    {
      name: "ack-reader",
      seeds: [
        encodeAck({ frameId: 10n, upstreamFrameId: 100010n, offset: 7 }),
        Uint8Array.of(...encodeAck({ frameId: 1n, upstreamFrameId: 1n, offset: 0 }), ...encodeAck({ frameId: 2n ** 63n, upstreamFrameId: 0n, offset: 0xffffffff })),
      ],
      run(input, rng) {
        const r = new AckReader();
        for (const p of pieces(input, rng)) r.push(p);
      },
    },
    {
      name: "controller-json",
      seeds: answers,
      run(input) {
        const parsed = parseControlJson(utf8.decode(input));
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return;
        const o = parsed as Record<string, unknown>;
        for (const parse of [parseConnectAnswer, parsePublishAnswer, parseRepublishAnswer]) {
          try {
            parse(o);
          } catch (err) {
            if (!(err instanceof Error && "code" in err)) throw err;
          }
        }
      },
    },
    {
      name: "config",
      seeds: scenarioFiles("nginx.conf"),
      run(input) {
        parseNginxConf(utf8.decode(input), "fuzz.conf");
      },
    },
  ];
}
