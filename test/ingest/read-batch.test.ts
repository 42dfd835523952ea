/**
 * ReadBatch (`read_batch`): which reads are followed by a rest of the socket, that every read is
 * handed on at once and in order, and — over real loopback sockets on each runtime — that a
 * resting socket is not read, so what the peer sends meanwhile arrives in one read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReadBatch, REST_AFTER_BYTES, restMaxBytes } from "../../src/ingest/read-batch.ts";
import { getRuntime } from "../../src/runtime/detect.ts";
import type { ByteSink, Conn } from "../../src/runtime/types.ts";

/** A stage entry that records what reaches it: the tags (fill bytes) of the pieces in order, and the writes. */
function recorder(room = 256 * 1024) {
  const got: number[] = [];
  const writes: number[] = [];
  let space = room;
  let closed = false;
  let aborted: unknown = null;
  let last = -1; // a read may end inside a piece: the tags are runs across reads
  const sink: ByteSink = {
    write: (c) => {
      writes.push(c.byteLength);
      for (let i = 0; i < c.byteLength; i++) if (c[i] !== last) got.push((last = c[i]));
      return undefined;
    },
    get desiredSize() {
      return space;
    },
    ready: Promise.resolve(),
    close: async () => void (closed = true),
    abort: async (r) => void (aborted = r),
  };
  return { sink, got, writes, setRoom: (n: number) => void (space = n), state: () => ({ closed, aborted }) };
}

const chunk = (tag: number, n = 100) => new Uint8Array(n).fill(tag);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("every read goes on at once; once a session streams, a read within the window of the last is followed by a rest until the round's timer", async () => {
  let now = 1_000;
  const batch = new ReadBatch({ nowMs: () => now, preciseMs: () => now });
  const a = recorder();
  const b = recorder();
  const ia = batch.input(a.sink, 30, true);
  const ib = batch.input(b.sink, 30, true);
  ia.write(chunk(1, REST_AFTER_BYTES)); // the first read (past the session's start): no rest after it
  ib.write(chunk(1, REST_AFTER_BYTES));
  now += 10;
  ia.write(chunk(2));
  ib.write(chunk(2));
  assert.equal(ia.desiredSize, 256 * 1024, "no rest in a session's first window (its rate is not known yet)");
  now += 25; // a new window; the last one was quiet (under restMaxBytes(30)) and this read is within 25 ms of the last
  ia.write(chunk(3));
  assert.deepEqual(a.got, [1, 2, 3], "a read is never held in the process");
  assert.equal(ia.desiredSize, 0, "resting: the read side pauses");
  assert.equal(ib.desiredSize, 256 * 1024, "only a session that read rests");
  ib.write(chunk(3));
  assert.equal(ib.desiredSize, 0);
  assert.equal(ia.ready, ib.ready, "one wake-up for every session resting in the round");
  let woke = false;
  const wake = ia.ready.then(() => void (woke = true));
  await sleep(5);
  assert.equal(woke, false, "the rest lasts until the round's timer");
  await wake;
  assert.equal(ia.desiredSize, 256 * 1024, "awake: the room of the stage below again");
  assert.equal(ib.desiredSize, 256 * 1024);
  now += 25; // the read the rest gathered: within the window of the last, so another rest
  ia.write(chunk(4));
  assert.equal(ia.desiredSize, 0);
  await ia.ready;
  now += 100; // after a pause longer than the window: no rest
  ia.write(chunk(5));
  assert.equal(ia.desiredSize, 256 * 1024);
  assert.deepEqual(a.got, [1, 2, 3, 4, 5]);
  assert.deepEqual(a.writes, [REST_AFTER_BYTES, 100, 100, 100, 100], "one write below per read");
});

test("no rest for a session that read restMaxBytes(window) in its last window or in this one; the stage below's own backpressure still counts", async () => {
  let now = 1_000;
  const batch = new ReadBatch({ nowMs: () => now, preciseMs: () => now });
  const a = recorder();
  const ia = batch.input(a.sink, 1_000, true);
  ia.write(chunk(1, REST_AFTER_BYTES));
  now += 1;
  ia.write(chunk(2, restMaxBytes(1_000))); // a fast publisher's window
  now += 1_000;
  ia.write(chunk(3));
  assert.equal(ia.desiredSize, 256 * 1024, "the last window was fast: read on");
  now += 1_000;
  ia.write(chunk(4, restMaxBytes(1_000))); // the last window was quiet, this read alone reaches the limit
  assert.equal(ia.desiredSize, 256 * 1024, "this window is fast: read on");
  now += 2_000; // a quiet window between: the session may rest again
  ia.write(chunk(5));
  now += 1;
  a.setRoom(0);
  ia.write(chunk(6));
  assert.equal(ia.desiredSize, 0, "resting");
  a.setRoom(-5);
  assert.equal(ia.desiredSize, 0);
  await ia.ready;
  assert.equal(ia.desiredSize, -5, "awake: the stage below's own backpressure");
  assert.deepEqual(a.got, [1, 2, 3, 4, 5, 6]);
});

test("a session's start (its first REST_AFTER_BYTES: commands, metadata, sequence headers) is read as it comes", () => {
  let now = 1_000;
  const batch = new ReadBatch({ nowMs: () => now, preciseMs: () => now });
  const a = recorder();
  const ia = batch.input(a.sink, 200, true);
  const commands = Math.ceil(REST_AFTER_BYTES / 300);
  for (let i = 0; i < commands; i++) {
    now += i < 2 ? 1 : 150; // reads within the window of each other, past the first window
    ia.write(chunk(i + 1, 300));
    assert.equal(ia.desiredSize, 256 * 1024, `no rest after read ${i + 1} of the session's start`);
  }
  now += 10;
  ia.write(chunk(100, 300));
  assert.equal(ia.desiredSize, 0, "past its start, a streaming session rests");
});

test("close and abort go below at once; a closed session's rest still ends", async () => {
  let now = 1_000;
  const batch = new ReadBatch({ nowMs: () => now, preciseMs: () => now });
  const a = recorder();
  const ia = batch.input(a.sink, 20, true);
  ia.write(chunk(1, REST_AFTER_BYTES));
  now += 15;
  ia.write(chunk(2));
  now += 10;
  ia.write(chunk(3));
  assert.equal(ia.desiredSize, 0, "resting");
  const rest = ia.ready;
  await ia.close();
  assert.equal(a.state().closed, true);
  assert.equal(ia.desiredSize, 256 * 1024, "nothing rests once closed");
  await rest; // the read side waiting on it goes on (and finds the socket ended)
  const b = recorder();
  const ib = batch.input(b.sink, 20, true);
  ib.write(chunk(1));
  const reason = new Error("gone");
  await ib.abort(reason);
  assert.equal(b.state().aborted, reason);
  assert.deepEqual([a.got, b.got], [[1, 2, 3], [1]]);
});

test("window 0, or a socket whose reads do not take all that waits: the socket writes into the stage itself", () => {
  const batch = new ReadBatch({ nowMs: () => 0, preciseMs: () => 0 });
  const a = recorder();
  assert.equal(batch.input(a.sink, 0, true), a.sink);
  assert.equal(batch.input(a.sink, 100, false), a.sink);
});

/** Accepts one connection. */
async function acceptOne(l: AsyncIterable<Conn>): Promise<Conn> {
  for await (const c of l) return c;
  throw new Error("listener closed");
}

test("over a real socket: a resting socket is not read; what the peer sent meanwhile comes in one read, whole and in order", { timeout: 30_000 }, async () => {
  const rt = await getRuntime();
  const l = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  const PIECES = 80;
  const SIZE = 300;
  try {
    const accepted = acceptOne(l);
    const client = await rt.connect({ hostname: "127.0.0.1", port: l.addr.port });
    const server = await accepted;
    const rec = recorder();
    let closed!: () => void;
    const done = new Promise<void>((r) => (closed = r));
    const close = rec.sink.close;
    rec.sink.close = () => {
      closed();
      return close();
    };
    const batch = new ReadBatch({ nowMs: () => performance.now(), preciseMs: () => performance.now() });
    void server.pipeInto(batch.input(rec.sink, 100, server.wholeReads), new AbortController().signal);
    const w = client.writable.getWriter();
    for (let i = 0; i < PIECES; i++) {
      await w.write(chunk(i + 1, SIZE)); // one small write every 5 ms, as a real-time publisher's frames (the first window is read as it comes)
      await sleep(5);
    }
    await w.close();
    await done;
    assert.deepEqual(rec.got, Array.from({ length: PIECES }, (_, i) => i + 1), "every piece, in order");
    assert.equal(rec.writes.reduce((s, n) => s + n, 0), PIECES * SIZE);
    assert.ok(rec.writes.length <= PIECES / 2, `${rec.writes.length} reads for ${PIECES} writes 5 ms apart: the socket was read while it rested`);
    assert.ok(rec.writes.some((n) => n >= 3 * SIZE), "a read after a rest takes what came meanwhile");
    client.close();
    server.close();
  } finally {
    l.close();
  }
});
