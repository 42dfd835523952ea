import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferPool } from "../../src/bytes/buffer-pool.ts";
import { ByteLog, PACKET_FRAME } from "../../src/kmp/byte-log.ts";
import { getRuntime } from "../../src/runtime/detect.ts";

test("BufferPool: bounded in bytes; reuses by size; an idle pool empties in two trims, a busy one keeps what it lent out", () => {
  const pool = new BufferPool(3 * 65536);
  for (let i = 0; i < 4; i++) pool.give(new Uint8Array(65536));
  assert.equal(pool.held, 3 * 65536, "the fourth buffer is over the bound");
  assert.equal(pool.take(4096), null, "no buffer of another size");
  assert.equal(pool.take(65536)?.byteLength, 65536);
  pool.trim(); // the first interval started empty: nothing let go
  assert.equal(pool.held, 2 * 65536);
  pool.trim(); // both stayed a whole interval
  assert.equal(pool.held, 0, "what nobody took is let go");
  pool.give(new Uint8Array(65536));
  pool.give(new Uint8Array(65536));
  pool.trim(); // low-water was 0 (empty after the last trim): nothing let go
  assert.equal(pool.held, 2 * 65536);
  assert.ok(pool.take(65536));
  pool.give(new Uint8Array(65536));
  pool.trim(); // low-water 1 buffer
  assert.equal(pool.held, 65536);
  pool.trim(); // idle a whole interval
  assert.equal(pool.held, 0);
  pool.give(new Uint8Array(4096));
  pool.clear();
  assert.equal(pool.held, 0);
});

test("a log's new buffers come from the runtime's unfilled allocation (its own memory, a plain Uint8Array); released ones are reused", async () => {
  const rt = await getRuntime();
  const sizes: number[] = [];
  const pool = new BufferPool(1 << 20, (size) => {
    sizes.push(size);
    return rt.allocUnfilled(size);
  });
  const log = new ByteLog({ bufferSize: 4096, memLimit: 4096 * 8, maxFreeBuffers: 0, pool });
  const body = new Uint8Array(3000).fill(7);
  for (let i = 0; i < 4; i++) log.writePacket(PACKET_FRAME, new Uint8Array(8).fill(i), body);
  assert.deepEqual(sizes, [4096, 4096, 4096], "three buffers for 4 × 3008 bytes");
  const b = rt.allocUnfilled(65536);
  assert.equal(Object.getPrototypeOf(b), Uint8Array.prototype, "a plain Uint8Array (one shape on the frame path)");
  assert.equal(b.byteLength, 65536);
  assert.equal(b.byteOffset, 0);
  assert.equal(b.buffer.byteLength, 65536, "its own memory, not a view of a shared pool");
  log.clear();
  assert.equal(pool.held, 3 * 4096, "the released buffers went to the pool");
  log.writePacket(PACKET_FRAME, new Uint8Array(8), body);
  assert.equal(sizes.length, 3, "the next buffer came from the pool");
});

test("lend: powers of two from 4 KiB, from the pool when it holds one of that size, however it came back", () => {
  const made: number[] = [];
  const pool = new BufferPool(1 << 20, (size) => {
    made.push(size);
    return new Uint8Array(size);
  });
  assert.deepEqual([1, 4096, 4097, 65536, 65537, 1_000_000].map((n) => pool.lend(n).byteLength), [4096, 4096, 8192, 65536, 131072, 1_048_576]);
  assert.equal(made.length, 6, "an empty pool allocates");
  const b = pool.lend(5000);
  pool.give(b);
  assert.equal(pool.lend(7000), b, "a buffer given back is lent again for any size of its class");
  pool.give(new Uint8Array(65536)); // given, never lent
  made.length = 0;
  assert.equal(pool.lend(40_000).byteLength, 65536);
  assert.equal(made.length, 0, "any buffer of the class serves");
});
