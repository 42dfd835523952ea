import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferPool } from "../../src/kmp/buffer-pool.ts";

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
