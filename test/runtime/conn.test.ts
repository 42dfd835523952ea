/**
 * The runtime adapter's sockets over loopback: what every stage relies on — bytes arrive whole
 * and in order on many connections read at once (on Node they share one read buffer), reading
 * pauses while the sink is full and resumes at its `ready`, and a half-close ends the reader
 * while the other direction goes on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/detect.ts";
import type { ByteSink, Conn, Listener } from "../../src/runtime/types.ts";

/** Byte `i` of connection `c`'s stream: a different sequence per connection. */
const byteAt = (c: number, i: number): number => (i * 31 + c * 7 + (i >> 8)) & 0xff;

function pattern(c: number, from: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = byteAt(c, from + i);
  return b;
}

/**
 * A sink that checks every byte, and is full (desiredSize 0) for a while after each `pauseEvery`
 * bytes. One that `borrows` checks each read while `write` runs (the read may be lent: a view of
 * a buffer the next read overwrites); one that does not keeps every read and checks them at the end.
 */
function checkingSink(c: number, pauseEvery: number, borrows: boolean) {
  let got = 0;
  let bad = -1;
  let pauses = 0;
  let writesWhileFull = 0;
  const kept: Uint8Array[] = [];
  let full = false;
  let ready: Promise<void> = Promise.resolve();
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  const sink: ByteSink = {
    borrows,
    write(chunk) {
      if (full) writesWhileFull++;
      if (!borrows) kept.push(chunk); // checked at the end: a chunk is the reader's to keep (never overwritten)
      else for (let i = 0; i < chunk.byteLength && bad < 0; i++) if (chunk[i] !== byteAt(c, got + i)) bad = got + i;
      const before = Math.floor(got / pauseEvery);
      got += chunk.byteLength;
      if (Math.floor(got / pauseEvery) !== before) {
        full = true;
        pauses++;
        ready = new Promise((r) => setTimeout(() => {
          full = false;
          r();
        }, 5));
      }
      return undefined;
    },
    get desiredSize() {
      return full ? 0 : 1;
    },
    get ready() {
      return ready;
    },
    close: () => {
      closed();
      return Promise.resolve();
    },
    abort: (reason) => {
      closed();
      return Promise.reject(reason);
    },
  };
  const result = () => {
    let at = 0;
    for (const chunk of kept) {
      for (let i = 0; i < chunk.byteLength && bad < 0; i++) if (chunk[i] !== byteAt(c, at + i)) bad = at + i;
      at += chunk.byteLength;
    }
    return { got, bad, pauses, writesWhileFull };
  };
  return { sink, done, result };
}

/** Reads `conn` to its end, checking every byte against connection `c`'s sequence; the byte count. */
async function readChecked(conn: Conn, c: number): Promise<number> {
  const r = conn.readable.getReader();
  let got = 0;
  for (;;) {
    const next = await r.read();
    if (next.done) return got;
    const chunk = next.value;
    for (let i = 0; i < chunk.byteLength; i++) assert.equal(chunk[i], byteAt(c, got + i));
    got += chunk.byteLength;
  }
}

async function accept(l: Listener, n: number): Promise<Conn[]> {
  const out: Conn[] = [];
  for await (const c of l) {
    out.push(c);
    if (out.length === n) break;
  }
  return out;
}

for (const borrows of [false, true]) {
  test(`many connections read at once into sinks that ${borrows ? "borrow their reads" : "keep their reads"}: every byte whole and in order, reads paused while the sink is full`, { timeout: 60_000 }, async () => {
    const rt = await getRuntime();
    const l = await rt.listen({ hostname: "127.0.0.1", port: 0 });
    const N = 8;
    const BYTES = 400_000;
    let clients: Conn[] = [];
    let servers: Conn[] = [];
    try {
      const accepted = accept(l, N);
      clients = await Promise.all(Array.from({ length: N }, () => rt.connect({ hostname: "127.0.0.1", port: l.addr.port })));
      servers = await accepted;
      // each client says who it is first (accept order is not connect order)
      await Promise.all(clients.map(async (c, i) => {
        const w = c.writable.getWriter();
        await w.write(new Uint8Array([i]));
        w.releaseLock();
      }));
      const ids = await Promise.all(servers.map(async (s) => {
        const r = s.readable.getReader();
        const { value } = await r.read();
        r.releaseLock();
        assert.ok(value && value.byteLength === 1, "the id byte arrives alone (it was acknowledged before more was sent)");
        return value[0];
      }));
      const sinks = ids.map((id) => checkingSink(id, 32 * 1024, borrows));
      servers.forEach((s, i) => void s.pipeInto(sinks[i].sink, new AbortController().signal));
      // the clients write interleaved, in pieces of different sizes, then half-close
      await Promise.all(clients.map(async (c, i) => {
        const w = c.writable.getWriter();
        for (let off = 0; off < BYTES; ) {
          const n = Math.min(BYTES - off, 1 + ((off * 13 + i * 977) % 20_000));
          await w.write(pattern(i, off, n));
          off += n;
        }
        await w.close();
      }));
      await Promise.all(sinks.map((s) => s.done));
      for (const [i, s] of sinks.entries()) {
        const r = s.result();
        assert.equal(r.bad, -1, `connection ${ids[i]}: byte ${r.bad} differs`);
        assert.equal(r.got, BYTES, `connection ${ids[i]}: bytes received`);
        assert.ok(r.pauses >= 2, `connection ${ids[i]}: the sink was full ${r.pauses} times`);
        assert.equal(r.writesWhileFull, 0, `connection ${ids[i]}: writes that arrived while the sink was full (the socket was not paused)`);
      }
    } finally {
      for (const c of clients) c.close();
      for (const s of servers) s.close();
      l.close();
    }
  });
}

test("a half-close ends the reader; the other direction still carries data", { timeout: 30_000 }, async () => {
  const rt = await getRuntime();
  const l = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const accepted = accept(l, 1);
    const client = await rt.connect({ hostname: "127.0.0.1", port: l.addr.port });
    const [server] = await accepted;
    const cw = client.writable.getWriter();
    await cw.write(pattern(1, 0, 5000));
    await cw.close();
    assert.equal(await readChecked(server, 1), 5000);
    const sw = server.writable.getWriter();
    await sw.write(pattern(2, 0, 3000));
    await sw.close();
    assert.equal(await readChecked(client, 2), 3000);
    await Promise.all([client.closed, server.closed]);
  } finally {
    l.close();
  }
});
