/**
 * Behind a real load balancer: Debian's HAProxy in TCP mode forwards ffmpeg publishes to a
 * `proxy_protocol` listener with `send-proxy` (v1) and `send-proxy-v2`. HAProxy connects to us
 * from 127.0.0.3, the client connects to HAProxy from 127.0.0.1: every callback, the API and the
 * logs must carry 127.0.0.1. A client that skips the balancer is closed with no byte sent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INPUTS, requireShared } from "../helpers/paths.ts";
import { requireTool, run, start } from "../helpers/proc.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { startStack } from "../helpers/stack.ts";

test("publishing through HAProxy send-proxy (v1) and send-proxy-v2: the client's address everywhere", { timeout: 90_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  const v = await run("haproxy", ["-v"]).catch(() => null);
  assert.ok(v && v.code === 0, "haproxy is not installed (.ci/run installs it)");
  const stack = await startStack({ listenDirectives: "proxy_protocol", api: { write: false }, logLevel: "debug" });
  const dir = mkdtempSync(join(tmpdir(), "haproxy-"));
  const probe = await stack.runtime.listen({ hostname: "127.0.0.2", port: 0 });
  const p1 = probe.addr.port;
  probe.close();
  const probe2 = await stack.runtime.listen({ hostname: "127.0.0.2", port: 0 });
  const p2 = probe2.addr.port;
  probe2.close();
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(cfg, `global
  maxconn 100
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend v1
  bind 127.0.0.2:${p1}
  default_backend rtmp_v1
frontend v2
  bind 127.0.0.2:${p2}
  default_backend rtmp_v2
backend rtmp_v1
  server s1 127.0.0.1:${stack.rtmpPort} send-proxy source 127.0.0.3
backend rtmp_v2
  server s2 127.0.0.1:${stack.rtmpPort} send-proxy-v2 source 127.0.0.3
`);
  const lb = start("haproxy", ["-db", "-f", cfg]);
  try {
    for (let t0 = Date.now(); ; ) {
      try {
        (await stack.runtime.connect({ hostname: "127.0.0.2", port: p2 })).close();
        break;
      } catch {
        if (Date.now() - t0 > 15_000) throw new Error(`haproxy did not start: ${lb.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (const [name, port] of [["viav1", p1], ["viav2", p2]] as const) {
      const r = await run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", join(INPUTS, "av_h264baseline_aac.flv"), "-c", "copy", "-f", "flv", `rtmp://127.0.0.2:${port}/live/${name}`], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    }
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 4, 15_000);
    const ev = stack.controller.requests.map((r) => r.body);
    assert.equal(ev.filter((e) => e.event_type === "connect").length, 2);
    for (const e of ev) {
      const rtmp = e.rtmp as { addr: string };
      const ip = e.event_type === "connect" ? rtmp.addr.replace(/:\d+$/, "") : rtmp.addr;
      assert.equal(ip, "127.0.0.1", `${e.event_type} carries ${rtmp.addr}, not the client's address`);
    }
    for (const n of ["viav1", "viav2"]) assert.equal(stack.receiver.connections.filter((c) => c.channelId === n).length, 2, `${n}: two tracks delivered`);
    assert.ok(!stack.logs.some((l) => l.includes("client=127.0.0.3")), "no log line names the balancer as the client");
    assert.ok(stack.logs.some((l) => /PROXY v1: client 127.0.0.1:\d+ via 127.0.0.3:/.test(l)), "v1 header read (the balancer connected from 127.0.0.3)");
    assert.ok(stack.logs.some((l) => /PROXY v2: client 127.0.0.1:\d+ via 127.0.0.3:/.test(l)), "v2 header read");

    // straight to the proxy_protocol port, without a header: closed, not a byte sent
    const c = await RawClient.connect(stack.runtime, stack.rtmpPort);
    const c0c1 = new Uint8Array(1537);
    c0c1[0] = 3;
    await c.write(c0c1);
    const got = await c.read(1, 3_000).catch(() => new Uint8Array(0));
    assert.equal(got.length, 0, "no byte sent to a client without a PROXY header");
    assert.ok(await c.closedByServer(3_000));
    assert.equal(stack.logs.filter((l) => l.includes("PROXY_ERR_MISSING")).length, 1, "one log line");
  } finally {
    await lb.stop("SIGKILL");
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
