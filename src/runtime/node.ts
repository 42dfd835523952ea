import { PushReadSide } from "./push-read.ts";
import { ReadSlab } from "../bytes/slab.ts";
import { READ_SCRATCH_BYTES, readIntoScratch, readResultSlot, type ReadScratch } from "./node-read.ts";
import { plainIp } from "./socket-common.ts";
import * as net from "node:net";
import * as tls from "node:tls";
import * as http from "node:http";
import * as v8 from "node:v8";
import { allocUnfilled } from "./unfilled.ts";
import { ConnQueue } from "./conn-queue.ts";
import { HTTP_LIMITS } from "./http-limits.ts";
import { keepWorkerOnDisconnect, nodeArgs, nodeCpuCount, nodeSpawnWorker } from "./node-process.ts";
import { nodeReleaseMemory } from "./node-memory.ts";
import type { ByteSink, Conn, ConnectOptions, SendDone, FetchHandler, HttpServer, ListenOptions, Listener, MemoryUsage, NetAddr, Runtime, TlsFiles } from "./types.ts";


/** A node:net socket as a web-streams Conn (never Duplex.toWeb: slow on Node 20, broken half-close). */
export class NodeConn implements Conn {
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;
  readonly wholeReads: boolean;
  private readonly socket: net.Socket;
  private readonly input: PushReadSide;
  /** The `send` batch Node holds back (over its high-water mark), until `drain` or `close`. */
  private held: SendDone | null = null;
  private sendHooked = false;

  /** `scratch`: the read buffer every plain socket of the runtime shares (`readIntoScratch`). */
  constructor(socket: net.Socket, scratch: ReadScratch) {
    this.socket = socket;
    this.localAddr = { hostname: plainIp(socket.localAddress), port: socket.localPort ?? 0 };
    this.remoteAddr = { hostname: plainIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    const slab = scratch.slab;
    const input = new PushReadSide(
      { pause: () => socket.pause(), resume: () => socket.resume(), destroy: () => socket.destroy() },
      (chunk) => slab.copy(chunk, chunk.byteLength),
    );
    this.input = input;
    // reads into the shared scratch are lent; `data` events' Buffers are the reader's
    this.wholeReads = readIntoScratch(socket, scratch, (chunk) => input.data(chunk, true));
    if (!this.wholeReads) socket.on("data", (chunk: Buffer) => input.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.once("end", () => input.end());
    socket.once("error", (err) => input.error(err));
    socket.once("close", () => input.end());

    this.writable = new WritableStream<Uint8Array>({
      write(chunk) {
        if (socket.destroyed) return Promise.reject(new Error("socket closed"));
        if (socket.write(chunk)) return;
        return new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            socket.off("close", onClose);
            resolve();
          };
          const onClose = () => {
            socket.off("drain", onDrain);
            reject(new Error("socket closed before the write drained"));
          };
          socket.once("drain", onDrain);
          socket.once("close", onClose);
        });
      },
      close() {
        return new Promise<void>((resolve) => socket.end(() => resolve()));
      },
      abort() {
        socket.destroy();
      },
    });
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.input.readable;
  }

  pipeInto(dest: ByteSink, signal: AbortSignal): Promise<void> {
    return this.input.pipeInto(dest, signal);
  }

  send(chunks: readonly Uint8Array[], done: SendDone): boolean {
    const s = this.socket;
    if (s.destroyed) {
      this.hold(done);
      queueMicrotask(() => this.sendEnded("socket closed"));
      return false;
    }
    let room: boolean;
    if (chunks.length === 1) room = s.write(chunks[0]);
    else {
      // corked writes leave in one writev at `uncork`
      room = true;
      s.cork();
      for (let i = 0; i < chunks.length; i++) room = s.write(chunks[i]);
      s.uncork();
    }
    if (room) return true;
    this.hold(done);
    return false;
  }

  private hold(done: SendDone): void {
    this.held = done;
    if (this.sendHooked) return;
    this.sendHooked = true;
    this.socket.on("drain", () => {
      const d = this.held;
      this.held = null;
      d?.sent();
    });
    this.socket.once("close", () => this.sendEnded("socket closed before the write drained"));
  }

  private sendEnded(why: string): void {
    const d = this.held;
    this.held = null;
    d?.sendFailed(new Error(why));
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  setNoDelay(on: boolean): void {
    this.socket.setNoDelay(on);
  }

  close(): void {
    this.held = null;
    this.socket.destroy();
  }
}

class NodeListener implements Listener {
  readonly addr: NetAddr;
  private readonly server: net.Server;
  private readonly conns = new ConnQueue(() => this.close());

  constructor(server: net.Server, scratch: ReadScratch) {
    this.server = server;
    const a = server.address() as net.AddressInfo;
    this.addr = { hostname: plainIp(a.address), port: a.port };
    // a TLS server hands over its sockets once the TLS handshake is done
    server.on(server instanceof tls.Server ? "secureConnection" : "connection", (socket: net.Socket) => this.conns.push(new NodeConn(socket, scratch)));
    if (server instanceof tls.Server) server.on("tlsClientError", () => {}); // a failed TLS handshake only loses that client
    server.on("close", () => this.conns.end());
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.conns[Symbol.asyncIterator]();
  }

  async setTls(files: TlsFiles): Promise<void> {
    if (!(this.server instanceof tls.Server)) throw new Error("not a TLS listener");
    this.server.setSecureContext({ cert: files.cert, key: files.key });
  }

  close(): void {
    this.server.close();
    this.conns.end();
  }
}

function nodeListen(opts: ListenOptions, scratch: ReadScratch): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const server = opts.tls
      ? tls.createServer({ allowHalfOpen: true, noDelay: true, cert: opts.tls.cert, key: opts.tls.key })
      : net.createServer({ allowHalfOpen: true, noDelay: true });
    server.once("error", reject);
    server.listen({ host: opts.hostname, port: opts.port }, () => {
      server.off("error", reject);
      server.on("error", () => {});
      resolve(new NodeListener(server, scratch));
    });
  });
}

function nodeConnect(opts: ConnectOptions, scratch: ReadScratch): Promise<Conn> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason ?? new Error("aborted"));
    const socket = net.connect({ host: opts.hostname, port: opts.port, allowHalfOpen: true, noDelay: true });
    const onAbort = () => {
      socket.destroy();
      reject(opts.signal?.reason ?? new Error("aborted"));
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("error", (err) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
    socket.once("connect", () => {
      opts.signal?.removeEventListener("abort", onAbort);
      socket.removeAllListeners("error");
      resolve(new NodeConn(socket, scratch));
    });
  });
}

/**
 * 413, then the rest of the body is read and dropped (never kept) until the client stops or the
 * request timeout: closing with unread bytes would reset the connection and the client might
 * never see the answer.
 */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, max: number): void {
  // no `connection: close`: node:http would end the socket while the body is still coming
  res.writeHead(413, { "content-type": "application/json" });
  res.end(JSON.stringify({ code: 413, message: `request body exceeds the limit of ${max} bytes` }));
  req.on("data", () => {});
  req.resume();
}

/** node:http with a minimal web Request/Response bridge. */
export function nodeServeHttp(opts: ListenOptions, handler: FetchHandler): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(async (req, res) => {
      try {
        const host = req.headers.host ?? `${opts.hostname}:${opts.port}`;
        const url = new URL(req.url ?? "/", `http://${host}`);
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) {
          if (Array.isArray(v)) for (const x of v) headers.append(k, x);
          else if (v !== undefined) headers.set(k, v);
        }
        const hasBody = req.method !== "GET" && req.method !== "HEAD";
        let body: Uint8Array | undefined;
        if (hasBody) {
          // bounded: past the limit nothing more is read or kept (413), and the whole request
          // must arrive within node:http's requestTimeout (408)
          const max = HTTP_LIMITS.maxBodyBytes;
          if (Number(req.headers["content-length"] ?? 0) > max) return refuse(req, res, max);
          const got = await new Promise<Uint8Array | null>((resolve) => {
            const chunks: Buffer[] = [];
            let n = 0;
            let over = false;
            req.on("data", (c: Buffer) => {
              if (over) return; // past the limit: read and dropped
              n += c.length;
              if (n > max) {
                over = true;
                resolve(null);
              } else chunks.push(c);
            });
            req.once("end", () => resolve(over ? null : new Uint8Array(Buffer.concat(chunks))));
            req.once("error", () => resolve(null));
          });
          if (got === null) return refuse(req, res, max);
          body = got;
        }
        const request = new Request(url, { method: req.method, headers, body: body as unknown as BodyInit | undefined });
        const response = await handler(request, {
          remoteAddr: { hostname: plainIp(req.socket.remoteAddress), port: req.socket.remotePort ?? 0 },
        });
        const outHeaders: Record<string, string | string[]> = {};
        response.headers.forEach((v, k) => {
          const prev = outHeaders[k];
          outHeaders[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        });
        res.writeHead(response.status, outHeaders);
        if (response.body && req.method !== "HEAD") {
          const reader = response.body.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            if (!res.write(value)) await new Promise((r) => res.once("drain", r));
          }
        }
        res.end();
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      }
    });
    server.headersTimeout = HTTP_LIMITS.headersTimeoutMs;
    server.requestTimeout = HTTP_LIMITS.headersTimeoutMs + HTTP_LIMITS.bodyTimeoutMs;
    server.headersTimeout = HTTP_LIMITS.headersTimeoutMs;
    server.requestTimeout = HTTP_LIMITS.headersTimeoutMs + HTTP_LIMITS.bodyTimeoutMs;
    server.once("error", reject);
    // exclusive: in a node:cluster worker an HTTP server is its own (the worker's internal API),
    // never a socket shared with the other workers like the RTMP listeners
    server.listen({ host: opts.hostname, port: opts.port, exclusive: true }, () => {
      server.off("error", reject);
      const a = server.address() as net.AddressInfo;
      resolve({
        addr: { hostname: plainIp(a.address), port: a.port },
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

type Proc = {
  on(sig: string, fn: () => void): void;
  exit(code: number): never;
  pid: number;
  ppid: number;
  memoryUsage(): MemoryUsage;
  argv: string[];
  execArgv: string[];
  env: Record<string, string | undefined>;
};

/** How far V8 lets the old generation grow past what its last full collection kept (%). */
const HEAP_GROWING_PERCENT = 50;

/**
 * V8 settings for a long-running server (see `Runtime.tuneForServer`): no allocation-site
 * pretenuring; type feedback from a function's first call (V8 otherwise starts recording only
 * after a few calls, so the branches a session takes once — its first chunk, its sequence
 * headers, its first track — had none when the frame path was optimized, and every new publisher
 * threw that code away); no memory reducer (V8's own memory-reducing collection ~8 s into a lull
 * drops the object layouts of every class with no instance left, and with them the optimized
 * frame path: a lull between two publishers cost the second one its warm-up again — memory is
 * given back by the server's relief after a fall instead, `server/memory-relief.ts`); and the old
 * generation's growth capped at `HEAP_GROWING_PERCENT` unless Node was started with a
 * `--heap-growing-percent` of its own.
 */
function nodeTuneForServer(execArgv: string[]): void {
  v8.setFlagsFromString("--no-allocation-site-pretenuring");
  v8.setFlagsFromString("--no-lazy-feedback-allocation");
  v8.setFlagsFromString("--no-memory-reducer");
  if (!execArgv.some((a) => a.startsWith("--heap-growing-percent") || a.startsWith("--heap_growing_percent"))) {
    v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  }
}

const noHold = () => {};

export function nodeRuntime(): Runtime {
  const proc = (globalThis as unknown as { process: Proc }).process;
  keepWorkerOnDisconnect();
  const scratch: ReadScratch = { buf: new Uint8Array(READ_SCRATCH_BYTES), slot: readResultSlot(), slab: new ReadSlab() };
  return {
    name: "node",
    listen: (o) => nodeListen(o, scratch),
    connect: (o) => nodeConnect(o, scratch),
    serveHttp: nodeServeHttp,
    onSignal: (sig, fn) => proc.on(sig, fn),
    exit: (code) => proc.exit(code),
    pid: () => proc.pid,
    ppid: () => proc.ppid,
    memoryUsage: () => proc.memoryUsage(),
    releaseMemory: nodeReleaseMemory,
    args: () => nodeArgs(proc.argv),
    env: (name) => proc.env[name],
    cpuCount: nodeCpuCount,
    tuneForServer: () => nodeTuneForServer(proc.execArgv),
    awaitingAnswer: () => noHold,
    allocUnfilled,
    lendFromRead: 16 * 1024,
    spawnWorker: nodeSpawnWorker,
  };
}
