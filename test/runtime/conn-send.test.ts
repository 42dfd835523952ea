/**
 * `Conn.send` over loopback, as the KMP upstreams use it: gathered batches of views arrive whole
 * and in order; a batch the runtime holds back is announced once by `sent` (and nothing is sent
 * before it); a peer that goes away fails the held batch with `sendFailed`; after `close()` the
 * sender hears nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/detect.ts";
import type { Conn, Listener, SendDone } from "../../src/runtime/types.ts";

const byteAt = (i: number): number => (i * 131 + (i >> 9)) & 0xff;

async function pair(l: Listener, connect: () => Promise<Conn>): Promise<[Conn, Conn]> {
  const it = l[Symbol.asyncIterator]();
  const [client, next] = await Promise.all([connect(), it.next()]);
  return [client, next.value as Conn];
}

/** A `SendDone` whose calls are counted and awaited one at a time. */
function recorder() {
  let sent = 0;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  const done: SendDone = {
    sent() {
      sent++;
      wake?.();
    },
    sendFailed(err) {
      failed = err;
      wake?.();
    },
  };
  /** True once `sent` or `sendFailed` is heard, false after `timeoutMs` of silence. */
  const next = (timeoutMs: number) => new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      wake = null;
      resolve(false);
    }, timeoutMs);
    wake = () => {
      wake = null;
      clearTimeout(timer);
      resolve(true);
    };
  });
  return { done, next, get sent() { return sent; }, get failed() { return failed; } };
}

test("send: gathered batches arrive whole and in order; each held batch is announced once by sent", { timeout: 60_000 }, async () => {
  const rt = await getRuntime();
  const l = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await pair(l, () => rt.connect({ hostname: "127.0.0.1", port: l.addr.port }));
  try {
    const TOTAL = 6_000_000;
    const source = new Uint8Array(TOTAL);
    for (let i = 0; i < TOTAL; i++) source[i] = byteAt(i);
    // the reader rests 2 ms after every 64 KiB, so the sender's buffers fill and batches are held
    const received = (async () => {
      const r = server.readable.getReader();
      let got = 0;
      let sinceRest = 0;
      for (;;) {
        const { value, done } = await r.read();
        if (done) return got;
        for (let i = 0; i < value.byteLength; i++) if (value[i] !== byteAt(got + i)) throw new Error(`byte ${got + i} differs`);
        got += value.byteLength;
        sinceRest += value.byteLength;
        if (sinceRest >= 65536) {
          sinceRest = 0;
          await new Promise((res) => setTimeout(res, 2));
        }
      }
    })();
    const rec = recorder();
    let held = 0;
    let off = 0;
    for (let b = 0; off < TOTAL; b++) {
      // 1 to 5 views of different sizes per batch, some of a few bytes
      const views: Uint8Array[] = [];
      for (let v = 0; v < 1 + (b % 5) && off < TOTAL; v++) {
        const n = Math.min(TOTAL - off, v % 3 === 2 ? 1 + (b % 7) : 1 + ((b * 7919 + v * 104_729) % 60_000));
        views.push(source.subarray(off, off + n));
        off += n;
      }
      if (!client.send(views, rec.done)) {
        held++;
        const before = rec.sent;
        assert.ok(await rec.next(20_000), "a held batch is announced");
        assert.equal(rec.failed, null);
        assert.equal(rec.sent, before + 1, "one sent per held batch");
      }
    }
    await client.writable.close().catch(() => {}); // FIN after the last batch
    assert.equal(await received, TOTAL);
    assert.ok(held >= 1, `the runtime held ${held} batches back (the reader rests)`);
    assert.equal(rec.sent, held, "sent only for held batches");
  } finally {
    client.close();
    server.close();
    l.close();
  }
});

test("send: a peer that goes away fails the held batch; after close() the sender hears nothing", { timeout: 60_000 }, async () => {
  const rt = await getRuntime();
  const l = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const chunk = new Uint8Array(256 * 1024).fill(7);
    /** Sends until a batch stays held for 200 ms (the peer does not read), within 256 MiB. */
    const fillUntilHeld = async (c: Conn, rec: ReturnType<typeof recorder>): Promise<boolean> => {
      for (let i = 0; i < 1024; i++) {
        if (c.send([chunk, chunk.subarray(0, 1000)], rec.done)) continue;
        if (!(await rec.next(200))) return true;
        assert.equal(rec.failed, null);
      }
      return false;
    };

    const [client, server] = await pair(l, () => rt.connect({ hostname: "127.0.0.1", port: l.addr.port }));
    const rec = recorder();
    assert.ok(await fillUntilHeld(client, rec), "a peer that never reads makes the runtime hold a batch");
    const sentBefore = rec.sent;
    const heard = rec.next(20_000);
    server.close(); // unread data: the peer resets
    assert.ok(await heard, "the held batch hears how it ended");
    assert.equal(rec.sent, sentBefore, "not sent");
    assert.ok(rec.failed instanceof Error, "sendFailed with the error");
    client.close();

    const [client2, server2] = await pair(l, () => rt.connect({ hostname: "127.0.0.1", port: l.addr.port }));
    const rec2 = recorder();
    assert.ok(await fillUntilHeld(client2, rec2));
    const sent2 = rec2.sent;
    client2.close();
    server2.close();
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(rec2.sent, sent2, "no sent after close()");
    assert.equal(rec2.failed, null, "no sendFailed after close()");
  } finally {
    l.close();
  }
});
