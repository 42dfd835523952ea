import type { Conn, Runtime } from "../../src/runtime/types.ts";

/**
 * A hand-rolled RTMP client for hostile-input tests: it writes whatever bytes a test wants,
 * independently of the server's own encoders.
 */
export class RawClient {
  readonly conn: Conn;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private buffered = new Uint8Array(0);
  eof = false;

  private constructor(conn: Conn) {
    this.conn = conn;
    this.writer = conn.writable.getWriter();
    this.reader = conn.readable.getReader();
  }

  static async connect(runtime: Runtime, port: number): Promise<RawClient> {
    return new RawClient(await runtime.connect({ hostname: "127.0.0.1", port }));
  }

  async write(bytes: Uint8Array): Promise<void> {
    await this.writer.write(bytes);
  }

  private inflight: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;

  /** Reads exactly n bytes (or fewer at EOF); one socket read is in flight at a time. */
  async read(n: number, timeoutMs = 5_000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < n && !this.eof) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`read(${n}) timed out with ${this.buffered.length} bytes`);
      this.inflight ??= this.reader.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        this.inflight,
        new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (r === "timeout") continue;
      this.inflight = null;
      if (r.done) this.eof = true;
      else {
        const m = new Uint8Array(this.buffered.length + r.value.length);
        m.set(this.buffered);
        m.set(r.value, this.buffered.length);
        this.buffered = m;
      }
    }
    const out = this.buffered.subarray(0, Math.min(n, this.buffered.length));
    this.buffered = this.buffered.subarray(out.length);
    return out;
  }

  /** Resolves true when the server closes the connection (EOF or reset) within timeoutMs. */
  async closedByServer(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    try {
      while (!this.eof && Date.now() < deadline) {
        await this.read(1 << 20, Math.max(1, deadline - Date.now())).catch((err) => {
          if (!String(err).includes("timed out")) throw err;
        });
        this.buffered = new Uint8Array(0); // whatever the server said is not needed here
      }
    } catch { /* reset counts as closed */
      return true;
    }
    return this.eof;
  }

  /** Simple handshake as a client (zero version bytes). */
  async handshake(): Promise<void> {
    const c0c1 = new Uint8Array(1537);
    c0c1[0] = 3;
    for (let i = 9; i < 1537; i++) c0c1[i] = (i * 7) & 0xff;
    await this.write(c0c1);
    const s = await this.read(3073);
    if (s.length !== 3073 || s[0] !== 3) throw new Error(`bad S0/S1/S2 (${s.length} bytes)`);
    await this.write(s.subarray(1, 1537)); // C2 = echo of S1
  }

  close(): void {
    this.conn.close();
  }
}

/** One fmt-0 chunked message with a 1-byte basic header (csid < 64). */
export function chunk(csid: number, type: number, msid: number, timestamp: number, payload: Uint8Array, chunkSize = 128): Uint8Array {
  const parts: number[] = [];
  const ext = timestamp >= 0xffffff;
  const ts = ext ? 0xffffff : timestamp;
  parts.push(csid & 0x3f, (ts >> 16) & 0xff, (ts >> 8) & 0xff, ts & 0xff);
  const len = payload.length;
  parts.push((len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff, type, msid & 0xff, (msid >> 8) & 0xff, (msid >> 16) & 0xff, (msid >>> 24) & 0xff);
  if (ext) parts.push((timestamp >>> 24) & 0xff, (timestamp >> 16) & 0xff, (timestamp >> 8) & 0xff, timestamp & 0xff);
  for (let off = 0; off < len; off += chunkSize) {
    if (off > 0) {
      parts.push(0xc0 | (csid & 0x3f));
      if (ext) parts.push((timestamp >>> 24) & 0xff, (timestamp >> 16) & 0xff, (timestamp >> 8) & 0xff, timestamp & 0xff);
    }
    for (let i = off; i < Math.min(len, off + chunkSize); i++) parts.push(payload[i]);
  }
  return Uint8Array.from(parts);
}

/** Minimal AMF0 writer for test commands. */
export function amf0(...values: unknown[]): Uint8Array {
  const out: number[] = [];
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    out.push(b.length >> 8, b.length & 0xff, ...b);
  };
  const val = (v: unknown): void => {
    if (typeof v === "number") {
      out.push(0);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v);
      out.push(...b);
    } else if (typeof v === "string") {
      out.push(2);
      str(v);
    } else if (typeof v === "boolean") out.push(1, v ? 1 : 0);
    else if (v === null) out.push(5);
    else if (typeof v === "object") {
      out.push(3);
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        str(k);
        val(x);
      }
      out.push(0, 0, 9);
    }
  };
  for (const v of values) val(v);
  return Uint8Array.from(out);
}

export function u32be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** A client that completes the simple handshake and then says nothing; `closed` settles when the server drops it. */
export async function idleClient(runtime: Runtime, port: number): Promise<{ conn: Conn; closed: Promise<void> }> {
  const conn = await runtime.connect({ hostname: "127.0.0.1", port });
  const w = conn.writable.getWriter();
  const r = conn.readable.getReader();
  const c0c1 = new Uint8Array(1537);
  c0c1[0] = 3;
  await w.write(c0c1);
  let got = 0;
  while (got < 3073) {
    const x = await r.read();
    if (x.done) throw new Error("closed during the handshake");
    got += x.value.byteLength;
  }
  await w.write(new Uint8Array(1536)); // C2
  w.releaseLock(); // the caller may write more
  const closed = (async () => {
    try {
      while (!(await r.read()).done);
    } catch { /* reset */ }
  })();
  return { conn, closed };
}

/**
 * What a publisher sends after the handshake before any media, without waiting for replies:
 * Set Chunk Size, connect, createStream, publish on message stream 1 (csid 3 / 8).
 */
export function publishPreamble(name: string, chunkSize: number, connectExtra: Record<string, unknown> = {}): Uint8Array[] {
  return [
    chunk(2, 1, 0, 0, u32be(chunkSize)),
    chunk(3, 20, 0, 0, amf0("connect", 1, { app: "live", tcUrl: "rtmp://127.0.0.1/live", ...connectExtra }), chunkSize),
    chunk(3, 20, 0, 0, amf0("createStream", 2, null), chunkSize),
    chunk(8, 20, 1, 0, amf0("publish", 3, null, name, "live"), chunkSize),
  ];
}
