/**
 * Prometheus for real: Debian's `prometheus` scrapes `/metrics` every second from one server
 * process and from `worker_processes 2` (the CLI on this runtime). Real ffmpeg publishes to
 * both; a receiver restart makes every track republish; a client the controller rejects and an
 * AV1 track (KMP has no codec id for it) happen too. Then every query of the Grafana dashboard
 * (`deploy/grafana/rtmp-kmp.json`) must answer without error and not empty on each server,
 * the metrics carry their labels and plausible values, and `promtool check metrics` passes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../helpers/until.ts";
import { cliServer, freePort } from "../helpers/cli-server.ts";
import { FIXTURES, INPUTS, ROOT, SHARED, requireShared } from "../helpers/paths.ts";
import { requireTool, run, start } from "../helpers/proc.ts";

type Sample = { metric: Record<string, string>; value: [number, string] };


const dashboard = JSON.parse(readFileSync(join(ROOT, "deploy", "grafana", "rtmp-kmp.json"), "utf8")) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

test("the dashboard has queries to check", () => {
  const n = dashboard.panels.reduce((k, p) => k + p.targets.length, 0);
  assert.ok(dashboard.panels.length >= 10 && n >= dashboard.panels.length, `${dashboard.panels.length} panels, ${n} queries`);
});

test("Prometheus scrapes one process and worker_processes 2: every metric with its labels, every dashboard query answers, promtool passes", { timeout: 150_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  await requireTool("prometheus", "--version");
  await requireTool("promtool", "--version");
  const http = "location /rtmp_kmp_api/ { rtmp_kmp_api write=on; }";
  const mode = { rejectFlashver: "reject-me" };
  const servers = {
    single: await cliServer("prom-single-", { http, mode, republish: true }),
    cluster: await cliServer("prom-cluster-", { head: "worker_processes 2;", http, mode, republish: true }),
  };
  const promDir = mkdtempSync(join(tmpdir(), "prometheus-"));
  const promPort = await freePort();
  writeFileSync(join(promDir, "prometheus.yml"), `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: single
    static_configs: [{ targets: ["127.0.0.1:${servers.single.apiPort}"] }]
  - job_name: cluster
    static_configs: [{ targets: ["127.0.0.1:${servers.cluster.apiPort}"] }]
`);
  const prom = start("prometheus", [
    `--config.file=${join(promDir, "prometheus.yml")}`, `--storage.tsdb.path=${join(promDir, "data")}`,
    `--web.listen-address=127.0.0.1:${promPort}`, "--log.level=warn",
  ]);
  const publishers: ReturnType<typeof start>[] = [];
  const query = async (q: string): Promise<Sample[]> => {
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = await r.json() as { status: string; error?: string; data: { result: Sample[] } };
    if (body.status !== "success") throw new Error(`${q}: ${body.error}`);
    return body.data.result;
  };
  try {
    await until("prometheus ready", async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok, 30_000);
    for (const [name, s] of Object.entries(servers)) {
      await s.ready();
      await until(`${name} serves /metrics`, async () => (await fetch(`http://127.0.0.1:${s.apiPort}/metrics`)).ok);
      const rtmp = `rtmp://127.0.0.1:${s.rtmp}/live`;
      publishers.push(start("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
        "-i", join(INPUTS, "av_h264main_bframes_aac.flv"), "-c", "copy", "-f", "flv", `${rtmp}/s1`]));
      await until(`${name}: 2 publish`, () => s.controller.events("publish").length === 2);
      // a receiver restart, once both upstreams are connected: both tracks republish and resume
      await until(`${name}: both upstreams connected`, () => s.receiver.connections.filter((c) => !c.closed).length === 2);
      s.receiver.dropConnections();
      await until(`${name}: republish after the receiver restart (${s.controller.events().map((e) => e.event_type)})`, () => s.controller.events("republish").length >= 2, 30_000);
      // a client the controller rejects
      const rej = await run("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-t", "1", "-i", join(INPUTS, "audio_aac.flv"),
        "-c", "copy", "-f", "flv", "-rtmp_flashver", "reject-me", `${rtmp}/rejected`], { timeoutMs: 20_000 });
      assert.notEqual(rej.code, 0, "the rejected client's ffmpeg should fail");
      // an AV1 track KMP cannot carry (its AAC track goes on)
      const av1 = await run("python3", [join(SHARED, "tools", "rtmppub", "rtmppub.py"), "-q", join(FIXTURES, "ertmp", "av1_aac.flv"), `${rtmp}/av1`], { timeoutMs: 30_000 });
      assert.equal(av1.code, 0, `rtmppub: ${av1.stderr}`);
      await until(`${name}: unpublish of the AV1 stream's audio`, () => s.controller.events("unpublish").length >= 1);
    }

    const instances = { single: `127.0.0.1:${servers.single.apiPort}`, cluster: `127.0.0.1:${servers.cluster.apiPort}` };
    // scraped after every event: the counters of both servers
    await until("the events are scraped", async () => {
      const got = await query(`rtmp_kmp_unsupported_tracks_total`);
      return got.length === 2 && (await query(`rtmp_kmp_unpublishes_total`)).length >= 2;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 4000)); // a few samples more for rate() and increase()

    // every dashboard query, on each server (per-worker panels only where there are workers)
    let checked = 0;
    for (const [name, instance] of Object.entries(instances)) {
      for (const p of dashboard.panels) {
        for (const t of p.targets) {
          if (name === "single" && t.expr.includes("rtmp_kmp_worker_")) continue;
          const q = t.expr.replaceAll("$instance", instance.replaceAll(".", "\\\\.")).replaceAll("$__rate_interval", "10s");
          const got = await query(q);
          assert.ok(got.length > 0, `${name}: panel '${p.title}' answers nothing: ${q}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 30, `${checked} panel queries checked`);

    // labels and plausible values
    for (const [name, instance] of Object.entries(instances)) {
      const one = async (q: string) => {
        const got = await query(q.replace("INST", `instance="${instance}"`));
        assert.ok(got.length > 0, `${name}: ${q} is empty`);
        return got;
      };
      assert.equal(Number((await one(`rtmp_kmp_sessions{INST}`))[0].value[1]), 1, `${name}: one session left (the looping ffmpeg)`);
      assert.equal(Number((await one(`rtmp_kmp_tracks{INST}`))[0].value[1]), 2);
      for (const s of await one(`rtmp_kmp_track_frames_total{INST}`)) {
        for (const l of ["track", "media", "input_id", "channel_id", "track_id"]) assert.ok(s.metric[l], `${name}: track series without ${l}: ${JSON.stringify(s.metric)}`);
        assert.ok(Number(s.value[1]) > 0);
      }
      const bps = Number((await one(`sum(rate(rtmp_kmp_stream_bytes_in_total{INST}[10s])) * 8`))[0].value[1]);
      assert.ok(bps > 50_000 && bps < 20_000_000, `${name}: ingest ${bps} bit/s`);
      assert.ok(Number((await one(`process_resident_memory_bytes{INST}`))[0].value[1]) > 10e6);
      for (const s of await one(`rtmp_kmp_upstream_ack_lag_seconds{INST}`)) assert.ok(Number(s.value[1]) < 30, `${name}: ack lag ${s.value[1]} s`);
      assert.ok(Number((await one(`sum(rtmp_kmp_republishes_total{INST})`))[0].value[1]) >= 2);
      await one(`rtmp_kmp_sessions_closed_total{INST,code="RTMP_CONNECT_REJECTED"}`);
      await one(`rtmp_kmp_unsupported_tracks_total{INST,media="video",codec="av01"}`);
      await one(`rtmp_kmp_unpublishes_total{INST,reason=~"rtmp_close|rtmp_disconnect"}`);
      await one(`rtmp_kmp_ctrl_request_duration_seconds_count{INST,event="publish"}`);
    }
    const up = await query(`rtmp_kmp_worker_up{instance="${instances.cluster}"}`);
    assert.deepEqual(up.map((s) => [s.metric.worker, s.value[1]]).sort(), [["0", "1"], ["1", "1"]]);

    // the exposition itself, by Prometheus's own linter
    for (const [name, s] of Object.entries(servers)) {
      const text = await (await fetch(`http://127.0.0.1:${s.apiPort}/metrics`)).text();
      const file = join(promDir, `${name}.prom`);
      writeFileSync(file, text);
      const r = await run("sh", ["-c", `promtool check metrics < '${file}'`], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, `${name}: promtool check metrics: ${r.stdout}${r.stderr}`);
    }
  } finally {
    for (const p of publishers) await p.stop("SIGKILL");
    await prom.stop("SIGKILL");
    for (const s of Object.values(servers)) await s.close();
    rmSync(promDir, { recursive: true, force: true });
  }
});
