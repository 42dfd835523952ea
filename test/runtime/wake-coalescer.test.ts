/**
 * The wake coalescer (`src/runtime/wake-coalescer.ts`) on a scripted host whose process needs a
 * given share of a core (what arrives during a rest is done after it): it rests at every look
 * while the process has time to spare, never while it is near a full core, and looks seldom (and
 * never rests) while its load is light or while an answer is awaited; `stop()` ends it. And
 * `blockingSleep` really blocks the thread, on every runtime.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { blockingSleep, WakeCoalescer, type WakeCoalescerOptions } from "../../src/runtime/wake-coalescer.ts";

const OPTS: WakeCoalescerOptions = { sleepMs: 3, gapMs: 1, busyLimit: 0.8, restAbove: 0.25, lightCheckMs: 50, smoothing: 0.2 };

/** A clock, a CPU meter that runs at `share` of wall time, rests included, and a timer driven by hand. */
function scriptedHost(share: number) {
  const h = {
    share,
    clock: 0,
    cpu: 0,
    slept: [] as number[],
    delays: [] as number[],
    pending: null as (() => void) | null,
    host: {
      now: () => h.clock,
      cpuMs: () => h.cpu,
      schedule: (fn: () => void, ms: number) => {
        assert.equal(h.pending, null, "one look scheduled at a time");
        h.pending = fn;
        h.delays.push(ms);
      },
      sleep: (ms: number) => {
        h.slept.push(ms);
        h.clock += ms;
        h.cpu += ms * h.share;
      },
    },
    /** Lets the scheduled delay pass (the process busy for `share` of it) and runs the look. */
    step() {
      const fn = h.pending;
      assert.ok(fn, "a look is scheduled");
      h.pending = null;
      const ms = h.delays[h.delays.length - 1];
      h.clock += ms;
      h.cpu += ms * h.share;
      fn();
    },
    steps(n: number) {
      for (let i = 0; i < n; i++) h.step();
    },
  };
  return h;
}

test("wake coalescer: a loop with time to spare rests sleepMs at every look, gapMs apart", () => {
  const h = scriptedHost(0.4);
  const c = new WakeCoalescer(h.host, OPTS);
  c.start();
  h.steps(10); // the smoothed share rises past restAbove
  const before = c.rests;
  const looks = h.delays.length;
  h.steps(40);
  assert.equal(c.rests - before, 40);
  assert.ok(h.slept.every((ms) => ms === OPTS.sleepMs));
  assert.ok(h.delays.slice(looks).every((ms) => ms === OPTS.gapMs));
  assert.ok(Math.abs(c.busyShare - 0.4) < 0.01, `busy share ${c.busyShare}`);
});

test("wake coalescer: a process near a full core is not put to rest, and rests again once the load falls", () => {
  const h = scriptedHost(0.95);
  const c = new WakeCoalescer(h.host, OPTS);
  c.start();
  h.steps(30);
  const restsWhileRising = c.rests;
  assert.ok(restsWhileRising > 0 && restsWhileRising < 30, `rests ${restsWhileRising}`);
  h.steps(200);
  assert.equal(c.rests, restsWhileRising, "no rest once the busy share is over the limit");
  h.share = 0.5;
  h.steps(30);
  assert.ok(c.rests > restsWhileRising + 20, `rests ${c.rests}`);
});

test("wake coalescer: a light load is looked at every lightCheckMs and never rests", () => {
  const h = scriptedHost(0.1);
  const c = new WakeCoalescer(h.host, OPTS);
  c.start();
  h.steps(20);
  assert.equal(c.rests, 0);
  assert.deepEqual(h.delays.slice(1), Array(20).fill(OPTS.lightCheckMs));
  h.share = 0.5;
  h.steps(8);
  assert.equal(h.delays[h.delays.length - 1], OPTS.gapMs, "a loop with more work is looked at every gapMs again");
  assert.ok(c.rests > 0);
});

test("wake coalescer: stop() ends the looks; a zero rest never starts", () => {
  const h = scriptedHost(0.4);
  const c = new WakeCoalescer(h.host, OPTS);
  c.start();
  h.steps(10);
  const rests = c.rests;
  assert.ok(rests > 0);
  c.stop();
  h.step();
  assert.equal(h.pending, null);
  assert.equal(c.rests, rests);

  const h0 = scriptedHost(0.4);
  new WakeCoalescer(h0.host, { ...OPTS, sleepMs: 0 }).start();
  assert.equal(h0.pending, null);
});

test("wake coalescer: no rest while an answer is awaited (hold), and rests again once every hold is released", () => {
  const h = scriptedHost(0.4);
  const c = new WakeCoalescer(h.host, OPTS);
  c.start();
  h.steps(10);
  const a = c.hold();
  const b = c.hold();
  const rests = c.rests;
  h.steps(10);
  assert.equal(c.rests, rests, "held: no rest");
  assert.equal(h.delays[h.delays.length - 1], OPTS.gapMs, "still looked at every gapMs");
  a();
  a(); // a second call does nothing
  h.steps(5);
  assert.equal(c.rests, rests, "one hold still open");
  b();
  h.steps(5);
  assert.equal(c.rests, rests + 5);
});

test("blockingSleep blocks the thread for the time asked", () => {
  const sleep = blockingSleep(new Int32Array(new SharedArrayBuffer(4)));
  const t0 = performance.now();
  sleep(30);
  assert.ok(performance.now() - t0 >= 29, `slept ${performance.now() - t0} ms`);
});
