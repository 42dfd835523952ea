/**
 * The media path in one process, below the socket: N publishing sessions of a real server
 * (connect and publish over loopback to an in-process controller and acking KMP receiver), then
 * each session's chunk stream written straight into its demuxer entry, one message per "read",
 * round robin over the sessions like real-time publishers. Prints CPU per message (the in-process
 * controller and KMP receiver included). `PROFILE=FILE` (Node) writes a CPU profile of the run.
 *   npx tsx bench/media-path.bench.ts [N] [messages]      INPUT=FLV to choose the input
 */
import { join } from "node:path";
import { parseNginxConf } from "../src/config/index.ts";
import { Logger } from "../src/log/logger.ts";
import { getRuntime } from "../src/runtime/detect.ts";
import { IngestServer } from "../src/server/server.ts";
import { Controller } from "../src/tools/controller.ts";
import { KmpReceiver } from "../src/tools/kmp-receiver.ts";
import { RawClient, publishPreamble } from "../test/helpers/raw-client.ts";
import { ChunkStreamEncoder } from "../test/helpers/chunk-stream-encoder.ts";
import { flvMessages } from "./flv-to-rtmp.ts";
import { ROOT, sleep } from "./proc.ts";

const [nArg = "300", mArg = "400000"] = process.argv.slice(2);
const N = Number(nArg);
const M = Number(mArg);
const INPUT = process.env.INPUT ?? join(ROOT, "..", "shared", "fixtures", "inputs", "av_h264main_bframes_aac.flv");

const rt = await getRuntime();
const receiver = await new KmpReceiver({ runtime: rt, keepPackets: false }).start();
const controller = await new Controller({ runtime: rt, kmpUrl: receiver.url }).start();
const c = controller.url;
const config = parseNginxConf(`rtmp { server { listen 127.0.0.1:0; application live { live on;
  kmp_ctrl_connect_url ${c}/connect; kmp_ctrl_publish_url ${c}/publish; kmp_ctrl_unpublish_url ${c}/unpublish; kmp_ctrl_republish_url ${c}/republish; } } }`, "bench.conf");
const server = new IngestServer({ config, runtime: rt, log: new Logger({ level: "warn", sink: () => {} }) });
await server.start();
const port = server.addresses[0].port;
const msgs = flvMessages(INPUT);
const span = msgs.at(-1)!.timestamp + 40;
const CHUNK = 4096;

type Pub = { client: RawClient; enc: ChunkStreamEncoder; idx: number; loop: number; sink?: { write(b: Uint8Array): unknown }; pump?: { free: boolean; whenFree(): Promise<void> } };
const pubs: Pub[] = [];
for (let i = 0; i < N; i++) {
  const client = await RawClient.connect(rt, port);
  await client.handshake();
  for (const b of publishPreamble(`s${i}`, CHUNK)) await client.write(b);
  pubs.push({ client, enc: new ChunkStreamEncoder(CHUNK), idx: 0, loop: 0 });
}
const next = (p: Pub): Uint8Array => {
  const m = msgs[p.idx];
  const b = p.enc.encode({ csid: m.csid, msid: 1, type: m.type, timestamp: m.timestamp + p.loop * span, payload: m.payload });
  if (++p.idx === msgs.length) (p.idx = 0), p.loop++;
  return b;
};
// the first 60 messages over the socket: every track publishes
for (let k = 0; k < 60; k++) for (const p of pubs) await p.client.write(next(p));
while (receiver.connections.length < 2 * N) await sleep(50);
await sleep(300);
for (const s of server.sessions) {
  const pump = (s as unknown as { pump: { demuxer: { input(t: unknown): { sink: Pub["sink"] } } } & Pub["pump"] }).pump;
  const name = [...(s as unknown as { streams: Map<number, { name: string }> }).streams.values()][0]?.name;
  const p = pubs[Number(String(name).slice(1))];
  p.pump = pump!;
  p.sink = pump.demuxer.input(pump).sink;
}
// pre-encode per publisher so the encoder is not measured
const ROUNDS = Math.ceil(M / N);
const pre: Uint8Array[][] = pubs.map((p) => Array.from({ length: Math.min(ROUNDS, 4000) }, () => next(p)));
const run = async (rounds: number) => {
  let sent = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < N; i++) {
      const p = pubs[i];
      if (!p.pump!.free) await p.pump!.whenFree();
      p.sink!.write(pre[i][r % pre[i].length]);
      sent++;
    }
    if ((r & 7) === 7) await new Promise((res) => setImmediate(res));
  }
  return sent;
};
await run(Math.min(200, ROUNDS));
const prof = process.env.PROFILE ? await startProfile() : null;
const c0 = process.cpuUsage();
const t0 = performance.now();
const sent = await run(ROUNDS);
const cpu = process.cpuUsage(c0);
const ms = performance.now() - t0;
if (prof) await prof(process.env.PROFILE!);
console.log(`${rt.name} N=${N}: ${sent} messages in ${ms.toFixed(0)} ms; CPU ${(cpu.user / 1000).toFixed(0)} ms user + ${(cpu.system / 1000).toFixed(0)} ms sys = ${((cpu.user + cpu.system) / sent).toFixed(2)} µs per message`);
for (const p of pubs) p.client.close();
await server.stop(2000).catch(() => {});
await controller.close();
await receiver.close();
process.exit(0);

async function startProfile(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import("node:inspector/promises");
  const { writeFileSync } = await import("node:fs");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  return async (file) => {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
  };
}
