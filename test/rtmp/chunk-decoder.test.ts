import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { BufferPool } from "../../src/bytes/buffer-pool.ts";
import { ChunkDecoder, type RtmpMessage } from "../../src/rtmp/chunk-decoder.ts";
import { encodeMessage } from "../../src/rtmp/chunk-encoder.ts";
import { ChunkStreamEncoder } from "../helpers/chunk-stream-encoder.ts";
import { RtmpDemuxer, type MessageBatch } from "../../src/rtmp/demuxer.ts";
import { RtmpError } from "../../src/rtmp/errors.ts";
import { afterHandshake, randomSplits, rawRtmpScenarios, readBin, readDump } from "../helpers/fixtures.ts";
import { requireShared } from "../helpers/paths.ts";
import { chunk as chunkOf } from "../helpers/raw-client.ts";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

function decodeAll(pieces: Iterable<Uint8Array>): { msgs: { csid: number; type: number; msid: number; ts: number; len: number; md5: string }[]; decoder: ChunkDecoder } {
  const msgs: { csid: number; type: number; msid: number; ts: number; len: number; md5: string }[] = [];
  const decoder = new ChunkDecoder({
    onMessage: (m) => msgs.push({ csid: m.csid, type: m.type, msid: m.msid, ts: m.timestamp, len: m.payload.byteLength, md5: md5(m.payload) }),
  });
  for (const p of pieces) decoder.push(p);
  return { msgs, decoder };
}

test("the fixture loop below has cases: every scenario with raw RTMP bytes", () => {
  requireShared();
  assert.ok(rawRtmpScenarios().length >= 6, `only ${rawRtmpScenarios().length} scenarios with conn1_c2s.bin`);
});

for (const scenario of rawRtmpScenarios()) {
  test(`${scenario}: every fixture message, whole / 1 byte at a time / random splits`, () => {
    const body = afterHandshake(readBin(scenario, "conn1_c2s.bin"));
    const whole = decodeAll([body]);
    const dump = readDump(scenario, "conn1_c2s.txt");
    assert.equal(whole.msgs.length, dump.total, "message count matches the fixture dump");
    for (const l of dump.lines) {
      const m = whole.msgs[l.n - 1];
      assert.deepEqual([m.csid, m.type, m.msid, m.ts, m.len], [l.csid, l.type, l.msid, l.ts, l.len], `msg#${l.n}`);
      if (l.md5) assert.equal(m.md5, l.md5, `msg#${l.n} payload md5`);
    }
    const bytes = function* () {
      for (let i = 0; i < body.byteLength; i++) yield body.subarray(i, i + 1);
    };
    assert.deepEqual(decodeAll(bytes()).msgs, whole.msgs, "1-byte pieces");
    for (const seed of [1, 7, 42]) assert.deepEqual(decodeAll(randomSplits(body, seed)).msgs, whole.msgs, `random splits seed ${seed}`);
  });
}

test("RtmpDemuxer: one batch per socket read, the same messages as the decoder, queues in bytes", async () => {
  requireShared();
  const scenarios = rawRtmpScenarios();
  assert.ok(scenarios.length > 0, "no fixture scenario ships conn1_c2s.bin");
  const body = afterHandshake(readBin(scenarios[0], "conn1_c2s.bin"));
  const reads = [...randomSplits(body, 3, 9000)];
  const src = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of reads) c.enqueue(p);
      c.close();
    },
  });
  const batches: MessageBatch[] = [];
  for await (const b of src.pipeThrough(new RtmpDemuxer())) batches.push(b);
  assert.ok(batches.length <= reads.length, "at most one batch per read");
  const msgs = batches.flatMap((b) => b.messages);
  assert.deepEqual(msgs.map((m) => [m.type, m.timestamp, m.payload.length]), decodeAll([body]).msgs.map((m) => [m.type, m.ts, m.len]));
  for (const b of batches) assert.equal(b.bytes, b.messages.reduce((n, m) => n + m.payload.byteLength + 64, 0));
});

test("RtmpDemuxer: messages complete before malformed input are delivered, then the error", async () => {
  const good = chunkOf(4, 8, 1, 0, Uint8Array.of(0xaf, 1, 2, 3));
  const bad = Uint8Array.of(0x01, 0xff, 0xff, 0, 0, 0, 0, 0, 4, 20, 0, 0, 0, 0); // 3-byte csid 65599
  const src = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array([...good, ...bad])); c.enqueue(good); c.close(); } });
  const batches: MessageBatch[] = [];
  for await (const b of src.pipeThrough(new RtmpDemuxer())) batches.push(b);
  assert.equal(batches.length, 1);
  assert.equal(batches[0].messages.length, 1);
  assert.equal((batches[0].error as RtmpError).code, "RTMP_ERR_CSID_LIMIT");
});

test("RtmpDemuxer.input: reads lent to it and overwritten after each write; reassembly buffers lent from a pool for messages a read completes, given back (and overwritten) after their batch was taken; reads while the taker is busy queue in the stream and come out in order; done after the last", async () => {
  requireShared();
  const body = afterHandshake(readBin(rawRtmpScenarios()[0], "conn1_c2s.bin"));
  const reads = [...randomSplits(body, 5, 24000)];
  // every read is lent from one buffer, as a socket's shared read buffer, and scribbled over
  // once `write` returns: what the demuxer keeps must be its own
  const lendBuf = new Uint8Array(reads.reduce((m, r) => Math.max(m, r.byteLength), 0));
  const got: MessageBatch[] = [];
  /** Each message as the taker saw it during `take` (payloads are valid until it returns). */
  const seen: [number, number, number, string][] = [];
  let waiting: Promise<void> | null = null;
  let busyTakes = 0;
  let inWrite = false;
  /** Per batch handed over later (from the queue): whether a payload still viewed the socket's buffer. */
  const fromQueue: boolean[] = [];
  const taker = {
    get free() {
      return waiting === null;
    },
    whenFree: () => waiting ?? Promise.resolve(),
    take(b: MessageBatch) {
      assert.equal(waiting, null, "a batch handed over while the taker was busy");
      got.push(b);
      for (const m of b.messages) seen.push([m.type, m.timestamp, m.payload.length, md5(m.payload)]);
      if (!inWrite) fromQueue.push(b.messages.some((m) => m.payload.buffer === lendBuf.buffer));
      // every third batch keeps the taker busy for a while: the reads behind it must queue
      if (got.length % 3 === 0) {
        busyTakes++;
        waiting = new Promise<void>((r) => setTimeout(r, 2)).then(() => void (waiting = null));
      }
    },
  };
  // the server's pool; what comes back is scribbled over before the next message may get it
  const pool = new BufferPool(1 << 20);
  let lends = 0;
  let reused = 0;
  let given = 0;
  const buffers = {
    lend(size: number) {
      lends++;
      const b = pool.take(size <= 4096 ? 4096 : 2 ** Math.ceil(Math.log2(size)));
      if (b) reused++;
      return b ?? pool.lend(size);
    },
    give(b: Uint8Array) {
      given++;
      b.fill(0xdd);
      pool.give(b);
    },
  };
  const demuxer = new RtmpDemuxer({ buffers });
  const { sink, done } = demuxer.input(taker);
  assert.equal(sink.borrows, true, "the demuxer's entry borrows reads");
  let queued = 0;
  for (const r of reads) {
    lendBuf.set(r);
    inWrite = true;
    const p = sink.write(lendBuf.subarray(0, r.byteLength));
    inWrite = false;
    lendBuf.fill(0xee);
    if (p) {
      queued++;
      await new Promise((res) => setTimeout(res, 0)); // the socket's next read comes later
    }
  }
  await sink.close();
  await done;
  assert.ok(busyTakes > 0 && queued > 0, `the queued path was not exercised (${busyTakes} busy takes, ${queued} queued reads)`);
  // a read that waits holds only its own bytes (the socket's buffer is reused by the next read)
  assert.ok(fromQueue.length > 0, "no batch came from the queue");
  assert.deepEqual(fromQueue.filter((viewsSocket) => viewsSocket), [], "a queued read kept a view of the socket's buffer");
  assert.deepEqual(seen, decodeAll([body]).msgs.map((m) => [m.type, m.ts, m.len, m.md5]));
  assert.ok(lends > 0 && reused > 0, `reassembly buffers: ${lends} lent, ${reused} of them reused`);
  // a message its read does not complete gets a buffer of its own (it waits past the batch)
  assert.ok(demuxer.decoder.allocations > lends, `${demuxer.decoder.allocations} reassembly buffers, ${lends} of them lent`);
  assert.equal(given, lends, "every lent buffer came back once its message's batch was taken");
});

test("RtmpDemuxer.input: an abort rejects done with its reason", async () => {
  const taker = { free: true, whenFree: () => Promise.resolve(), take() {} };
  const { sink, done } = new RtmpDemuxer().input(taker);
  const reason = new Error("reset by peer");
  await sink.abort(reason);
  await assert.rejects(done, (e) => e === reason);
});

test("compressed headers: fmt 1/2/3 deltas, interleaving and chunk size changes", () => {
  const enc = new ChunkStreamEncoder(128);
  const payload = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * seed) & 0xff);
  const input = [
    { csid: 6, msid: 1, type: 9, timestamp: 0, payload: payload(300, 3) },
    { csid: 4, msid: 1, type: 8, timestamp: 0, payload: payload(20, 5) },
    { csid: 6, msid: 1, type: 9, timestamp: 40, payload: payload(300, 7) }, // fmt 2 (same length/type)
    { csid: 6, msid: 1, type: 9, timestamp: 80, payload: payload(17, 9) }, // fmt 1
    { csid: 4, msid: 1, type: 8, timestamp: 23, payload: payload(20, 11) },
  ];
  const bytes = input.map((m) => enc.encode(m));
  const got = decodeAll(bytes).msgs;
  assert.deepEqual(got.map((m) => [m.csid, m.ts, m.len, m.md5]), input.map((m) => [m.csid, m.timestamp, m.payload.byteLength, md5(m.payload)]));
  // set chunk size takes effect for the very next chunk
  const big = payload(5000, 13);
  const stream = [encodeMessage({ csid: 2, msid: 0, type: 1, payload: Uint8Array.of(0, 0, 0x10, 0) }, 128), encodeMessage({ csid: 6, msid: 1, type: 9, payload: big }, 4096)];
  const r = decodeAll(stream);
  assert.equal(r.decoder.chunkSize, 4096);
  assert.equal(r.msgs[1].md5, md5(big));
});

test("extended timestamps, and a fmt-3 message after fmt 0 gets delta 0 (reference quirk)", () => {
  const p = Uint8Array.of(1, 2, 3);
  // fmt 0 with extended timestamp 0x01000000, then a fmt-3 chunk starting a new message carrying the same 4 bytes
  const m0 = encodeMessage({ csid: 6, msid: 1, type: 9, timestamp: 0x01000000, payload: p }, 128);
  const m1 = Uint8Array.of(0xc6, 0x01, 0x00, 0x00, 0x00, 9, 9, 9);
  const r = decodeAll([m0, m1]);
  assert.equal(r.msgs.length, 2);
  assert.equal(r.msgs[0].ts, 0x01000000);
  assert.equal(r.decoder.type3ExtTs, "on");
  // delta := the extended field read on the fmt-3 chunk (spec §1.3)
  assert.equal(r.msgs[1].ts, (0x01000000 + 0x01000000) >>> 0);
});

test("type-3 auto detection: 4 bytes that are not the timestamp are put back as payload", () => {
  const p = Uint8Array.from({ length: 200 }, (_, i) => i);
  const first = encodeMessage({ csid: 6, msid: 1, type: 9, timestamp: 0x01000000, payload: p.subarray(0, 128) }, 128);
  // same message, but continuation chunks without the extended field (encoder that omits it)
  const head = new Uint8Array([0x06, 0xff, 0xff, 0xff, 0, 0, 200, 9, 1, 0, 0, 0, 0x01, 0, 0, 0]);
  const stream = new Uint8Array([...head, ...p.subarray(0, 128), 0xc6, ...p.subarray(128)]);
  const r = decodeAll([stream]);
  assert.ok(first.byteLength > 0);
  assert.equal(r.decoder.type3ExtTs, "off");
  assert.equal(r.msgs.length, 1);
  assert.equal(r.msgs[0].md5, md5(p));
});

test("aggregate messages are split with rebased timestamps", () => {
  const sub = (type: number, ts: number, data: number[]) => [type, 0, 0, data.length, (ts >> 16) & 0xff, (ts >> 8) & 0xff, ts & 0xff, 0, 0, 0, 1, ...data, 0, 0, 0, data.length + 11];
  const agg = Uint8Array.from([...sub(9, 1000, [0x17, 1, 0, 0, 0, 5]), ...sub(8, 1020, [0xaf, 1, 7])]);
  const r = decodeAll([encodeMessage({ csid: 6, msid: 1, type: 22, timestamp: 5000, payload: agg }, 128)]);
  assert.deepEqual(r.msgs.map((m) => [m.type, m.ts, m.msid, m.len]), [[9, 5000, 1, 6], [8, 5020, 1, 3]]);
  const truncated = agg.subarray(0, agg.length - 5);
  assert.throws(() => decodeAll([encodeMessage({ csid: 6, msid: 1, type: 22, payload: truncated }, 128)]), (e: RtmpError) => e.code === "RTMP_ERR_BAD_AGGREGATE");
});

test("limits: csid beyond max_streams, message beyond max_message", () => {
  assert.throws(() => decodeAll([Uint8Array.of(0x01, 0xff, 0xff, 0, 0, 0, 0, 0, 1, 20, 0, 0, 0, 0)]), (e: RtmpError) => e.code === "RTMP_ERR_CSID_LIMIT");
  assert.throws(() => decodeAll([Uint8Array.of(0x03, 0, 0, 0, 0x10, 0, 1, 20, 0, 0, 0, 0)]), (e: RtmpError) => e.code === "RTMP_ERR_MESSAGE_TOO_LARGE");
  // a header split anywhere still throws once complete, and nothing is allocated for the huge length
  const d = new ChunkDecoder({ onMessage: () => {} });
  d.push(Uint8Array.of(0x03, 0, 0, 0));
  assert.throws(() => d.push(Uint8Array.of(0xff, 0xff, 0xff, 20, 0, 0, 0, 0)), (e: RtmpError) => e.code === "RTMP_ERR_MESSAGE_TOO_LARGE");
  assert.equal(d.allocations, 0);
});

test("lent reassembly buffers: only for a message its read completes, and only in a read of at least lendFromRead bytes", () => {
  const payload = new Uint8Array(10_000).map((_, i) => i * 7);
  const msg = encodeMessage({ csid: 6, msid: 1, type: 9, payload }, 128);
  const run = (lendFromRead: number, pieces: Uint8Array[]) => {
    const lent: number[] = [];
    const got: string[] = [];
    const d = new ChunkDecoder({
      buffers: { lend: (n) => (lent.push(n), new Uint8Array(16_384)), give: () => {} },
      lendFromRead,
      onMessage: (m) => got.push(md5(m.payload)),
    });
    let delivered = 0;
    for (const p of pieces) {
      d.push(p);
      delivered += d.delivered()?.length ?? 0;
    }
    assert.deepEqual(got, [md5(payload)]);
    return { lent: lent.length, delivered, allocations: d.allocations };
  };
  assert.deepEqual(run(0, [msg]), { lent: 1, delivered: 1, allocations: 1 }, "one read that completes it");
  assert.deepEqual(run(msg.byteLength, [msg]), { lent: 1, delivered: 1, allocations: 1 }, "a read exactly lendFromRead long");
  assert.deepEqual(run(msg.byteLength + 1, [msg]), { lent: 0, delivered: 0, allocations: 1 }, "a shorter read: a buffer of its own");
  const half = msg.byteLength >> 1;
  assert.deepEqual(run(0, [msg.subarray(0, half), msg.subarray(half)]), { lent: 0, delivered: 0, allocations: 1 }, "a message that waits for the next read");
});
