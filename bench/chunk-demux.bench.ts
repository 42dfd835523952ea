/**
 * Chunk demux throughput: a realistic A/V message mix (the fixture inputs) encoded as an encoder
 * would (compressed fmt 1/2/3 headers) at chunk sizes 128, 4096 and 65536, fed to the
 * ChunkDecoder in 64 KiB socket-sized slices. Prints MB/s (median of 5), messages/s and payload
 * allocations per message.
 *   npx tsx bench/chunk-demux.bench.ts | deno run -A bench/chunk-demux.bench.ts | bun bench/chunk-demux.bench.ts
 */
import { join } from "node:path";
import { ChunkDecoder } from "../src/rtmp/chunk-decoder.ts";
import { runtimeName } from "../src/runtime/detect.ts";
import { chunkStream, flvMessages } from "./flv-to-rtmp.ts";

const inputs = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..", "shared", "fixtures", "inputs");
const msgs = [...flvMessages(join(inputs, "av_h264main_bframes_aac.flv")), ...flvMessages(join(inputs, "av_h264baseline_aac.flv"))]
  .sort((a, b) => a.timestamp - b.timestamp);
const SLICE = 64 * 1024;
const TARGET = 64 * 1024 * 1024;

console.log(`| runtime | chunk size | MB/s (median of 5) | messages/s | allocations/message | stream MB |`);
console.log(`|---|---|---|---|---|---|`);
for (const chunkSize of [128, 4096, 65536]) {
  const one = chunkStream(msgs, chunkSize, 1);
  const { bytes, messages } = chunkStream(msgs, chunkSize, Math.ceil(TARGET / one.bytes.length));
  const slices: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += SLICE) slices.push(bytes.subarray(o, o + SLICE));
  const rates: number[] = [];
  let allocs = 0;
  let count = 0;
  for (let run = 0; run < 6; run++) {
    count = 0;
    const d = new ChunkDecoder({ maxMessage: 4 * 1024 * 1024, onMessage: () => void count++ });
    const t0 = performance.now();
    for (const s of slices) d.push(s);
    const ms = performance.now() - t0;
    if (run > 0) rates.push(bytes.length / 1e6 / (ms / 1000)); // run 0 warms up
    allocs = d.allocations / d.messages;
  }
  if (count !== messages) throw new Error(`decoded ${count} of ${messages} messages`);
  rates.sort((a, b) => a - b);
  const mbps = rates[2];
  console.log(`| ${runtimeName} | ${chunkSize} | ${mbps.toFixed(0)} | ${((mbps * 1e6 * messages) / bytes.length).toFixed(0)} | ${allocs.toFixed(2)} | ${(bytes.length / 1e6).toFixed(0)} |`);
}
