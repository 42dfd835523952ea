/**
 * RTMPS terminated in-process (`listen … ssl` with `ssl_certificate` / `ssl_certificate_key`):
 * ffmpeg publishes `rtmps://` on each runtime, beside a plain listener of the same server; the
 * certificate is re-read on SIGHUP (one process, and every worker of `worker_processes 2`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INPUTS, requireShared, serverCommand } from "../helpers/paths.ts";
import { getRuntime } from "../../src/runtime/detect.ts";
import { requireTool, run, start } from "../helpers/proc.ts";
import { startStack } from "../helpers/stack.ts";
import { expectedFrames, receivedFrames } from "../helpers/expect-frames.ts";
import { readFileSync } from "node:fs";

test("ffmpeg publishes rtmps:// to an in-process TLS listener: every frame reaches KMP", { timeout: 60_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  await requireTool("openssl", "version");
  const dir = mkdtempSync(join(tmpdir(), "rtmps-"));
  const { cert, key } = await certificate(dir, "127.0.0.1");
  const stack = await startStack({ listenDirectives: "ssl", serverDirectives: `ssl_certificate ${cert}; ssl_certificate_key ${key};` });
  try {
    const input = join(INPUTS, "av_h264baseline_aac.flv");
    const r = await run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", input, "-c", "copy", "-f", "flv", `rtmps://127.0.0.1:${stack.rtmpPort}/live/secure`], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 15_000);
    const expected = expectedFrames(readFileSync(input));
    for (const media of ["video", "audio"] as const) {
      const got = receivedFrames(stack.receiver.connections.filter((c) => c.trackId === (media === "video" ? "v1" : "a1")));
      assert.deepEqual(got.map((f) => f.md5), expected[media].map((f) => f.md5), `${media} frames`);
    }
    assert.ok(stack.logs.some((l) => l.includes("rtmps listening")), "the listener says it serves RTMPS");
    // a plain RTMP client on the TLS port does not get in (its bytes are not a TLS ClientHello)
    const plain = await run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-rw_timeout", "3000000", "-i", input, "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${stack.rtmpPort}/live/plain`], { timeoutMs: 20_000 });
    assert.notEqual(plain.code, 0, "plain RTMP on the TLS listener must fail");
    assert.equal(stack.controller.events("connect").length, 1, "only the TLS client connected");
  } finally {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The certificate subject a fresh TLS client sees on `port` (openssl s_client). */
async function servedSubject(port: number): Promise<string> {
  const r = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`], { timeoutMs: 4_000 });
  return /subject=.*?CN\s*=\s*(\S+)/.exec(r.stdout)?.[1] ?? `none (${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 200)})`;
}

async function certificate(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const g = await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${name}`]);
  assert.equal(g.code, 0, g.stderr);
  return { cert, key };
}

/** The served files start as CN=first; `rotate()` puts CN=second in their place. */
async function rotatingCertificate(dir: string): Promise<{ live: string; liveKey: string; rotate(): void }> {
  const live = join(dir, "live.crt");
  const liveKey = join(dir, "live.key");
  const first = await certificate(dir, "first");
  const second = await certificate(dir, "second");
  copyFileSync(first.cert, live);
  copyFileSync(first.key, liveKey);
  return {
    live,
    liveKey,
    rotate() {
      copyFileSync(second.cert, live);
      copyFileSync(second.key, liveKey);
    },
  };
}

test("certificate reload (SIGHUP's work): new connections get the new certificate, a publish in progress goes on, a bad file keeps the old one", { timeout: 90_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  await requireTool("openssl", "version");
  const dir = mkdtempSync(join(tmpdir(), "rtmps-reload-"));
  const { live, liveKey, rotate } = await rotatingCertificate(dir);
  const stack = await startStack({ listenDirectives: "ssl", serverDirectives: `ssl_certificate ${live}; ssl_certificate_key ${liveKey};` });
  let ff: ReturnType<typeof start> | null = null;
  try {
    assert.equal(await servedSubject(stack.rtmpPort), "first");
    const input = join(INPUTS, "av_h264baseline_aac.flv");
    ff = start("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", input, "-c", "copy", "-f", "flv", `rtmps://127.0.0.1:${stack.rtmpPort}/live/during`]);
    await stack.receiver.waitFor(() => stack.receiver.connections.length === 2 && stack.receiver.connections.every((c) => c.frames > 10), 20_000);
    rotate();
    await stack.server.reloadCertificates();
    assert.equal(await servedSubject(stack.rtmpPort), "second", "a new connection sees the new certificate");
    assert.equal(await servedSubject(stack.rtmpPort), "second");
    // a file that is not a certificate: logged, the listener keeps serving the previous one
    writeFileSync(live, "not a certificate\n");
    await stack.server.reloadCertificates();
    assert.ok(stack.logs.some((l) => l.includes("certificate not reloaded")), stack.logs.slice(-5).join("\n"));
    assert.equal(await servedSubject(stack.rtmpPort), "second", "still serving after a failed reload");
    const r = await ff.exited;
    assert.equal(r.code, 0, `the publish in progress went on: ${r.stderr}`);
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 15_000);
    assert.ok(stack.controller.events("unpublish").every((e) => e.reason === "rtmp_close" || e.reason === "rtmp_disconnect"));
    const expected = expectedFrames(readFileSync(input));
    const got = receivedFrames(stack.receiver.connections.filter((c) => c.trackId === "v1"));
    assert.deepEqual(got.map((f) => f.md5), expected.video.map((f) => f.md5), "every video frame of the publish that spanned the reload");
  } finally {
    await ff?.stop("SIGKILL");
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("worker_processes 2 + SIGHUP to the primary: every worker serves the new certificate", { timeout: 90_000 }, async () => {
  await requireTool("openssl", "version");
  const rt = await getRuntime();
  const dir = mkdtempSync(join(tmpdir(), "rtmps-hup-"));
  const { live, liveKey, rotate } = await rotatingCertificate(dir);
  const probe = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  writeFileSync(join(dir, "nginx.conf"), `worker_processes 2;
rtmp { server { listen 127.0.0.1:${port} ssl; ssl_certificate ${live}; ssl_certificate_key ${liveKey}; application live { live on; } } }`);
  const cmd = serverCommand();
  const server = start(cmd[0], [...cmd.slice(1), "--config", join(dir, "nginx.conf")]);
  try {
    for (let t0 = Date.now(); (server.output().match(/worker \d ready/g) ?? []).length < 2; ) {
      if (Date.now() - t0 > 30_000) throw new Error(`workers not ready:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 4; i++) assert.equal(await servedSubject(port), "first");
    rotate();
    // process.kill: under Deno, ChildProcess.kill("SIGHUP") leaves later child processes of the test hanging
    process.kill(server.child.pid!, "SIGHUP");
    for (let t0 = Date.now(); (server.output().match(/certificate reloaded/g) ?? []).length < 2; ) {
      if (Date.now() - t0 > 15_000) throw new Error(`no reload in both workers:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // the kernel / the primary spreads new connections over both workers: all must show the new one
    for (let i = 0; i < 10; i++) assert.equal(await servedSubject(port), "second", `connection ${i}`);
  } finally {
    await server.stop("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
});
