import { plainIp } from "./socket-common.ts";
import { ReadBuffer } from "./read-buffer.ts";
import { boundedRequest } from "./http-limits.ts";
import { denoSpawnWorker } from "./deno-process.ts";
import { blockingSleep, DEFAULT_WAKE_COALESCING, WakeCoalescer } from "./wake-coalescer.ts";
import type { ByteSink, Conn, ConnectOptions, SendDone, FetchHandler, HttpServer, ListenOptions, Listener, MemoryUsage, NetAddr, Runtime, TlsFiles } from "./types.ts";

/** The slice of the Deno namespace this adapter uses (typed locally so tsc needs no Deno types). */
type DenoConn = {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay(on?: boolean): void;
  localAddr: { hostname: string; port: number };
  remoteAddr: { hostname: string; port: number };
};
type DenoListener = AsyncIterable<DenoConn> & { addr: { hostname: string; port: number }; close(): void; accept(): Promise<DenoConn> };
type DenoNs = {
  listen(o: { hostname: string; port: number; transport: "tcp"; reusePort?: boolean }): DenoListener;
  listenTls(o: { hostname: string; port: number; cert: string; key: string; reusePort?: boolean }): DenoListener;
  connect(o: { hostname: string; port: number; transport: "tcp"; signal?: AbortSignal }): Promise<DenoConn>;
  serve(o: { hostname: string; port: number; onListen?: (a: { hostname: string; port: number }) => void }, h: (req: Request, info: { remoteAddr: { hostname: string; port: number } }) => Response | Promise<Response>): {
    addr: { hostname: string; port: number };
    shutdown(): Promise<void>;
    finished: Promise<void>;
  };
  addSignalListener(sig: string, fn: () => void): void;
  exit(code: number): never;
  pid: number;
  ppid: number;
  memoryUsage(): MemoryUsage;
  args: string[];
  env: { get(name: string): string | undefined };
  cpuUsage(): { user: number; system: number };
  unrefTimer(id: number): void;
};
const D = (globalThis as unknown as { Deno: DenoNs }).Deno;
const nav = (globalThis as unknown as { navigator?: { hardwareConcurrency?: number } }).navigator;

/** Throws when the PEM files are not a usable certificate and key: Deno tells only at listen. */
function checkTls(files: TlsFiles): void {
  D.listenTls({ hostname: "127.0.0.1", port: 0, cert: files.cert, key: files.key }).close();
}

const addr = (a: { hostname: string; port: number }): NetAddr => ({ hostname: plainIp(a.hostname), port: a.port });

/**
 * Deno.Conn as web streams built on read()/write()/closeWrite(): Deno's own conn.readable closes
 * the resource at EOF and conn.writable closes both directions, which breaks half-close.
 */
class DenoTcpConn implements Conn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;
  bytesWritten = 0;
  readonly wholeReads = true;
  private readonly conn: DenoConn;
  private isClosed = false;
  private readDone = false;
  private writeDone = false;
  private resolveClosed!: () => void;
  private readonly buf = new ReadBuffer();
  /** A read of the readable is in flight. */
  private pulling = false;
  /** The `send` batch being written (Deno's writes are asynchronous: every batch is held). */
  private held: SendDone | null = null;

  constructor(conn: DenoConn) {
    this.conn = conn;
    this.localAddr = addr(conn.localAddr);
    this.remoteAddr = addr(conn.remoteAddr);
    this.closed = new Promise((r) => (this.resolveClosed = r));
    const self = this;
    this.readable = new ReadableStream<Uint8Array>({
      async pull(c) {
        let chunk: Uint8Array | null;
        self.pulling = true;
        try {
          chunk = await self.readChunk();
        } catch (err) {
          self.pulling = false;
          if (self.isClosed) c.close();
          else c.error(err);
          return;
        }
        self.pulling = false;
        if (chunk) c.enqueue(chunk);
        else c.close();
      },
      cancel() {
        self.close();
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write(chunk) {
        return self.writeWhole(chunk);
      },
      async close() {
        self.writeDone = true;
        try {
          await conn.closeWrite();
        } catch { /* already closed */ }
        self.maybeClosed();
      },
      abort() {
        self.close();
      },
    });
  }

  /** One read of the socket (an owned chunk), or null at EOF; rejects with what the read threw. */
  private readChunk(): Promise<Uint8Array | null> {
    return this.conn.read(this.buf.next()).then(this.readDoneWith, (err) => {
      this.readFailed();
      throw err;
    });
  }

  /** What a read returned: the chunk it filled, or null at EOF (the read side is done). */
  private readonly readDoneWith = (n: number | null): Uint8Array | null => {
    if (n !== null) return this.buf.take(n);
    this.readFailed();
    return null;
  };

  private readFailed(): void {
    this.readDone = true;
    this.maybeClosed();
  }

  async pipeInto(w: ByteSink, signal: AbortSignal): Promise<void> {
    const onAbort = () => {
      w.abort(signal.reason).catch(() => {});
      this.close();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    // the readable reads only when asked (high-water mark 0), so once unlocked it holds nothing:
    // a read still in flight is the next chunk
    const r = this.readable.getReader();
    try {
      while (this.pulling) {
        const { value, done } = await r.read();
        if (done) return void (await w.close().catch(() => {}));
        w.write(value)?.catch(() => {});
      }
      r.releaseLock();
      // a sink that borrows gets a view of the buffer the next read reuses
      const lend = w.borrows === true;
      for (;;) {
        if ((w.desiredSize ?? 0) <= 0) await w.ready;
        if (signal.aborted) return;
        // the op's promise only (no async function around it per read)
        let n: number | null;
        try {
          n = await this.conn.read(this.buf.next());
        } catch (err) {
          this.readFailed();
          throw err;
        }
        const chunk = lend && n !== null ? this.buf.lend(n) : this.readDoneWith(n);
        if (!chunk) return void (await w.close().catch(() => {}));
        w.write(chunk)?.catch(() => {});
      }
    } catch (err) {
      if (!signal.aborted) await w.abort(err).catch(() => {});
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  send(chunks: readonly Uint8Array[], done: SendDone): boolean {
    this.held = done;
    void this.writeAll(chunks, done);
    return false;
  }

  private async writeAll(chunks: readonly Uint8Array[], done: SendDone): Promise<void> {
    try {
      for (let i = 0; i < chunks.length; i++) await this.writeWhole(chunks[i]);
    } catch (err) {
      if (this.held !== done) return;
      this.held = null;
      done.sendFailed(err as Error);
      return;
    }
    if (this.held !== done) return;
    this.held = null;
    done.sent();
  }

  /** Writes all of `chunk` (a Deno write may take only part of it). */
  private async writeWhole(chunk: Uint8Array): Promise<void> {
    for (let off = 0; off < chunk.byteLength;) {
      const n = await this.conn.write(off === 0 ? chunk : chunk.subarray(off));
      off += n;
      this.bytesWritten += n;
    }
  }

  private maybeClosed(): void {
    if (this.readDone && this.writeDone) this.close();
  }

  setNoDelay(on: boolean): void {
    this.conn.setNoDelay(on);
  }

  close(): void {
    this.held = null;
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
    this.resolveClosed();
  }
}

/**
 * Deno's listener; `setTls` swaps it for a new one on the same port (the accept loop follows).
 * Deno frees a closed listener's port only once its pending accept has failed, so without
 * `reusePort` the new one is opened after that (connects in those few ms are refused).
 */
class DenoTcpListener implements Listener {
  readonly addr: NetAddr;
  private l: DenoListener;
  private readonly opts: ListenOptions;
  private tls: TlsFiles | undefined;
  private isClosed = false;
  private accepting: Promise<DenoConn> | null = null;
  private swapping: Promise<void> | null = null;
  constructor(o: ListenOptions) {
    this.opts = o;
    this.tls = o.tls;
    this.l = this.open(o.tls, o.port);
    this.addr = addr(this.l.addr);
  }
  private open(tls: TlsFiles | undefined, port: number): DenoListener {
    const { hostname, reusePort } = this.opts;
    const shared = reusePort ? { reusePort: true } : {};
    return tls ? D.listenTls({ hostname, port, cert: tls.cert, key: tls.key, ...shared }) : D.listen({ hostname, port, transport: "tcp", ...shared });
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    for (;;) {
      const l = this.l;
      let c: DenoConn;
      try {
        this.accepting = l.accept();
        c = await this.accepting;
      } catch {
        if (this.isClosed) return; // listener closed
        if (this.swapping) await this.swapping.catch(() => {}); // replaced by setTls
        if (this.l !== l) continue;
        return;
      }
      yield new DenoTcpConn(c);
    }
  }
  async setTls(files: TlsFiles): Promise<void> {
    if (!this.opts.tls) throw new Error("not a TLS listener");
    if (this.isClosed || this.swapping) return;
    checkTls(files); // a bad certificate throws here, before the old listener is touched
    const old = this.l;
    if (this.opts.reusePort) {
      this.l = this.open(files, this.addr.port);
      old.close();
      this.tls = files;
      return;
    }
    const pending = this.accepting;
    this.swapping = (async () => {
      old.close();
      await pending?.catch(() => {});
      try {
        this.l = this.open(files, this.addr.port);
        this.tls = files;
      } catch (err) {
        this.l = this.open(this.tls, this.addr.port);
        throw err;
      }
    })();
    try {
      await this.swapping;
    } finally {
      this.swapping = null;
    }
  }
  close(): void {
    this.isClosed = true;
    try {
      this.l.close();
    } catch { /* already closed */ }
  }
}

/** Environment variable: the wake coalescer's rest in ms (`0` turns it off). */
const WAKE_COALESCE_ENV = "RTMP_KMP_WAKE_COALESCE_MS";

/**
 * Starts the wake coalescer (`wake-coalescer.ts`) for this process: its rest is
 * `RTMP_KMP_WAKE_COALESCE_MS` when set (0 = off), else the default.
 */
function denoWakeCoalescer(): WakeCoalescer | null {
  const v = D.env.get(WAKE_COALESCE_ENV);
  const sleepMs = v === undefined || v === "" ? DEFAULT_WAKE_COALESCING.sleepMs : Number(v);
  if (!(sleepMs > 0)) return null;
  const host = {
    now: () => performance.now(),
    cpuMs: () => {
      const u = D.cpuUsage();
      return (u.user + u.system) / 1000;
    },
    schedule: (fn: () => void, ms: number) => D.unrefTimer(setTimeout(fn, ms) as unknown as number),
    sleep: blockingSleep(new Int32Array(new SharedArrayBuffer(4))),
  };
  const c = new WakeCoalescer(host, { ...DEFAULT_WAKE_COALESCING, sleepMs: Math.min(sleepMs, 50) });
  c.start();
  return c;
}

const noHold = () => {};

export function denoRuntime(): Runtime {
  let coalescer: WakeCoalescer | null = null;
  return {
    name: "deno",
    listen: (o: ListenOptions) => Promise.resolve(new DenoTcpListener(o)),
    connect: async (o: ConnectOptions) => new DenoTcpConn(await D.connect({ hostname: o.hostname, port: o.port, transport: "tcp", signal: o.signal })),
    serveHttp: (o: ListenOptions, handler: FetchHandler): Promise<HttpServer> =>
      new Promise((resolve) => {
        const server = D.serve({
          hostname: o.hostname,
          port: o.port,
          onListen: (a) =>
            resolve({
              addr: addr(a),
              close: async () => {
                await server.shutdown();
              },
            }),
        }, async (req, info) => {
          const r = await boundedRequest(req);
          return r instanceof Response ? r : handler(r, { remoteAddr: addr(info.remoteAddr) });
        });
      }),
    onSignal: (sig, fn) => D.addSignalListener(sig, fn),
    exit: (code) => D.exit(code),
    pid: () => D.pid,
    ppid: () => D.ppid,
    memoryUsage: () => D.memoryUsage(),
    releaseMemory: () => Promise.resolve(false),
    args: () => D.args,
    env: (name) => D.env.get(name),
    cpuCount: () => nav?.hardwareConcurrency ?? 1,
    tuneForServer: () => {
      coalescer ??= denoWakeCoalescer();
    },
    awaitingAnswer: () => coalescer?.hold() ?? noHold,
    allocUnfilled: (size) => new Uint8Array(size),
    lendFromRead: 0,
    spawnWorker: denoSpawnWorker,
  };
}
