import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseNginxConf } from "../../src/config/index.ts";
import type { TrackConfig } from "../../src/config/types.ts";
import { ControlClient } from "../../src/control/client.ts";
import { connectCallback } from "../../src/control/connect.ts";
import { connectBody, rtmpInfoJson, unpublishBody } from "../../src/control/events.ts";
import { jsonString, parseControlJson } from "../../src/control/json.ts";
import { decodeBase64, parseKmpUrl } from "../../src/control/schemas.ts";
import { createTrackControl } from "../../src/control/track-control.ts";
import { CtrlError } from "../../src/control/errors.ts";
import type { MediaInfo } from "../../src/media/types.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { SCENARIOS, requireShared } from "../helpers/paths.ts";

const base = parseNginxConf("rtmp { server { listen 1935; application live { } } }", "t").servers[0].applications[0];

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function controller(handler: Handler): Promise<{ url: string; hits: { time: number; body: string; headers: IncomingMessage["headers"] }[]; close(): Promise<void> }> {
  const hits: { time: number; body: string; headers: IncomingMessage["headers"] }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      hits.push({ time: Date.now(), body, headers: req.headers });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/cb`,
    hits,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections?.();
      server.close(() => r());
    }),
  };
}

const json = (res: ServerResponse, body: unknown, status = 200, type = "application/json") => {
  res.writeHead(status, { "Content-Type": type });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
};

const fast = (o: Partial<TrackConfig> = {}): TrackConfig => ({ ...base, kmp_ctrl_retry_interval: 50, kmp_ctrl_timeout: 300, kmp_ctrl_read_timeout: 300, ...o });
const mi: MediaInfo = { mediaType: "audio", codecId: 1010, timescale: 90000, bitrate: 93000, channels: 2, bitsPerSample: 16, sampleRate: 44100, channelLayout: 3n, extraData: Uint8Array.of(0x12, 0x10, 0x56, 0xe5, 0) };
const identity = { inputId: "rtmp://127.0.0.1:19350/live/streamname_1/audio", rtmpInfoJson: rtmpInfoJson({ app: "live", flashver: "FMLE/3.0 (compatible; Lavf59.27.100)", swfUrl: "", tcUrl: "rtmp://127.0.0.1:19350/live", pageUrl: "", addr: "127.0.0.1", connection: 3, name: "streamname_1", type: "live", args: "arg=value" }) };

test("event bodies equal the reference's captured bodies (s01)", () => {
  requireShared();
  const ctl = readFileSync(join(SCENARIOS, "s01_av_bframes_re", "ctl.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const connect = ctl.find((e) => e.path === "/connect");
  assert.equal(connectBody({ app: "live", flashver: "FMLE/3.0 (compatible; Lavf59.27.100)", swfUrl: "", tcUrl: "rtmp://127.0.0.1:19350/live", pageUrl: "", addr: connect.body.rtmp.addr, connection: 3 }), connect.body_raw);
  const unpub = ctl.find((e) => e.path === "/unpublish" && e.body.input_id.endsWith("/audio"));
  assert.equal(unpublishBody(identity, "rtmp_close"), unpub.body_raw);
  const pub = ctl.find((e) => e.path === "/publish" && e.body.media_info.media_type === "audio");
  assert.ok(pub.body_raw.startsWith(`{"event_type":"publish","input_id":"${identity.inputId}",${identity.rtmpInfoJson},"media_info":`));
});

test("JSON escaping like nginx: quotes, backslashes, control characters; UTF-8 raw", () => {
  assert.equal(jsonString('we"ird\\name_é'), '"we\\"ird\\\\name_é"');
  assert.equal(jsonString("a\nb\tc\u0001"), '"a\\nb\\tc\\u0001"');
});

test("strict answer parsing: duplicate keys, mixed arrays and garbage are invalid", () => {
  assert.deepEqual({ ...(parseControlJson('{"code":"ok","n":[1,2]}') as object) }, { code: "ok", n: [1, 2] });
  for (const bad of ['{"code":"ok","code":"ok"}', '{"a":[1,"x"]}', "{", '{"a":1} x', "<html>"]) {
    assert.throws(() => parseControlJson(bad), (e: CtrlError) => e.code === "CTRL_ERR_BAD_JSON", bad);
  }
});

test("kmp upstream urls and base64 connect data", () => {
  assert.deepEqual(parseKmpUrl("kmp://127.0.0.1:80"), { hostname: "127.0.0.1", port: 80 });
  assert.deepEqual(parseKmpUrl("KMP://[::1]:9000"), { hostname: "::1", port: 9000 });
  assert.deepEqual(parseKmpUrl("127.0.0.1:5"), { hostname: "127.0.0.1", port: 5 });
  for (const bad of ["kmp://example.com:80", "kmp://127.0.0.1", "kmp://127.0.0.1:0", "kmp://300.1.1.1:5", "http://127.0.0.1:5"]) assert.equal(parseKmpUrl(bad), null, bad);
  assert.deepEqual(decodeBase64("AQID"), Uint8Array.of(1, 2, 3));
  assert.equal(decodeBase64("A*=="), null);
});

test("publish: retried on status 500, bad content type, invalid JSON and code != ok — 6 attempts, interval apart", { timeout: 10_000 }, async () => {
  let n = 0;
  const ctl = await controller((_req, res) => {
    n++;
    if (n === 1) return json(res, "x", 500);
    if (n === 2) return json(res, "{}", 200, "text/html");
    if (n === 3) return json(res, "{not json");
    if (n === 4) return json(res, { code: "error", message: "no" });
    if (n === 5) return json(res, { code: "ok", channel_id: "c".repeat(33), track_id: "v1", upstreams: [] });
    return json(res, { code: "OK", channel_id: "ch1", track_id: "v1", upstreams: [{ url: "kmp://127.0.0.1:1", required: "yes" }] });
  });
  try {
    const tc = createTrackControl({ config: fast({ kmp_ctrl_publish_url: ctl.url }), identity, log: silentLogger });
    const a = await tc.publish(mi, new AbortController().signal);
    assert.equal(ctl.hits.length, 6);
    assert.deepEqual(a.upstreams[0], { url: "kmp://127.0.0.1:1", id: "", required: true, resume_from: "last_acked", connect_data: null });
    for (let i = 1; i < 6; i++) assert.ok(ctl.hits[i].time - ctl.hits[i - 1].time >= 45, `attempt ${i + 1} waited the retry interval`);
  } finally {
    await ctl.close();
  }
});

test("publish gives up after kmp_ctrl_retries; slow and oversized answers fail their attempt", { timeout: 15_000 }, async () => {
  const big = { code: "ok", pad: "x".repeat(1024 * 1024) };
  let n = 0;
  const ctl = await controller((_req, res) => {
    n++;
    if (n === 1) return json(res, big); // 1 MB: too large
    if (n === 2) return void setTimeout(() => json(res, { code: "ok" }), 2_000); // past the timeouts
    return json(res, { code: "error" });
  });
  try {
    const tc = createTrackControl({ config: fast({ kmp_ctrl_publish_url: ctl.url, kmp_ctrl_retries: 2 }), identity, log: silentLogger });
    const t0 = Date.now();
    await assert.rejects(tc.publish(mi, new AbortController().signal), (e: CtrlError) => e.code === "CTRL_ERR_CODE");
    assert.equal(ctl.hits.length, 3);
    assert.ok(Date.now() - t0 < 2_000, "the slow attempt was cut by the timeout");
  } finally {
    await ctl.close();
  }
});

test("connect: non-ok code rejects at once with the message; transport failures retry, then 'Internal server error'", { timeout: 10_000 }, async () => {
  const reject = await controller((_req, res) => json(res, { code: "error", message: "rejected by test controller" }));
  const fail = await controller((_req, res) => json(res, "boom", 500));
  try {
    const cfg = fast();
    const r1 = await connectCallback({ url: reject.url, config: cfg, body: "{}", signal: new AbortController().signal, client: new ControlClient(), log: silentLogger });
    assert.deepEqual(r1, { ok: false, description: "rejected by test controller" });
    assert.equal(reject.hits.length, 1);
    const r2 = await connectCallback({ url: fail.url, config: cfg, body: "{}", signal: new AbortController().signal, client: new ControlClient(), log: silentLogger });
    assert.deepEqual(r2, { ok: false, description: "Internal server error" });
    assert.equal(fail.hits.length, 6);
  } finally {
    await reject.close();
    await fail.close();
  }
});

test("kmp_ctrl_add_header goes out in order; abort cancels an in-flight request", { timeout: 10_000 }, async () => {
  const ctl = await controller((req, res, _body) => {
    if (req.url === "/cb") json(res, { code: "ok" });
  });
  const hang = await controller(() => {});
  try {
    const client = new ControlClient();
    await client.post(ctl.url, "{}", { timeoutMs: 500, readTimeoutMs: 500, bufferSize: 4096, headers: [{ name: "X-A", value: "1" }, { name: "X-B", value: "2" }] });
    assert.equal(ctl.hits[0].headers["x-a"], "1");
    assert.equal(ctl.hits[0].headers["x-b"], "2");
    assert.equal(ctl.hits[0].headers["content-type"], "application/json");
    const ac = new AbortController();
    const t0 = Date.now();
    const p = client.post(hang.url, "{}", { timeoutMs: 5_000, readTimeoutMs: 5_000, bufferSize: 4096, headers: [], signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, (e: CtrlError) => e.code === "CTRL_ERR_ABORTED");
    assert.ok(Date.now() - t0 < 2_000);
  } finally {
    await ctl.close();
    await hang.close();
  }
});
