/**
 * Churn soak of ONE server process (the bench `soak.bench.ts` and the CI test `test/integration/soak.test.ts`).
 *
 * Cycles of N real-time publishers (`rtmpflood`, C, one epoll process, from ../shared/tools/scale)
 * that publish for `cycleS` seconds and leave. In every `faultEvery`-th cycle the KMP receiver
 * (`kmpsink`, C) is killed halfway and back 1.5 s later on the same port, so every track
 * republishes and resumes. The controller (`tools/controller.ts`) answers HTTP 500 to one request
 * in ten and holds one publish/republish in `hangEvery` past `kmp_ctrl_read_timeout`.
 *
 * After each cycle, once the server reports no session and no track (or after `settleS`): its RSS
 * and open descriptors (/proc), heap used (`/metrics`), sessions and tracks (`/metrics`), and the
 * callbacks of the cycle. Accounting, per cycle: every input that sent `publish` got exactly one
 * `unpublish`, no `unpublish` without a `publish`, nothing left, the server alive.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRuntime } from "../src/runtime/detect.ts";
import { Controller } from "../src/tools/controller.ts";
import { cpuSeconds, freePort, ROOT, rssKb, serverCmd, sleep, waitForPort } from "./proc.ts";

export type SoakOptions = {
  server: "node" | "deno" | "bun";
  cycles: number;
  n: number;
  cycleS: number;
  /** Kill and restart the receiver in every k-th cycle (0: never). */
  faultEvery: number;
  /** One controller request in `failEvery` answers 500 (0: never). */
  failEvery: number;
  /** One publish/republish in `hangEvery` is held past the read timeout (0: never). */
  hangEvery: number;
  /** Longest wait after a cycle for the server to report nothing left. */
  settleS: number;
  /** Rest after each cycle before the second RSS sample (s; default 4). */
  restS?: number;
  /** Each cycle's row as it is measured. */
  onCycle?: (row: SoakRow) => void;
};

export type SoakRow = {
  cycle: number;
  fault: boolean;
  /** Resident set once the API lists nothing. */
  rssMb: number;
  /** Resident set after a further rest of `restS` (what the server gives back once they are gone). */
  rssRestMb: number;
  heapUsedMb: number;
  /** JS heap reserved by the runtime (used + free). */
  heapTotalMb: number;
  /** Server CPU seconds since it started. */
  cpuS: number;
  fds: number;
  sessions: number;
  tracks: number;
  connect: number;
  publish: number;
  unpublish: number;
  republish: number;
  /** Inputs that sent publish and got no unpublish, or more than one, or unpublish without publish. */
  accountingErrors: string[];
  alive: boolean;
};

export type SoakResult = {
  rows: SoakRow[];
  /** Mean RSS of the first and the last third of the cycles (after cycle 1), sampled once empty. */
  earlyMb: number;
  lateMb: number;
  /** RSS before the first publisher, and after the last cycle's rest. */
  idleMb: number;
  restMb: number;
  logDir: string;
};

const SCALE = join(ROOT, "..", "shared", "tools", "scale");

/** rtmpflood and kmpsink, built with `cc` into a cache when missing or older than their source. */
export function buildRig(): { rtmpflood: string; kmpsink: string } {
  const dir = process.env.SCALE_BIN_DIR ?? join(tmpdir(), "scale-bin");
  mkdirSync(dir, { recursive: true });
  const out: Record<string, string> = {};
  for (const name of ["rtmpflood", "kmpsink"]) {
    const src = join(SCALE, `${name}.c`);
    const bin = join(dir, name);
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
      const r = spawnSync("cc", ["-O2", "-Wall", "-o", bin, src], { stdio: "inherit" });
      if (r.status !== 0) throw new Error(`cc ${src} failed (status ${r.status})`);
    }
    out[name] = bin;
  }
  return out as { rtmpflood: string; kmpsink: string };
}

/** A 10 s 360p H.264/AAC FLV at ~300 kbit/s (the publishers loop it), made once with ffmpeg. */
export function soakInput(): string {
  const path = join(tmpdir(), "soak-input-360p.flv");
  if (existsSync(path)) return path;
  const tmp = path + ".tmp.flv";
  const r = spawnSync("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10",
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-b:v", "250k", "-g", "60", "-sc_threshold", "0",
    "-c:a", "aac", "-b:a", "64k", "-f", "flv", tmp], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`ffmpeg could not make the soak input (status ${r.status})`);
  renameSync(tmp, path);
  return path;
}

function fds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

async function metrics(api: number): Promise<Record<string, number>> {
  const r = await fetch(`http://127.0.0.1:${api}/metrics`, { signal: AbortSignal.timeout(5000) });
  const out: Record<string, number> = {};
  for (const line of (await r.text()).split("\n")) {
    const m = /^([a-z_]+) ([0-9.e+-]+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

function killGroup(p: ChildProcess): void {
  try {
    process.kill(-p.pid!, "SIGKILL");
  } catch { /* gone */ }
}

const exited = (p: ChildProcess, ms: number): Promise<boolean> =>
  p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve(true)
    : new Promise((res) => {
      const t = setTimeout(() => res(false), ms);
      p.once("exit", () => {
        clearTimeout(t);
        res(true);
      });
    });

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const rt = await getRuntime();
  const bin = buildRig();
  const input = soakInput();
  const dir = mkdtempSync(join(tmpdir(), `soak-${o.server}-`));
  const [rtmp, api, sink] = [await freePort(rt), await freePort(rt), await freePort(rt)];
  const ctl = await new Controller({
    runtime: rt,
    kmpUrl: `kmp://127.0.0.1:${sink}`,
    mode: { failEvery: o.failEvery, hangEvery: o.hangEvery, hangMs: 4000 },
  }).start();
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, `rtmp { server { listen 127.0.0.1:${rtmp}; application live { live on;
  kmp_ctrl_connect_url ${ctl.url}/connect; kmp_ctrl_publish_url ${ctl.url}/publish;
  kmp_ctrl_unpublish_url ${ctl.url}/unpublish; kmp_ctrl_republish_url ${ctl.url}/republish;
  kmp_ctrl_timeout 2s; kmp_ctrl_read_timeout 3s; kmp_ctrl_retry_interval 500ms; } } }
http { server { listen 127.0.0.1:${api}; location /rtmp_kmp_api/ { rtmp_kmp_api; } } }\n`);
  const cmd = [...serverCmd(o.server), "--config", conf, "--log-level", "error"];
  const log = (name: string) => openSync(join(dir, name), "w");
  const server = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", log("server.log"), log("server.err")], cwd: ROOT });
  const startSink = (c: number) =>
    spawn(bin.kmpsink, [String(sink), "--ack-every", "10", "--stats-every", "5"], { stdio: ["ignore", log(`sink${c}.json`), log(`sink${c}.log`)], detached: true });
  let sinkProc = startSink(0);
  const rows: SoakRow[] = [];
  const rssMb = () => Math.round(rssKb(server.pid!) / 102.4) / 10;
  let idleMb = NaN;
  try {
    await waitForPort(rt, rtmp);
    await waitForPort(rt, api);
    await sleep(1000);
    idleMb = rssMb();
    for (let c = 1; c <= o.cycles; c++) {
      const first = ctl.requests.length;
      const flood = spawn(bin.rtmpflood, [input, "127.0.0.1", String(rtmp), "live", String(o.n), "--ramp", "2", "--duration", String(o.cycleS), "--name-prefix", `c${c}s`],
        { stdio: ["ignore", log(`flood${c}.json`), log(`flood${c}.log`)], detached: true });
      const fault = o.faultEvery > 0 && c % o.faultEvery === 0;
      if (fault) {
        await sleep((o.cycleS * 1000) / 2);
        killGroup(sinkProc);
        await exited(sinkProc, 5000);
        await sleep(1500);
        sinkProc = startSink(c);
      }
      if (!(await exited(flood, (o.cycleS + 60) * 1000))) killGroup(flood);
      // the publishers are gone: wait for the server to let go of every session and track
      let m: Record<string, number> = {};
      const deadline = Date.now() + o.settleS * 1000;
      for (;;) {
        await sleep(500);
        m = await metrics(api).catch(() => ({}));
        if ((m.rtmp_kmp_sessions === 0 && m.rtmp_kmp_tracks === 0) || Date.now() > deadline) break;
      }
      await sleep(1000); // the last unpublish is sent as the track goes
      const reqs = ctl.requests.slice(first).map((r) => r.body);
      const count = (ev: string) => reqs.filter((b) => b.event_type === ev).length;
      const per = new Map<string, { publish: number; unpublish: number }>();
      for (const b of reqs) {
        if (b.event_type !== "publish" && b.event_type !== "unpublish") continue;
        const id = String(b.input_id);
        const e = per.get(id) ?? { publish: 0, unpublish: 0 };
        e[b.event_type]++;
        per.set(id, e);
      }
      const accountingErrors: string[] = [];
      for (const [id, e] of per) {
        if (e.publish === 0) accountingErrors.push(`${id}: unpublish without publish`);
        else if (e.unpublish !== 1) accountingErrors.push(`${id}: ${e.unpublish} unpublish for ${e.publish} publish requests`);
      }
      let alive = server.exitCode === null && server.signalCode === null;
      const rss = alive ? rssMb() : NaN;
      await sleep((o.restS ?? 4) * 1000);
      alive &&= server.exitCode === null && server.signalCode === null;
      const row: SoakRow = {
        cycle: c,
        fault,
        rssMb: rss,
        rssRestMb: alive ? rssMb() : NaN,
        heapUsedMb: Math.round((m.rtmp_kmp_heap_used_bytes ?? NaN) / 104857.6) / 10,
        heapTotalMb: Math.round((m.rtmp_kmp_heap_total_bytes ?? NaN) / 104857.6) / 10,
        cpuS: alive ? cpuSeconds(server.pid!) : NaN,
        fds: fds(server.pid!),
        sessions: m.rtmp_kmp_sessions ?? -1,
        tracks: m.rtmp_kmp_tracks ?? -1,
        connect: count("connect"),
        publish: [...per.values()].filter((e) => e.publish > 0).length,
        unpublish: count("unpublish"),
        republish: count("republish"),
        accountingErrors,
        alive,
      };
      rows.push(row);
      o.onCycle?.(row);
      if (!alive) break;
    }
  } finally {
    killGroup(sinkProc);
    server.kill("SIGKILL");
    await ctl.close();
  }
  const third = Math.max(1, Math.floor(rows.length / 3));
  const mean = (rs: SoakRow[]) => rs.reduce((a, r) => a + r.rssMb, 0) / Math.max(1, rs.length);
  return { rows, earlyMb: mean(rows.slice(1, 1 + third)), lateMb: mean(rows.slice(-third)), idleMb, restMb: rows.at(-1)?.rssRestMb ?? NaN, logDir: dir };
}
