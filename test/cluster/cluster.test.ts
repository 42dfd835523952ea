import { test } from "node:test";
import assert from "node:assert/strict";
import { sumExpositions } from "../../src/cluster/metrics-sum.ts";
import { PrimaryLink } from "../../src/cluster/primary-link.ts";
import { TOKEN_HEADER } from "../../src/cluster/protocol.ts";
import { Logger } from "../../src/log/logger.ts";
import { getRuntime } from "../../src/runtime/detect.ts";
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

test("PrimaryLink: owed unpublishes reach the primary in requests under the body limit; one too big to send is dropped, not retried forever", async () => {
  const rt = await getRuntime();
  const bodies: { set: [string, unknown][]; clear: string[] }[] = [];
  const sizes: number[] = [];
  const http = await rt.serveHttp({ hostname: "127.0.0.1", port: 0 }, async (req) => {
    assert.equal(req.headers.get(TOKEN_HEADER), "secret");
    const text = await req.text();
    sizes.push(new TextEncoder().encode(text).length);
    bodies.push(JSON.parse(text));
    return new Response(null, { status: 204 });
  });
  const lines: string[] = [];
  const link = new PrimaryLink({ url: `http://127.0.0.1:${http.addr.port}`, token: "secret", instance: 0, log: new Logger({ sink: (l) => lines.push(l) }) });
  const options = { timeoutMs: 1000, readTimeoutMs: 1000, bufferSize: 4096, headers: [] };
  try {
    for (let i = 0; i < 60; i++) link.owed(`c${i}/in`, { url: "http://ctl/unpublish", body: `{"x":"${"é".repeat(500)}"}`, options });
    link.owed("huge/in", { url: "http://ctl/unpublish", body: `{"page_url":"${"ü".repeat(40_000)}"}`, options });
    link.owed("c0/in", null);
    for (let t0 = Date.now(); bodies.flatMap((b) => b.set).length + bodies.flatMap((b) => b.clear).length < 60 && Date.now() - t0 < 5000; ) await new Promise((r) => setTimeout(r, 20));
    const set = bodies.flatMap((b) => b.set).map(([k]) => k);
    const clear = bodies.flatMap((b) => b.clear);
    assert.ok(!set.includes("huge/in"), "the unsendable one is dropped");
    assert.ok(lines.some((l) => l.includes("huge/in") && l.includes("cannot send")), lines.join("\n"));
    for (let i = 1; i < 60; i++) assert.ok(set.includes(`c${i}/in`), `c${i} told`);
    assert.ok(set.includes("c0/in") ? clear.includes("c0/in") : !clear.includes("c0/in"), "c0 cleared once it was told, or never told");
    assert.ok(bodies.length >= 2, "split into several requests");
    assert.ok(Math.max(...sizes) < 64 * 1024, `every request under the API's body limit: ${sizes}`);
  } finally {
    await http.close();
  }
});
