/**
 * `worker_processes 2` through the real CLI on this runtime: two worker processes share the RTMP
 * port behind the primary's one API — sessions and tracks of both listed with unique ids, DELETE
 * reaching the owner, /metrics summed; a worker killed with SIGKILL is replaced and the controller
 * gets an unpublish for each of its tracks; SIGTERM drains every worker and exits 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { INPUTS, RUNTIME, requireShared } from "../helpers/paths.ts";
import { requireTool, start } from "../helpers/proc.ts";
import { until } from "../helpers/until.ts";
import { cliServer } from "../helpers/cli-server.ts";
import { publishPreamble, RawClient } from "../helpers/raw-client.ts";

type Root = {
  pid: number;
  servers: { applications: { name: string; sessions: { connection: number; streams: { name: string }[] }[] }[] }[];
  workers: { worker: number; pid: number; ready: boolean; sessions: number[]; tracks: string[] }[];
};


test("worker_processes 2: one API over two processes, DELETE to the owner, a killed worker replaced with unpublish, SIGTERM drains all", { timeout: 150_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  const { rt, receiver, controller, rtmp, apiPort, server, close } = await cliServer("workers-", {
    head: "worker_processes 2;",
    http: "location /rtmp_kmp_api/ { rtmp_kmp_api write=on; } location /kmp_out_api/ { kmp_out_api write=on; }",
  });
  const api = `http://127.0.0.1:${apiPort}`;
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${api}${path}`);
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return await r.json() as T;
  };
  const ffs: ReturnType<typeof start>[] = [];
  const idle: RawClient[] = [];
  const publish = (name: string) =>
    start("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", join(INPUTS, "av_h264baseline_aac.flv"), "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${rtmp}/live/${name}`]);
  try {
    const health = await until("two workers ready", async () => {
      const h = await get<{ status: string; workers: number }>("/healthz");
      return h.workers === 2 && h.status === "ok" ? h : null;
    }, 30_000).catch((e) => {
      throw new Error(`${e.message}\n${server.output()}`);
    });
    assert.equal(health.status, "ok");
    // 20 raw clients that connect and publish (no media) spread over both workers, 4 ffmpeg publishers
    for (let i = 0; i < 20; i++) {
      const client = await RawClient.connect(rt, rtmp);
      await client.handshake();
      for (const m of publishPreamble(`idle${i}`, 4096)) await client.write(m);
      idle.push(client);
    }
    for (let i = 0; i < 4; i++) ffs.push(publish(`ff${i}`));
    await receiver.waitFor(() => receiver.connections.length === 8 && receiver.connections.every((x) => x.frames > 5), 30_000);
    const root = await until("24 sessions listed", async () => {
      const r = await get<Root>("/rtmp_kmp_api/");
      return r.servers[0].applications[0].sessions.length === 24 ? r : null;
    });
    const sessions = root.servers[0].applications[0].sessions;
    const conns = sessions.map((s) => s.connection);
    assert.equal(new Set(conns).size, 24, `connection ids unique across workers: ${conns}`);
    assert.deepEqual(conns, [...conns].sort((a, b) => a - b), "sessions sorted by connection");
    assert.equal(root.workers.length, 2);
    const [w0, w1] = root.workers;
    assert.ok(w0.pid !== w1.pid && w0.pid !== root.pid && w1.pid !== root.pid, "two worker processes besides the primary");
    assert.ok(w0.sessions.length > 0 && w1.sessions.length > 0, `both workers serve sessions: ${w0.sessions.length}/${w1.sessions.length}`);
    assert.deepEqual([...w0.sessions, ...w1.sessions].sort((a, b) => a - b), conns, "every session belongs to one worker");

    const tracks = await get<Record<string, { input_id: string; channel_id: string }>>("/kmp_out_api/tracks");
    const ids = Object.keys(tracks);
    assert.equal(ids.length, 8, "4 publishers × 2 tracks");
    assert.equal(new Set(ids).size, 8);
    assert.deepEqual([...w0.tracks, ...w1.tracks].sort(), [...ids].sort(), "every track belongs to one worker");
    for (const w of root.workers) {
      for (const id of w.tracks) {
        const one = await get<{ kmp_out_id: string; input_id: string }>(`/kmp_out_api/tracks/${id}`);
        assert.equal(one.kmp_out_id, id, "a track's own route answers from its worker");
        assert.equal(one.input_id, tracks[id].input_id);
      }
    }
    const metrics = await (await fetch(`${api}/metrics`)).text();
    const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1]);
    assert.equal(sample("rtmp_kmp_sessions"), 24, "sessions summed over workers");
    assert.equal(sample("rtmp_kmp_tracks"), 8, "tracks summed over workers");
    assert.equal(sample("rtmp_kmp_workers"), 2);
    assert.match(metrics, /^rtmp_kmp_worker_up\{worker="0"\} 1$/m);
    assert.match(metrics, /^rtmp_kmp_worker_up\{worker="1"\} 1$/m);

    // the status page's data over both workers: every session, each with its worker
    type Ui = { server: { workers: { worker: number; ready: boolean; sessions: number }[] }; sessions: { connection: number; worker: number }[] };
    const ui = await get<Ui>("/ui/status.json");
    assert.deepEqual(ui.sessions.map((x) => x.connection), conns, "the status page lists every worker's sessions");
    for (const w of root.workers) {
      assert.deepEqual(ui.sessions.filter((x) => x.worker === w.worker).map((x) => x.connection).sort((a, b) => a - b), w.sessions);
    }
    assert.deepEqual(ui.server.workers.map((w) => [w.worker, w.ready, w.sessions]), root.workers.map((w) => [w.worker, true, w.sessions.length]));

    // DELETE reaches the worker that owns the session
    const ffSession = sessions.find((s) => s.streams.some((st) => st.name === "ff0"))!;
    const del = await fetch(`${api}/rtmp_kmp_api/sessions/${ffSession.connection}`, { method: "DELETE" });
    assert.equal(del.status, 204);
    await controller.waitFor(() => controller.events("unpublish").length === 2, 10_000);
    assert.ok(controller.events("unpublish").every((e) => e.reason === "rtmp_disconnect" && String(e.input_id).includes("/ff0/")));
    assert.equal((await fetch(`${api}/rtmp_kmp_api/sessions/99999999`, { method: "DELETE" })).status, 404);

    // SIGKILL the worker serving the most ffmpeg tracks: its tracks get their unpublish from the primary
    const now = await get<Root>("/rtmp_kmp_api/");
    const victim = [...now.workers].sort((a, b) => b.tracks.length - a.tracks.length)[0];
    assert.ok(victim.tracks.length > 0);
    const before = controller.events("unpublish").length;
    process.kill(victim.pid, "SIGKILL");
    await controller.waitFor(() => controller.events("unpublish").length === before + victim.tracks.length, 15_000).catch((e) => {
      throw new Error(`${e.message}: ${controller.events("unpublish").length - before} of ${victim.tracks.length}\n${server.output()}`);
    });
    const replaced = await until("the killed worker replaced", async () => {
      const r = await get<Root>("/rtmp_kmp_api/");
      const w = r.workers.find((x) => x.worker === victim.worker);
      return w && w.pid !== victim.pid && w.ready ? r : null;
    });
    assert.equal(replaced.workers.length, 2);
    assert.match(server.output(), new RegExp(`worker ${victim.worker} \\(pid ${victim.pid}\\) died`));
    assert.equal((await get<{ status: string }>("/healthz")).status, "ok");
    const uiAfter = await get<Ui>("/ui/status.json"); // the page goes on across the restart
    assert.equal(uiAfter.server.workers.length, 2);
    assert.ok(uiAfter.server.workers.every((w) => w.ready));

    // SIGTERM: every worker drains (eost, unpublish for every track still up) and the primary exits 0
    const live = Object.keys(await get<Record<string, unknown>>("/kmp_out_api/tracks")).length;
    const beforeStop = controller.events("unpublish").length;
    const r = await server.stop("SIGTERM");
    const exitedCleanly = r.code === 0 || (RUNTIME === "deno" && r.code === null && r.signal === "SIGTERM");
    assert.ok(exitedCleanly, `exit ${r.code} ${r.signal}\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /all workers stopped/);
    await controller.waitFor(() => controller.events("unpublish").length === beforeStop + live, 5_000);
    assert.equal(controller.events("unpublish").length, controller.events("publish").length, "one unpublish per published track");
  } finally {
    for (const f of ffs) await f.stop("SIGKILL");
    for (const c of idle) c.close();
    await close();
  }
});

test("worker_processes 2: when the primary is killed, its workers drain (eost, unpublish) and exit", { timeout: 60_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  const { receiver, controller, rtmp, apiPort, server, close } = await cliServer("workers-orphan-", { head: "worker_processes 2;", http: "location / { rtmp_kmp_api; }" });
  let ff: ReturnType<typeof start> | null = null;
  try {
    const root = await until("two workers ready", async () => {
      const r = await (await fetch(`http://127.0.0.1:${apiPort}/`)).json() as Root;
      return r.workers.length === 2 && r.workers.every((w) => w.ready) ? r : null;
    }, 30_000);
    ff = start("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", join(INPUTS, "av_h264baseline_aac.flv"), "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${rtmp}/live/orphan`]);
    await receiver.waitFor(() => receiver.connections.length === 2 && receiver.connections.every((x) => x.frames > 5), 20_000);
    process.kill(server.child.pid!, "SIGKILL");
    await controller.waitFor(() => controller.events("unpublish").length === 2, 15_000);
    await receiver.waitFor(() => receiver.connections.every((x) => x.eos), 5_000);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until("both workers exited", () => Promise.resolve(root.workers.every((w) => !alive(w.pid))), 20_000);
  } finally {
    await ff?.stop("SIGKILL");
    await close();
  }
});
