/** ReadBatch: which reads go on at once, which wait for the window, and that nothing is lost or reordered. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HELD_BYTES, ReadBatch } from "../../src/ingest/read-batch.ts";
import { ReadSlab } from "../../src/bytes/slab.ts";
import type { ByteSink } from "../../src/runtime/types.ts";

/** A stage entry that records what reaches it: each read's tag (its fill byte) in order, and the writes. */
function recorder(room = 256 * 1024) {
  const got: number[] = [];
  const writes: number[] = [];
  let closed = false;
  let aborted: unknown = null;
  const sink: ByteSink = {
    write: (c) => {
      writes.push(c.byteLength);
      for (let i = 0; i < c.byteLength; i++) if (i === 0 || c[i] !== c[i - 1]) got.push(c[i]);
      return undefined;
    },
    get desiredSize() {
      return room;
    },
    ready: Promise.resolve(),
    close: async () => void (closed = true),
    abort: async (r) => void (aborted = r),
  };
  return { sink, got, writes, state: () => ({ closed, aborted }) };
}

const chunk = (tag: number, n = 100) => new Uint8Array(n).fill(tag);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a read within the window waits for the round; the rest go on at once; order is kept", async () => {
  let now = 1_000;
  const batch = new ReadBatch({ nowMs: () => now, preciseMs: () => now });
  const a = recorder();
  const b = recorder();
  const ia = batch.input(a.sink, 20);
  const ib = batch.input(b.sink, 20);
  ia.write(chunk(1)); // first read: at once
  ib.write(chunk(1));
  assert.deepEqual([a.got, b.got], [[1], [1]]);
  now += 5;
  ia.write(chunk(2)); // within the window: held
  ia.write(chunk(3));
  ib.write(chunk(2));
  assert.deepEqual([a.got, b.got], [[1], [1]]);
  assert.equal(ia.desiredSize, 256 * 1024 - 200, "held bytes count against the room");
  await sleep(60);
  assert.deepEqual([a.got, b.got], [[1, 2, 3], [1, 2]]);
  assert.deepEqual(a.writes, [100, 200], "the held reads went on as one chunk");
  assert.equal(ia.desiredSize, 256 * 1024);
  now += 100; // a pause longer than the window: the next read goes on at once
  ia.write(chunk(4));
  assert.deepEqual(a.got, [1, 2, 3, 4]);
});

test("a session that holds HELD_BYTES hands them on at once; close hands on what is held; abort drops it", async () => {
  let now = 1_000;
  const batch = new ReadBatch({ nowMs: () => now, preciseMs: () => now });
  const a = recorder();
  const ia = batch.input(a.sink, 1_000);
  ia.write(chunk(1));
  const n = 16 * 1024;
  let tag = 2;
  for (let held = 0; held + n < HELD_BYTES; held += n) ia.write(chunk(tag++, n));
  assert.deepEqual(a.got, [1]);
  ia.write(chunk(tag, n)); // reaches HELD_BYTES
  assert.equal(a.writes.length, 2, "everything held went on at once, as one chunk");
  assert.deepEqual(a.got, Array.from({ length: tag }, (_, i) => i + 1));
  now += 1;
  ia.write(chunk(50));
  await ia.close();
  assert.equal(a.got.at(-1), 50);
  assert.equal(a.state().closed, true);

  const b = recorder();
  const ib = batch.input(b.sink, 1_000);
  ib.write(chunk(1));
  ib.write(chunk(2));
  const reason = new Error("gone");
  await ib.abort(reason);
  assert.deepEqual(b.got, [1]);
  assert.equal(b.state().aborted, reason);
});

test("window 0: the socket writes into the stage itself", () => {
  const batch = new ReadBatch({ nowMs: () => 0, preciseMs: () => 0 });
  const a = recorder();
  assert.equal(batch.input(a.sink, 0), a.sink);
});

test("ReadSlab.join: the parts one after the other in one view; a full block starts a new one", () => {
  const slab = new ReadSlab(16);
  const first = slab.join([chunk(1, 3), chunk(2, 4)], 7);
  assert.deepEqual([...first], [1, 1, 1, 2, 2, 2, 2]);
  const second = slab.join([chunk(3, 5), chunk(4, 5)], 10); // 7 + 10 > 16: a new block
  assert.deepEqual([...second], [3, 3, 3, 3, 3, 4, 4, 4, 4, 4]);
  assert.notEqual(second.buffer, first.buffer);
  assert.deepEqual([...first], [1, 1, 1, 2, 2, 2, 2], "a view is never written again");
  const big = slab.join([chunk(5, 20)], 20); // larger than a block: a block of its own
  assert.equal(big.byteLength, 20);
});
