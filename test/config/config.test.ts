import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { applyOverrides, defaultConfig, DIRECTIVES, parseJsonConfig, parseMsec, parseNginxConf, parseSize } from "../../src/config/index.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { ROOT, SCENARIOS, requireShared } from "../helpers/paths.ts";
import { SESSION_ERRORS } from "../../src/ingest/errors.ts";
import { RTMP_ERRORS } from "../../src/rtmp/errors.ts";
import { FLV_ERRORS } from "../../src/flv/errors.ts";
import { KMP_ERRORS } from "../../src/kmp/errors.ts";
import { CTRL_ERRORS } from "../../src/control/errors.ts";
import { PROXY_ERRORS } from "../../src/net/errors.ts";
import { CONFIG_ERRORS } from "../../src/config/errors.ts";

test("every fixture nginx.conf loads unchanged", () => {
  requireShared();
  const scenarios = readdirSync(SCENARIOS);
  assert.ok(scenarios.length >= 15, `${scenarios.length} scenarios`);
  for (const s of scenarios) {
    const file = join(SCENARIOS, s, "nginx.conf");
    const cfg = parseNginxConf(readFileSync(file, "utf8"), file);
    const server = cfg.servers[0];
    assert.deepEqual(server.listen, [{ hostname: "127.0.0.1", port: 19350, proxy_protocol: false, ssl: false }], s);
    const app = server.applications[0];
    assert.equal(app.name, "live");
    assert.equal(app.kmp_ctrl_publish_url, "http://127.0.0.1:18100/publish");
    assert.equal(app.kmp_ctrl_republish_url, "http://127.0.0.1:18100/republish");
    assert.equal(app.live, true);
    assert.equal(app.sandbox, true);
    assert.equal(app.kmp_video_mem_limit, 48 * 1024 * 1024, "the code's default, not the README's 32m");
    assert.deepEqual(app.access, [{ allow: false, publish: false, play: true, addr: "all" }]);
    assert.deepEqual(cfg.api[0].locations.map((l) => [l.prefix, l.kind, l.write]), [["/rtmp_kmp_api/", "rtmp_kmp_api", true], ["/kmp_out_api/", "kmp_out_api", true]]);
    const ignored = cfg.ignored.map((i) => i.directive);
    for (const d of ["events", "pid"]) assert.ok(ignored.includes(d), `${s}: ${d} ignored`);
    assert.equal(cfg.worker_processes, 1, `${s}: worker_processes 1 is read (one process, as the reference must run)`);
  }
});

test("units: durations and sizes", () => {
  assert.equal(parseMsec("2s"), 2000);
  assert.equal(parseMsec("500ms"), 500);
  assert.equal(parseMsec("1m"), 60_000);
  assert.equal(parseMsec("1m30s"), 90_000);
  assert.equal(parseMsec("250"), 250);
  assert.equal(parseMsec("2x"), null);
  assert.equal(parseSize("64k"), 65536);
  assert.equal(parseSize("32m"), 32 * 1024 * 1024);
  assert.equal(parseSize("1m"), 1024 * 1024);
  assert.equal(parseSize("4096"), 4096);
  assert.equal(parseSize("1.5m"), null);
});

test("inheritance rtmp → server → application, add_header replaces the parent's list", () => {
  const cfg = parseNginxConf(`
    rtmp {
      kmp_ctrl_timeout 5s;
      kmp_ctrl_add_header X-A 1;
      kmp_ctrl_add_header X-B 2;
      server {
        listen 1935;
        kmp_flush_timeout 250ms;
        application a { }
        application b { kmp_ctrl_add_header X-C 3; kmp_ctrl_timeout 1s; }
      }
    }`, "x.conf");
  const [a, b] = cfg.servers[0].applications;
  assert.equal(a.kmp_ctrl_timeout, 5000);
  assert.equal(a.kmp_flush_timeout, 250);
  assert.deepEqual(a.kmp_ctrl_add_header, [{ name: "X-A", value: "1" }, { name: "X-B", value: "2" }]);
  assert.equal(b.kmp_ctrl_timeout, 1000);
  assert.deepEqual(b.kmp_ctrl_add_header, [{ name: "X-C", value: "3" }]);
  assert.equal(b.kmp_ctrl_retries, 5);
});

test("errors name the file, line and directive", () => {
  const check = (text: string, code: string, line: number, re: RegExp) =>
    assert.throws(() => parseNginxConf(text, "bad.conf"), (e: ConfigError) => e.code === code && e.line === line && e.file === "bad.conf" && re.test(e.message));
  check("rtmp {\n server {\n  listen 1935;\n  kmp_bogus 1;\n }\n}", "CONFIG_ERR_UNKNOWN_DIRECTIVE", 4, /kmp_bogus/);
  check("rtmp {\n server {\n  kmp_flush_timeout abc;\n }\n}", "CONFIG_ERR_INVALID_VALUE", 3, /kmp_flush_timeout.*abc/);
  check("rtmp {\n server {\n  application live {\n   kmp_ctrl_publish_url http://a/;\n   kmp_ctrl_publish_url http://b/;\n  }\n }\n}", "CONFIG_ERR_DUPLICATE", 5, /duplicate/);
  check("rtmp {\n server {\n  application live {\n   kmp_idle_timeout 5s;\n  }\n }\n}", "CONFIG_ERR_CONTEXT", 4, /kmp_idle_timeout/);
  check("rtmp {\n server {\n  listen 1935\n }\n", "CONFIG_ERR_SYNTAX", 4, /unexpected/);
  check("rtmp {\n server {\n  application live { kmp_mem_high_watermark 150; }\n }\n}", "CONFIG_ERR_INVALID_VALUE", 3, /kmp_mem_high_watermark/);
});

test("JSON config is equivalent to the nginx.conf form", () => {
  const nginx = parseNginxConf(`rtmp { kmp_timescale 90000; server { listen 127.0.0.1:1935; chunk_size 8192;
    application live { live on; kmp_ctrl_publish_url http://127.0.0.1:8080/p; kmp_flush_timeout 500ms; kmp_ctrl_add_header X-K v; } } }
    http { server { listen 127.0.0.1:8001; location /api/ { rtmp_kmp_api write=on; } } }`, "a.conf");
  const json = parseJsonConfig(JSON.stringify({
    rtmp: { kmp_timescale: 90000, servers: [{ listen: ["127.0.0.1:1935"], chunk_size: 8192, applications: [{ name: "live", live: true, kmp_ctrl_publish_url: "http://127.0.0.1:8080/p", kmp_flush_timeout: "500ms", kmp_ctrl_add_header: [["X-K", "v"]] }] }] },
    http: { servers: [{ listen: ["127.0.0.1:8001"], locations: [{ prefix: "/api/", rtmp_kmp_api: { write: true } }] }] },
  }), "a.json");
  assert.deepEqual(json.servers, nginx.servers);
  assert.deepEqual(json.api, nginx.api);
});

test("embedded defaults and command-line overrides", () => {
  const d = defaultConfig();
  assert.equal(d.servers[0].listen[0].port, 1935);
  assert.equal(d.api[0].listen[0].port, 8001);
  const o = applyOverrides(d, { listen: "127.0.0.1:19999", apiListen: "127.0.0.1:18888", logLevel: "debug" });
  assert.deepEqual([o.servers[0].listen[0].port, o.api[0].listen[0].port, o.log.level], [19999, 18888, "debug"]);
  assert.throws(() => applyOverrides(d, { logLevel: "loud" }), ConfigError);
});

test("the README's configuration table lists every directive with its default", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  for (const d of DIRECTIVES) assert.ok(readme.includes(`| \`${d.name}\``), `README documents ${d.name}`);
});

test("worker_processes N|auto in nginx.conf, JSON and --workers; 1 by default; bad values name the line", () => {
  const rtmp = "rtmp { server { listen 1935; application live { live on; } } }";
  assert.equal(parseNginxConf(rtmp, "a.conf").worker_processes, 1);
  assert.equal(parseNginxConf(`worker_processes 4;\n${rtmp}`, "a.conf").worker_processes, 4);
  assert.equal(parseNginxConf(`worker_processes auto;\n${rtmp}`, "a.conf").worker_processes, 0);
  assert.equal(parseJsonConfig(`{"worker_processes":2,"rtmp":{"servers":[{"listen":["1935"],"applications":[{"name":"live"}]}]}}`, "a.json").worker_processes, 2);
  assert.equal(parseJsonConfig(`{"worker_processes":"auto"}`, "a.json").worker_processes, 0);
  assert.equal(applyOverrides(defaultConfig(), { workers: "3" }).worker_processes, 3);
  assert.equal(applyOverrides(defaultConfig(), { workers: "auto" }).worker_processes, 0);
  for (const bad of ["0", "-1", "two", "257"]) {
    assert.throws(() => parseNginxConf(`\n\nworker_processes ${bad};\n${rtmp}`, "a.conf"), (e: unknown) => e instanceof ConfigError && e.message.includes("worker_processes") && e.message.includes("a.conf:3"));
  }
  assert.throws(() => applyOverrides(defaultConfig(), { workers: "0" }), ConfigError);
  assert.throws(() => parseJsonConfig(`{"worker_processes":0}`, "a.json"), ConfigError);
});

test("the README lists every error code of every layer's table with its meaning", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const tables = [SESSION_ERRORS, RTMP_ERRORS, FLV_ERRORS, KMP_ERRORS, CTRL_ERRORS, PROXY_ERRORS, CONFIG_ERRORS];
  let n = 0;
  for (const table of tables) {
    for (const [code, meaning] of Object.entries(table)) {
      assert.ok(readme.includes(`| \`${code}\` | ${meaning} |`), `README lists ${code}`);
      n++;
    }
  }
  assert.ok(n >= 50, `${n} codes`);
  assert.equal(new Set(tables.flatMap((t) => Object.keys(t))).size, n, "no code in two tables");
});
