import { test } from "node:test";
import assert from "node:assert/strict";

test("runtime has web streams", async () => {
  const ts = new TransformStream<number, number>({ transform(c, ctl) { ctl.enqueue(c * 2); } });
  const w = ts.writable.getWriter();
  void w.write(21);
  const r = await ts.readable.getReader().read();
  assert.equal(r.value, 42);
});
