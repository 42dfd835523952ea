import { PushReadSide } from "./push-read.ts";
import { plainIp } from "./socket-common.ts";
import { boundedRequest, HTTP_LIMITS } from "./http-limits.ts";
import { ConnQueue } from "./conn-queue.ts";
import { bunSpawnWorker } from "./bun-process.ts";
import { allocUnfilled } from "./unfilled.ts";
import type { ByteSink, Conn, SendDone, ConnectOptions, FetchHandler, HttpServer, ListenOptions, Listener, MemoryUsage, NetAddr, Runtime, TlsFiles } from "./types.ts";

/** The slice of Bun's socket API this adapter uses (typed locally). */
type BunSocket = {
  data: BunTcpConn;
  write(b: Uint8Array): number;
  shutdown(): void;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on: boolean): void;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
};
type SocketHandler = {
  open?(s: BunSocket): void;
  data(s: BunSocket, d: Uint8Array): void;
  drain(s: BunSocket): void;
  end(s: BunSocket): void;
  close(s: BunSocket, err?: Error): void;
  error(s: BunSocket, err: Error): void;
  connectError?(s: BunSocket, err: Error): void;
};
type BunNs = {
  listen(o: { hostname: string; port: number; allowHalfOpen: boolean; reusePort?: boolean; tls?: { cert: string; key: string }; socket: SocketHandler }): { port: number; hostname: string; stop(force?: boolean): void };
  connect(o: { hostname: string; port: number; allowHalfOpen: boolean; socket: SocketHandler; data?: BunTcpConn }): Promise<BunSocket>;
  serve(o: { hostname: string; port: number; maxRequestBodySize?: number; fetch(req: Request, server: { requestIP(r: Request): { address: string; port: number } | null }): Response | Promise<Response> }): {
    port: number;
    hostname: string;
    stop(force?: boolean): Promise<void> | void;
  };
};
const B = (globalThis as unknown as { Bun: BunNs }).Bun;
type Proc = { on(sig: string, fn: () => void): void; exit(code: number): never; pid: number; ppid: number; memoryUsage(): MemoryUsage; argv: string[]; env: Record<string, string | undefined> };
const nav = (globalThis as unknown as { navigator?: { hardwareConcurrency?: number } }).navigator;
const proc = (globalThis as unknown as { process: Proc }).process;


/**
 * A Bun callback socket as web streams: data is enqueued and reading pauses while the stream is
 * full; `write()` may take only part of a chunk, so the rest waits for `drain`.
 */
class BunTcpConn implements Conn {
  readonly writable: WritableStream<Uint8Array>;
  localAddr: NetAddr = { hostname: "", port: 0 };
  remoteAddr: NetAddr = { hostname: "", port: 0 };
  readonly closed: Promise<void>;
  bytesWritten = 0;
  readonly wholeReads = true;
  socket: BunSocket | null = null;
  private readonly input: PushReadSide;
  private isClosed = false;
  private resolveClosed!: () => void;
  /** The write waiting for `drain`: the unwritten rest and its promise callbacks. */
  private pending: { rest: Uint8Array; resolve: () => void; reject: (e: Error) => void } | null = null;
  /** The `send` batch Bun took only part of, and what is left of it (written at `drain`). */
  private held: SendDone | null = null;
  private heldRest: Uint8Array[] = [];

  constructor() {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    const self = this;
    this.input = new PushReadSide({
      pause: () => self.socket?.pause(),
      resume: () => self.socket?.resume(),
      destroy: () => self.close(),
    });
    this.writable = new WritableStream<Uint8Array>({
      write(chunk) {
        return self.write(chunk);
      },
      close() {
        self.socket?.shutdown();
      },
      abort() {
        self.close();
      },
    });
  }

  attach(s: BunSocket): void {
    this.socket = s;
    this.localAddr = { hostname: plainIp(s.localAddress ?? ""), port: s.localPort ?? 0 };
    this.remoteAddr = { hostname: plainIp(s.remoteAddress ?? ""), port: s.remotePort ?? 0 };
  }

  private write(chunk: Uint8Array): Promise<void> | void {
    const s = this.socket;
    if (!s || this.isClosed) return Promise.reject(new Error("socket closed"));
    const n = s.write(chunk);
    if (n < 0) return Promise.reject(new Error("socket write failed"));
    this.bytesWritten += n;
    if (n === chunk.byteLength) return;
    return new Promise<void>((resolve, reject) => {
      this.pending = { rest: chunk.subarray(n), resolve, reject };
    });
  }

  send(chunks: readonly Uint8Array[], done: SendDone): boolean {
    this.held = done;
    if (this.writeFrom(chunks, 0)) {
      this.held = null;
      return true;
    }
    return false;
  }

  /** Writes `chunks[from..]`; true when Bun took them all (else the rest is held for `drain`). */
  private writeFrom(chunks: readonly Uint8Array[], from: number): boolean {
    const s = this.socket;
    if (!s || this.isClosed) {
      queueMicrotask(() => this.sendEnded(new Error("socket closed")));
      return false;
    }
    for (let i = from; i < chunks.length; i++) {
      const chunk = chunks[i];
      const n = s.write(chunk);
      if (n < 0) {
        queueMicrotask(() => this.sendEnded(new Error("socket write failed")));
        return false;
      }
      this.bytesWritten += n;
      if (n < chunk.byteLength) {
        this.heldRest = [chunk.subarray(n), ...chunks.slice(i + 1)];
        return false;
      }
    }
    return true;
  }

  private sendEnded(err: Error): void {
    const d = this.held;
    this.held = null;
    this.heldRest = [];
    d?.sendFailed(err);
  }

  onDrain(): void {
    const d = this.held;
    if (d && this.heldRest.length > 0) {
      const rest = this.heldRest;
      this.heldRest = [];
      if (this.writeFrom(rest, 0)) {
        this.held = null;
        d.sent();
      }
    }
    const p = this.pending;
    if (!p || !this.socket) return;
    const n = this.socket.write(p.rest);
    if (n < 0) {
      this.pending = null;
      p.reject(new Error("socket write failed"));
      return;
    }
    this.bytesWritten += n;
    if (n === p.rest.byteLength) {
      this.pending = null;
      p.resolve();
    } else p.rest = p.rest.subarray(n);
  }

  onData(d: Uint8Array): void {
    this.input.data(d);
  }

  onEnd(): void {
    this.input.end();
  }

  onClose(err?: Error): void {
    if (err) this.input.error(err);
    else this.input.end();
    this.pending?.reject(err ?? new Error("socket closed"));
    this.pending = null;
    this.sendEnded(err ?? new Error("socket closed"));
    this.isClosed = true;
    this.socket = null;
    this.resolveClosed();
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.input.readable;
  }

  pipeInto(dest: ByteSink, signal: AbortSignal): Promise<void> {
    return this.input.pipeInto(dest, signal);
  }

  setNoDelay(on: boolean): void {
    this.socket?.setNoDelay(on);
  }

  close(): void {
    this.held = null;
    this.heldRest = [];
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket?.terminate();
  }
}

const handler: SocketHandler = {
  data: (s, d) => s.data.onData(d),
  drain: (s) => s.data.onDrain(),
  end: (s) => s.data.onEnd(),
  close: (s, err) => s.data.onClose(err),
  error: (s, err) => s.data.onClose(err),
};

class BunTcpListener implements Listener {
  readonly addr: NetAddr;
  private server: { stop(force?: boolean): void };
  private readonly conns = new ConnQueue(() => this.close());
  private readonly opts: ListenOptions;
  private tls: TlsFiles | undefined;
  private stopped = false;

  constructor(o: ListenOptions) {
    this.opts = o;
    this.tls = o.tls;
    const server = this.open(o.tls, o.port);
    this.server = server;
    this.addr = { hostname: plainIp(server.hostname), port: server.port };
  }

  private open(tls: TlsFiles | undefined, port: number): { port: number; hostname: string; stop(force?: boolean): void } {
    const conns = this.conns;
    return B.listen({
      hostname: this.opts.hostname,
      port,
      allowHalfOpen: true,
      ...(this.opts.reusePort ? { reusePort: true } : {}),
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      socket: {
        ...handler,
        open(s) {
          const conn = new BunTcpConn();
          s.data = conn;
          conn.attach(s);
          conns.push(conn);
        },
      },
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.conns[Symbol.asyncIterator]();
  }

  /** A new listener with the new certificate; stop(false) on the old one keeps its connections. */
  async setTls(files: TlsFiles): Promise<void> {
    if (!this.opts.tls) throw new Error("not a TLS listener");
    if (this.stopped) return;
    const old = this.server;
    if (this.opts.reusePort) {
      this.server = this.open(files, this.addr.port);
      old.stop(false);
    } else {
      old.stop(false);
      try {
        this.server = this.open(files, this.addr.port);
      } catch (err) {
        this.server = this.open(this.tls, this.addr.port); // a bad certificate: serve the old one again
        throw err;
      }
    }
    this.tls = files;
  }

  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.server.stop(false);
    this.conns.end();
  }
}

const noHold = () => {};

export function bunRuntime(): Runtime {
  return {
    name: "bun",
    listen: (o) => Promise.resolve(new BunTcpListener(o)),
    connect: async (o: ConnectOptions) => {
      if (o.signal?.aborted) throw o.signal.reason ?? new Error("aborted");
      const conn = new BunTcpConn();
      const s = await new Promise<BunSocket>((resolve, reject) => {
        const onAbort = () => reject(o.signal?.reason ?? new Error("aborted"));
        o.signal?.addEventListener("abort", onAbort, { once: true });
        B.connect({
          hostname: o.hostname,
          port: o.port,
          allowHalfOpen: true,
          data: conn,
          socket: { ...handler, connectError: (_s, err) => reject(err) },
        }).then((s) => {
          o.signal?.removeEventListener("abort", onAbort);
          if (o.signal?.aborted) {
            s.terminate();
            return;
          }
          resolve(s);
        }, reject);
      });
      s.data = conn;
      conn.attach(s);
      return conn;
    },
    serveHttp: (o: ListenOptions, h: FetchHandler): Promise<HttpServer> => {
      const server = B.serve({
        hostname: o.hostname,
        port: o.port,
        maxRequestBodySize: HTTP_LIMITS.maxBodyBytes,
        fetch: async (req, srv) => {
          const ip = srv.requestIP(req);
          const r = await boundedRequest(req);
          return r instanceof Response ? r : h(r, { remoteAddr: { hostname: plainIp(ip?.address ?? ""), port: ip?.port ?? 0 } });
        },
      });
      return Promise.resolve({
        addr: { hostname: plainIp(server.hostname), port: server.port },
        close: async () => {
          await server.stop(true);
        },
      });
    },
    onSignal: (sig, fn) => proc.on(sig, fn),
    exit: (code) => proc.exit(code),
    pid: () => proc.pid,
    ppid: () => proc.ppid,
    memoryUsage: () => proc.memoryUsage(),
    releaseMemory: () => Promise.resolve(false),
    args: () => proc.argv.slice(2),
    env: (name) => proc.env[name],
    cpuCount: () => nav?.hardwareConcurrency ?? 1,
    tuneForServer: () => {},
    awaitingAnswer: () => noHold,
    allocUnfilled,
    lendFromRead: 0,
    spawnWorker: bunSpawnWorker,
  };
}
