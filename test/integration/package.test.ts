/**
 * The npm package as a user gets it: `npm pack` (which builds dist/pkg/), the tarball installed
 * into an empty folder, then the installed `rtmp-kmp` — plain JavaScript on Node 24, no tsx and no
 * source tree — prints its version and takes a real ffmpeg publish to a real controller and KMP
 * receiver; the library entry imports by the package's name.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "../../src/version.ts";
import { cliServer } from "../helpers/cli-server.ts";
import { INPUTS, ROOT, requireShared } from "../helpers/paths.ts";
import { requireTool, run } from "../helpers/proc.ts";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test("npm pack → install into an empty folder → the installed rtmp-kmp runs and forwards a publish", { timeout: 180_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  const dir = mkdtempSync(join(tmpdir(), "pkg-"));
  try {
    const packed = await run("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: ROOT, timeoutMs: 120_000 });
    assert.equal(packed.code, 0, `npm pack: ${packed.stderr}`);
    const tarball = join(dir, packed.stdout.trim().split("\n").pop()!);
    assert.ok(existsSync(tarball), `no tarball at ${tarball}`);

    const app = join(dir, "app");
    const inst = await run("npm", ["install", "--prefix", app, "--offline", "--no-audit", "--no-fund", tarball], { timeoutMs: 120_000 });
    assert.equal(inst.code, 0, `npm install: ${inst.stderr}`);
    const installed = files(join(app, "node_modules"));
    assert.ok(installed.every((f) => !f.endsWith(".ts")), "TypeScript source in the installed package");
    assert.ok(!existsSync(join(app, "node_modules", "tsx")), "tsx came with the package");

    const bin = join(app, "node_modules", ".bin", "rtmp-kmp");
    const v = await run(bin, ["--version"], { timeoutMs: 20_000 });
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), VERSION.version);
    const node = await run("node", ["--version"], { timeoutMs: 10_000 });
    assert.match(node.stdout, /^v24\./, "the package runs on Node 24");

    const lib = await run("node", ["--input-type=module", "-e", "const m = await import('rtmp-kmp'); console.log(typeof m.IngestServer, typeof m.parseNginxConf)"], { cwd: app, timeoutMs: 20_000 });
    assert.equal(lib.stdout.trim(), "function function", lib.stderr);

    const s = await cliServer("pkg-run-", { cmd: [bin] });
    try {
      await s.ready();
      const r = await run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", join(INPUTS, "audio_aac.flv"), "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${s.rtmp}/live/pkg`], { timeoutMs: 40_000 });
      assert.equal(r.code, 0, `ffmpeg: ${r.stderr}\nserver: ${s.server.output()}`);
      await s.controller.waitFor(() => s.controller.events("unpublish").length === 1, 20_000);
      assert.equal(s.controller.events("publish").length, 1);
      const frames = s.receiver.connections.reduce((n, c) => n + c.frames, 0);
      assert.ok(frames > 100, `${frames} frames reached KMP`);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
