/** Address of one end of a TCP connection. `hostname` is an IP literal (IPv6 without brackets). */
export type NetAddr = { hostname: string; port: number };

/**
 * A TCP connection as web streams. Every runtime adapter (Deno, Bun, node:net) implements it.
 * - `readable` yields what the peer sent (chunks are owned by the reader: adapters never reuse them)
 *   and closes at the peer's FIN; it errors on a reset.
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
  setNoDelay(on: boolean): void;
  close(): void;
}

export interface Listener extends AsyncIterable<Conn> {
  readonly addr: NetAddr;
  close(): void;
}

/** `tls`: serve TLS on this listener (PEM certificate chain and private key). */
export type ListenOptions = { hostname: string; port: number; tls?: { cert: string; key: string } };
export type ConnectOptions = { hostname: string; port: number; signal?: AbortSignal };

/** A running HTTP server (Deno.serve / Bun.serve / node:http). */
export interface HttpServer {
  readonly addr: NetAddr;
  close(): Promise<void>;
}
export type FetchHandler = (req: Request, info: { remoteAddr: NetAddr }) => Response | Promise<Response>;

export interface Runtime {
  readonly name: "deno" | "bun" | "node";
  listen(opts: ListenOptions): Promise<Listener>;
  connect(opts: ConnectOptions): Promise<Conn>;
  serveHttp(opts: ListenOptions, handler: FetchHandler): Promise<HttpServer>;
  /** Process hooks: signals and exit, so no other file names the runtime. */
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  exit(code: number): never;
  pid(): number;
  args(): string[];
}
