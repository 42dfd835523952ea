/**
 * The management API against a live server with a live ffmpeg publisher: every route and status
 * code, the GET / shape compared with the reference's snapshot, /metrics cross-checked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatAccessLine } from "../../src/server/access-log.ts";
import { KmpReceiver } from "../../src/tools/kmp-receiver.ts";
import { INPUTS, SCENARIOS, requireShared } from "../helpers/paths.ts";
import { have, start, requireTool } from "../helpers/proc.ts";
import { startStack } from "../helpers/stack.ts";

/** Same keys (recursively, arrays by their first element) and JSON types. */
function sameShape(a: unknown, b: unknown, path = "$"): void {
  const t = (x: unknown) => (x === null ? "null" : Array.isArray(x) ? "array" : typeof x);
  assert.equal(t(a), t(b), `${path}: ${t(a)} vs ${t(b)}`);
  if (Array.isArray(a) && Array.isArray(b) && a.length && b.length) sameShape(a[0], b[0], `${path}[0]`);
  else if (t(a) === "object") {
    assert.deepEqual(Object.keys(a as object), Object.keys(b as object), `${path} keys`);
    for (const k of Object.keys(a as object)) sameShape((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
  }
}

const waitUntil = async (f: () => Promise<boolean> | boolean, ms = 10_000) => {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
};

test("management API: routes, status codes, shape, metrics (live ffmpeg publish)", { timeout: 60_000 }, async (t) => {
  requireShared();
  await requireTool("ffmpeg");
  const stack = await startStack({ api: { write: true } });
  const second = await new KmpReceiver({ runtime: stack.runtime }).start();
  const input = join(INPUTS, "av_h264main_bframes_aac.flv");
  const ff = start("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "1", "-i", input, "-c", "copy", "-f", "flv", stack.rtmpUrl("live/streamname_1?arg=value")]);
  const api = (path: string, init?: RequestInit) => fetch(stack.apiUrl + path, init);
  try {
    await waitUntil(async () => (await (await api("/kmp_out_api/tracks?list=1")).json()).length === 2);
    await waitUntil(() => stack.receiver.connections.length === 2);
    await new Promise((r) => setTimeout(r, 1500));

    const root = await api("/rtmp_kmp_api/");
    assert.equal(root.status, 200);
    assert.match(root.headers.get("content-type") ?? "", /application\/json/);
    const text = await root.text();
    assert.match(text, /"frame_rate":25\.00/, "frame_rate keeps two decimals");
    const body = JSON.parse(text);
    const ref = JSON.parse(readFileSync(join(SCENARIOS, "s01_av_bframes_re", "api", "rtmp_kmp_api.json"), "utf8"));
    sameShape(body, ref);
    const session = body.servers[0].applications[0].sessions[0];
    assert.equal(session.streams[0].tracks.video.media_info.codec_id, 7);
    assert.deepEqual(await (await api("/rtmp_kmp_api/?list=1")).json(), ["multi", "sessions"]);

    const kroot = await (await api("/kmp_out_api/")).json();
    sameShape(kroot, JSON.parse(readFileSync(join(SCENARIOS, "s01_av_bframes_re", "api", "kmp_out_api.json"), "utf8")));
    const ids: string[] = await (await api("/kmp_out_api/tracks?list=1")).json();
    const video = ids.find((id) => kroot.tracks[id].media_info.media_type === "video")!;
    assert.equal((await api(`/kmp_out_api/tracks/${video}`)).status, 200);
    assert.equal((await api("/kmp_out_api/tracks/999")).status, 404);
    assert.deepEqual(await (await api(`/kmp_out_api/tracks/${video}/upstreams?list=1`)).json(), ["u1"]);

    // add a second upstream (copies u1's acknowledged state), then remove it
    const add = await api(`/kmp_out_api/tracks/${video}/upstreams`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: second.url, id: "u2" }) });
    assert.equal(add.status, 201);
    await second.waitFor(() => second.connections.length === 1 && second.connections[0].frames > 0);
    assert.deepEqual(await (await api(`/kmp_out_api/tracks/${video}/upstreams?list=1`)).json(), ["u1", "u2"]);
    assert.equal((await api(`/kmp_out_api/tracks/${video}/upstreams`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "x" }) })).status, 415);
    assert.equal((await api(`/kmp_out_api/tracks/${video}/upstreams`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" })).status, 415);
    assert.equal((await api(`/kmp_out_api/tracks/999/upstreams`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: second.url }) })).status, 404);
    assert.equal((await api(`/kmp_out_api/tracks/${video}/upstreams/u2`, { method: "DELETE" })).status, 204);
    assert.equal((await api(`/kmp_out_api/tracks/${video}/upstreams/u2`, { method: "DELETE" })).status, 404);
    assert.equal((await api("/nope")).status, 404);

    // metrics agree with the API
    const metrics = await (await api("/metrics")).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(metrics)?.[1]);
    assert.equal(metric("rtmp_kmp_sessions"), 1);
    assert.equal(metric("rtmp_kmp_tracks"), ids.length);
    assert.ok(metric("rtmp_kmp_kmp_acks_total") > 0);
    assert.match(metrics, /rtmp_kmp_ctrl_request_duration_seconds_count\{event="publish"\} 2/);

    // sessions: 400 / 404 / 204, then unpublish rtmp_disconnect
    assert.equal((await api("/rtmp_kmp_api/sessions/abc", { method: "DELETE" })).status, 400);
    assert.equal((await api("/rtmp_kmp_api/sessions/99999", { method: "DELETE" })).status, 404);
    assert.equal((await api(`/rtmp_kmp_api/sessions/${session.connection}`, { method: "DELETE" })).status, 204);
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2);
    assert.deepEqual(stack.controller.events("unpublish").map((e) => e.reason), ["rtmp_disconnect", "rtmp_disconnect"]);
    const after = await (await api("/rtmp_kmp_api/")).json();
    assert.deepEqual(after.servers[0].applications[0].sessions, []);
    const line = formatAccessLine('$remote_addr "$app" "$name" "$args" $bytes_received $connection', {
      remoteIp: "127.0.0.1",
      command: "publish",
      client: { app: "live", pageUrl: "", flashver: "", tcUrl: "", swfUrl: "" },
      lastPublishName: "s",
      lastPublishArgs: "a=1",
      bytesIn: { bytes: 5 },
      bytesOut: 0,
      connection: 3,
      acceptedMs: Date.now(),
    });
    assert.equal(line, '127.0.0.1 "live" "s" "a=1" 5 3');
  } finally {
    await ff.stop("SIGKILL");
    await second.close();
    await stack.close();
  }
});

test("a read-only API refuses writes with 403 and changes nothing", { timeout: 20_000 }, async () => {
  const stack = await startStack({ api: { write: false } });
  try {
    const r = await fetch(`${stack.apiUrl}/rtmp_kmp_api/sessions/1`, { method: "DELETE" });
    assert.equal(r.status, 403);
    assert.match((await r.json()).message, /read-only/);
    assert.equal((await fetch(`${stack.apiUrl}/kmp_out_api/tracks/1/upstreams/u1`, { method: "DELETE" })).status, 403);
    assert.equal((await fetch(`${stack.apiUrl}/rtmp_kmp_api/`)).status, 200);
  } finally {
    await stack.close();
  }
});

test("bounded HTTP input: a body over the limit gets 413 (declared or chunked), the API keeps serving; /healthz for balancers", { timeout: 40_000 }, async () => {
  const stack = await startStack({ api: { write: true } });
  const net = await import("node:net");
  const port = Number(new URL(stack.apiUrl).port);
  /** A raw HTTP/1.1 exchange: what the server answered (status line), read until it closes or 15 s. */
  const raw = (head: string, body: Uint8Array | null, pauseMs = 0) =>
    new Promise<string>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let got = "";
      const done = () => resolve(got.split("\r\n")[0]);
      const t = setTimeout(() => (s.destroy(), done()), 15_000);
      s.on("data", (d: Buffer) => {
        got += d.toString("latin1");
        if (got.includes("\r\n")) (clearTimeout(t), s.destroy(), done()); // the status line is all we need
      });
      s.on("close", () => (clearTimeout(t), done()));
      s.on("error", () => {});
      s.write(head);
      if (body) setTimeout(() => s.write(body), pauseMs);
    });
  try {
    const big = new Uint8Array(1024 * 1024).fill(0x61);
    const path = "/kmp_out_api/tracks/1/upstreams";
    const declared = await raw(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`, big, 200);
    assert.match(declared, /^HTTP\/1\.1 413/, `declared length: ${declared}`);
    const chunked = await raw(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      new Uint8Array([...new TextEncoder().encode(`${big.length.toString(16)}\r\n`), ...big, ...new TextEncoder().encode("\r\n0\r\n\r\n")]));
    assert.match(chunked, /^HTTP\/1\.1 413/, `chunked: ${chunked}`);
    // the API still answers, and the health check says so; once the server stops, it does not
    const r = await fetch(`${stack.apiUrl}/rtmp_kmp_api/`);
    assert.equal(r.status, 200);
    await r.body?.cancel();
    const h = await fetch(`${stack.apiUrl}/healthz`);
    assert.equal(h.status, 200);
    assert.equal((await h.json()).status, "ok");
    stack.server.stopAccepting();
    const h2 = await fetch(`${stack.apiUrl}/healthz`);
    assert.equal(h2.status, 503);
    await h2.body?.cancel();
  } finally {
    await stack.close();
  }
});
