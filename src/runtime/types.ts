/** Address of one end of a TCP connection. `hostname` is an IP literal (IPv6 without brackets). */
export type NetAddr = { hostname: string; port: number };

/**
 * Where `Conn.pipeInto` writes the socket's bytes: a `WritableStream`'s writer, or a stage's own
 * entry that behaves like one (`write` may take a chunk at once and return nothing).
 */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Room left (bytes); ≤ 0: reading pauses until `ready`. */
  readonly desiredSize: number | null;
  readonly ready: Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
  /**
   * True when `write` is done with a chunk once it returns (it copies what it keeps, also what it
   * queues), so the socket may lend it a view of a read buffer that the next read overwrites
   * (Node's shared read buffer, Deno's per-socket one) instead of a copy of each read.
   */
  readonly borrows?: boolean;
}

/** Hears how a batch that `Conn.send` could not hand over at once ended (one call per batch). */
export interface SendDone {
  /** The runtime took all of the batch; the socket takes more. */
  sent(): void;
  /** The socket failed first. */
  sendFailed(err: Error): void;
}

/**
 * A TCP connection as web streams. Every runtime adapter (Deno, Bun, node:net) implements it.
 * - `readable` yields what the peer sent (chunks are owned by the reader: adapters never reuse them;
 *   they may be views into a block shared with other reads, so what keeps one waiting keeps a
 *   copy) and closes at the peer's FIN; it errors on a reset. `pipeInto` lends its reads to a
 *   sink that `borrows`.
 * - `writable` resolves a write once the runtime has accepted the bytes (kernel or runtime buffer);
 *   `writable.close()` is a half-close (FIN) — reading goes on.
 * - `close()` tears the whole socket down at once (both directions, pending writes dropped).
 */
export interface Conn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  /** Total bytes the runtime accepted for writing on this socket. */
  readonly bytesWritten: number;
  /** Resolves once the socket is fully closed (both directions, or after close()). */
  readonly closed: Promise<void>;
  /**
   * What `readable.pipeTo(dest, { signal })` does, without a second stream in between: every
   * chunk the peer sends from now on (after what `readable` already queued) is written straight
   * into `dest` (one `write` per socket read), reading pauses while `dest` is full; `dest` closes
   * at the peer's FIN and aborts on an error; the signal aborts `dest` and tears the socket down.
   * `readable` must be unlocked.
   */
  pipeInto(dest: ByteSink, signal: AbortSignal): Promise<void>;
  /**
   * The write side's twin of `pipeInto`: hands `chunks` to the runtime in order, gathered into one
   * system call where it has one (`writev`), with no stream and no promise per write. True: the
   * runtime took them at once and has room for more (a `writable` write that resolves at once).
   * False: it holds some back; `done` hears `sent` or `sendFailed` once, and nothing is sent
   * before that. The chunks stay untouched until taken; after `close()` `done` hears nothing.
   * One writer per socket: not mixed with `writable` writes.
   */
  send(chunks: readonly Uint8Array[], done: SendDone): boolean;
  /**
   * One read takes all the bytes waiting for this socket (up to the read's size), so a socket
   * that rested (`read_batch`) is caught up by one read. False for Node's TLS sockets (and a Node
   * without the plain-socket read hook): their reads come out of a stream one TLS record at a
   * time, and a pause after each would let through one record per rest.
   */
  readonly wholeReads: boolean;
  setNoDelay(on: boolean): void;
  close(): void;
}

export interface Listener extends AsyncIterable<Conn> {
  readonly addr: NetAddr;
  close(): void;
  /**
   * TLS listeners: serve new connections with this certificate; connections already open keep
   * theirs. Node swaps the context in place; Deno and Bun open a new listener on the same port
   * and close the old one (with `reusePort` the new one is open first, so no connect is refused).
   */
  setTls(tls: TlsFiles): Promise<void>;
}

/** A PEM certificate chain and its private key. */
export type TlsFiles = { cert: string; key: string };

/**
 * `tls`: serve TLS on this listener. `reusePort`: share the port with the other worker processes
 * (SO_REUSEPORT on Deno and Bun; on Node the workers of node:cluster share the primary's socket).
 */
export type ListenOptions = { hostname: string; port: number; tls?: TlsFiles; reusePort?: boolean };
export type ConnectOptions = { hostname: string; port: number; signal?: AbortSignal };

/** A running HTTP server (Deno.serve / Bun.serve / node:http). */
export interface HttpServer {
  readonly addr: NetAddr;
  close(): Promise<void>;
}
export type FetchHandler = (req: Request, info: { remoteAddr: NetAddr }) => Response | Promise<Response>;

/** How a process ended: its exit code, or the signal that killed it. */
export type ProcessExit = { code: number | null; signal: string | null };

/** A worker process running this same program (`Runtime.spawnWorker`). */
export interface WorkerProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  kill(signal: "SIGTERM" | "SIGKILL" | "SIGHUP"): void;
}

/** Resident set, the JS heap (used, reserved) and memory outside it (buffers), in bytes. */
export type MemoryUsage = { rss: number; heapUsed: number; heapTotal: number; external: number };

export type Signal = "SIGINT" | "SIGTERM" | "SIGHUP";

export interface Runtime {
  readonly name: "deno" | "bun" | "node";
  listen(opts: ListenOptions): Promise<Listener>;
  connect(opts: ConnectOptions): Promise<Conn>;
  serveHttp(opts: ListenOptions, handler: FetchHandler): Promise<HttpServer>;
  /** Process hooks: signals and exit, so no other file names the runtime. */
  onSignal(signal: Signal, handler: () => void): void;
  exit(code: number): never;
  pid(): number;
  /** The parent's pid (a worker notices its primary is gone when this changes). */
  ppid(): number;
  args(): string[];
  env(name: string): string | undefined;
  /** The process's memory as the runtime tells it, in bytes (`/metrics`, the soak bench). */
  memoryUsage(): MemoryUsage;
  /**
   * Runs the runtime's memory-reducing collection: every unreachable object freed, the heap
   * compacted and the pages it no longer needs given back to the system. Resolves false where the
   * runtime offers no such call (Deno, whose `node:inspector` session never answers it and whose
   * `gc()` does not shrink; Bun, whose `Bun.gc(true)` frees objects but gives back almost no
   * pages) — there the heap's own sizing decides.
   */
  releaseMemory(): Promise<boolean>;
  /**
   * `size` bytes whose old contents are not cleared first, for a buffer its owner writes before
   * anything reads it (Node's and Bun's unpooled unsafe `Buffer`, as a plain `Uint8Array`; Deno
   * has none and clears it). A page its owner never writes is never touched, so it costs no
   * resident memory: a KMP log buffer of 64 KiB that is flushed after 34 KB (1 s of a 270 kbit/s
   * track) holds 34 KB, as the reference's does (`bench/RESULTS.md`, session 12).
   */
  allocUnfilled(size: number): Uint8Array;
  /**
   * Reads at least this long reassemble the messages they complete in buffers lent from the
   * server's pool (`ChunkDecoderOptions.lendFromRead`); shorter ones in buffers of their own. On
   * Node 16 KiB: a fast publisher's reads recycle their buffers (5–8 full collections where there
   * were 16, two 162 MB publishes), while a real-time publisher's small reads keep allocating, which Node's young
   * generation frees at once — recycled there, they held 0.05 MB more per publisher (the
   * collector, with less garbage, ran its full collections later). Bun and Deno recycle for every
   * read (Bun: 0.05–0.10 MB less per publisher). `bench/RESULTS.md`, session 13.
   */
  readonly lendFromRead: number;
  /** Logical CPUs this process may use (`worker_processes auto`). */
  cpuCount(): number;
  /**
   * Process-wide engine settings for a long-running ingest server: the CLI calls it once before
   * it serves (a program that embeds the library chooses its own). On Node, V8's allocation-site
   * pretenuring is turned off: with paced reads (`read_batch`) V8 pretenured allocation sites
   * of the frame path, whose objects then filled the old generation until a full collection
   * (`bench/RESULTS.md`, session 11); and the old generation grows by at most half of what its
   * last full collection kept (V8's `--heap-growing-percent=50`, unless Node was started with a
   * value of its own): V8 otherwise lets it grow up to 4× when collections are cheap, and the
   * garbage between two full collections was most of a publisher's resident memory (session 14);
   * and V8 records type feedback from a function's first call, so that what a session does once
   * at its start is in the frame path's optimized code and a new publisher does not throw that
   * code away, nor does V8's memory reducer (its collection in a lull between publishers drops
   * the compiled frame path; the server's own relief gives memory back after a fall) (session 19).
   * On Deno (whose V8 flags are only set on its command line; `node:v8`'s `setFlagsFromString`
   * does nothing there) it starts the wake coalescer (`wake-coalescer.ts`: the loop rests a few
   * ms at a time between a quarter of a core and 80 %, so that tokio's wake-up per arriving
   * segment is paid once per rest); nothing on Bun (JavaScriptCore has no such setting).
   */
  tuneForServer(): void;
  /**
   * Marks that the process waits for a peer's answer that a session's progress depends on (a
   * controller callback); the returned function ends the mark (calling it again does nothing).
   * On Deno the wake coalescer does not rest while a mark is open; nothing elsewhere.
   */
  awaitingAnswer(): () => void;
  /**
   * Runs this program again (same entry, same arguments, stdout/stderr shared) with `env` added:
   * node:cluster on Node (so listeners are shared), a child process of the same executable on
   * Deno (with --unstable-net for SO_REUSEPORT) and Bun.
   */
  spawnWorker(env: Record<string, string>): WorkerProcess;
}
