import { test } from "node:test";
import assert from "node:assert/strict";
import { sumExpositions } from "../../src/cluster/metrics-sum.ts";
import { IdSource, spareInstance } from "../../src/server/ids.ts";

test("IdSource: ids from the granted blocks in order, the next block asked for in time, spare ids when all are used", async () => {
  const asked: number[] = [];
  let next = 100;
  const src = new IdSource({ start: 1, end: 4 }, {
    reserve: { start: 10, end: 12 },
    instance: 3,
    refill: () => {
      asked.push(next);
      const r = { start: next, end: next + 2 };
      next += 100;
      return Promise.resolve(r);
    },
  });
  assert.deepEqual([src.next(), src.next(), src.next()], [1, 2, 3]);
  assert.equal(asked.length, 0, "a reserve block is held: nothing asked yet");
  assert.equal(src.next(), 10, "the reserve block follows");
  assert.equal(asked.length, 1, "switching to the reserve asks for the next block");
  await Promise.resolve();
  assert.deepEqual([src.next(), src.next(), src.next()], [11, 100, 101]);
  // the answer to the last ask has not arrived yet: a spare id above every block, owned by instance 3
  const slow = new IdSource({ start: 1, end: 2 }, { instance: 3, refill: () => new Promise(() => {}) });
  assert.equal(slow.next(), 1);
  const spare = slow.next();
  assert.ok(spare > 2 ** 40);
  assert.equal(spareInstance(spare), 3);
  assert.equal(spareInstance(5000), -1);
  const endless = IdSource.endless(7);
  assert.deepEqual([endless.next(), endless.next()], [7, 8]);
});

test("sumExpositions: samples with the same name and labels add up, HELP/TYPE once, families keep their samples", () => {
  const a = `# HELP x_total X\n# TYPE x_total counter\nx_total 2\n# HELP h H\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 0.5\nh_count 1\n# HELP g G\n# TYPE g gauge\ng{track="1"} 10\n`;
  const b = `# HELP x_total X\n# TYPE x_total counter\nx_total 3\n# HELP g G\n# TYPE g gauge\ng{track="2"} 20\n# HELP h H\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 0.25\nh_count 2\n`;
  assert.equal(sumExpositions([a, b]), [
    "# HELP x_total X", "# TYPE x_total counter", "x_total 5",
    "# HELP h H", "# TYPE h histogram", `h_bucket{le="1"} 3`, "h_sum 0.75", "h_count 3",
    "# HELP g G", "# TYPE g gauge", `g{track="1"} 10`, `g{track="2"} 20`,
  ].join("\n") + "\n");
});
