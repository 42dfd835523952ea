import { readFileSync } from "node:fs";
import type { ApplicationConfig, Config, ServerConfig } from "../config/types.ts";
import { ControlClient } from "../control/client.ts";
import { Metrics } from "../stats/metrics.ts";
import { BufferPool } from "../bytes/buffer-pool.ts";
import { HeaderScratch } from "../kmp/muxer.ts";
import { ReadBatch } from "../ingest/read-batch.ts";
import type { KmpTrack } from "../kmp/track.ts";
import type { Logger } from "../log/logger.ts";
import type { SessionContext, SessionHost } from "../ingest/context.ts";
import { RtmpSession } from "../ingest/session.ts";
import type { MediaKind, RtmpStream, StreamTrack } from "../ingest/stream.ts";
import type { HttpServer, Listener, Runtime } from "../runtime/types.ts";
import { IngestCounters } from "../stats/ingest-counters.ts";
import { systemClock, type Clock } from "../time/clock.ts";
import type { UnpublishRequest } from "../control/types.ts";
import { IdSource } from "./ids.ts";
import { MemoryRelief } from "./memory-relief.ts";
import { fmtAddr } from "../net/addr.ts";

/** A KMP track as the kmp-out API lists it. */
export type TrackEntry = { track: KmpTrack; session: RtmpSession; stream: RtmpStream; media: MediaKind; streamTrack: StreamTrack };

/** Per `server{}` block: its config and the sessions of each application. */
export type ServerState = {
  config: ServerConfig;
  sessions: Map<ApplicationConfig, Set<RtmpSession>>;
  names: Map<ApplicationConfig, Map<string, RtmpSession>>;
};

export type IngestServerOptions = {
  config: Config;
  runtime: Runtime;
  log: Logger;
  /** The server's clock (sessions, tracks and upstreams read it); the system's by default. */
  clock?: Clock;
  /** Called once per ended session (access log). */
  onSessionEnd?: (session: RtmpSession) => void;
  /** Worker process: ids from the primary's blocks, listeners shared with the other workers. */
  ids?: ServerIds;
  reusePort?: boolean;
  /** Worker process: each track's owed unpublish, for the primary to send if this process dies. */
  onOwedUnpublish?: (key: string, unpublish: UnpublishRequest | null) => void;
};

/** Bound of the pool of message reassembly buffers: a few batches' worth. */
const MESSAGE_BUFFERS_BYTES = 4 * 1024 * 1024;

/** Where connection, track and upstream connection ids come from. */
export type ServerIds = { connection: IdSource; track: IdSource; upstream: IdSource };

/**
 * The ingest server: accepts RTMP on every `listen`, runs a session per connection and keeps the
 * registries the management API reads.
 */
export class IngestServer implements SessionHost {
  readonly config: Config;
  readonly runtime: Runtime;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics = new Metrics();
  /** Released KMP log buffers, shared by every track of this server; new ones are not cleared. */
  readonly bufferPool: BufferPool;
  /**
   * Buffers RTMP messages that span chunks are reassembled in, lent per batch. Apart from the
   * logs' pool: a log buffer is resident only where written, and one that had held a message
   * would be resident where the message was.
   */
  readonly messageBuffers: BufferPool;
  readonly headerScratch = new HeaderScratch();
  /** The rests of the sessions' sockets between reads (`read_batch`): one timer per window length. */
  readonly readBatch: ReadBatch;
  readonly control: ControlClient;
  readonly startedMs: number;
  readonly servers: ServerState[];
  readonly tracks = new Map<string, TrackEntry>();
  readonly sessions = new Set<RtmpSession>();
  /** Connections, bytes and frames in and out, counted where they pass. */
  readonly counters: IngestCounters;
  private readonly ids: ServerIds;
  private readonly reusePort: boolean;
  private listeners: Listener[] = [];
  /** TLS listeners and the server{} whose certificate they serve (SIGHUP re-reads it). */
  private readonly tlsListeners: { listener: Listener; config: ServerConfig }[] = [];
  /** Each running session and its server{} (the registries look sessions up by their context). */
  private readonly bySession = new Map<SessionContext, { session: RtmpSession; state: ServerState }>();
  private readonly onSessionEnd?: (session: RtmpSession) => void;
  private readonly running = new Set<Promise<void>>();
  /** Gives memory back when the sessions fall (see memory-relief.ts). */
  private readonly relief: MemoryRelief;
  httpServers: HttpServer[] = [];

  constructor(opts: IngestServerOptions) {
    this.config = opts.config;
    this.runtime = opts.runtime;
    this.control = new ControlClient(this.metrics, () => opts.runtime.awaitingAnswer());
    const alloc = (size: number) => opts.runtime.allocUnfilled(size);
    this.bufferPool = new BufferPool(undefined, alloc);
    this.messageBuffers = new BufferPool(MESSAGE_BUFFERS_BYTES, alloc);
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.readBatch = new ReadBatch(this.clock);
    this.startedMs = this.clock.nowMs();
    this.onSessionEnd = opts.onSessionEnd;
    this.ids = opts.ids ?? { connection: IdSource.endless(), track: IdSource.endless(), upstream: IdSource.endless(1_000_001) };
    this.reusePort = opts.reusePort ?? false;
    this.owedUnpublish = opts.onOwedUnpublish;
    this.counters = new IngestCounters(this.startedMs);
    this.servers = opts.config.servers.map((config) => ({
      config,
      sessions: new Map(config.applications.map((a) => [a, new Set<RtmpSession>()])),
      names: new Map(config.applications.map((a) => [a, new Map<string, RtmpSession>()])),
    }));
    this.relief = new MemoryRelief({ runtime: this.runtime, clock: this.clock, log: this.log, metrics: this.metrics, letGoOfPool: () => this.letGoOfPools() });
  }

  /** Binds every RTMP listen address; resolves once all are listening. */
  async start(): Promise<void> {
    for (const state of this.servers) {
      for (const l of state.config.listen) {
        const c = state.config;
        const tls = l.ssl ? readCertificate(c) : undefined;
        const listener = await this.runtime.listen({ hostname: l.hostname, port: l.port, tls, reusePort: this.reusePort });
        this.listeners.push(listener);
        if (tls) this.tlsListeners.push({ listener, config: c });
        this.log.notice(`${tls ? "rtmps" : "rtmp"} listening on ${fmtAddr(listener.addr.hostname, listener.addr.port)}${l.proxy_protocol ? " (PROXY protocol)" : ""}`);
        void this.acceptLoop(listener, state, l.proxy_protocol);
      }
    }
  }

  /** Actual bound RTMP addresses (port 0 resolved). */
  get addresses(): { hostname: string; port: number }[] {
    return this.listeners.map((l) => l.addr);
  }

  private async acceptLoop(listener: Listener, state: ServerState, proxy: boolean): Promise<void> {
    try {
      for await (const conn of listener) {
        this.counters.naccepted++;
        try {
          conn.setNoDelay(true);
        } catch { /* not all sockets support it */ }
        const session = new RtmpSession(this, conn, state.config, { proxyProtocol: proxy });
        this.sessions.add(session);
        this.relief.sessions(this.sessions.size);
        this.bySession.set(session, { session, state });
        const p = session.run().catch((err) => this.log.error(`session ${session.connection} crashed: ${err}`));
        this.running.add(p);
        void p.finally(() => this.running.delete(p));
      }
    } catch (err) {
      this.log.error(`accept loop ended: ${err}`);
    }
  }

  /**
   * SIGHUP: every TLS listener re-reads its server's certificate and key; new connections get the
   * new one, open sessions keep theirs. A file that cannot be read keeps the old certificate.
   */
  async reloadCertificates(): Promise<void> {
    for (const { listener, config } of this.tlsListeners) {
      const where = fmtAddr(listener.addr.hostname, listener.addr.port);
      try {
        await listener.setTls(readCertificate(config));
        this.log.notice(`rtmps ${where}: certificate reloaded from ${config.ssl_certificate}`);
      } catch (err) {
        this.log.error(`rtmps ${where}: certificate not reloaded, the old one stays: ${(err as Error).message}`);
      }
    }
  }

  /** RTMP listeners are open (false once a stop began): what `GET /healthz` reports. */
  get accepting(): boolean {
    return this.listeners.length > 0;
  }

  /** Stops accepting new connections. */
  stopAccepting(): void {
    for (const l of this.listeners) {
      try {
        l.close();
      } catch { /* already closed */ }
    }
    this.listeners = [];
    this.tlsListeners.length = 0;
  }

  /**
   * Graceful stop: stop accepting, end every session (eost, wait for the receivers, unpublish),
   * wait up to `graceMs` for the tracks, then close what is left.
   */
  async stop(graceMs = 15_000, progress: (line: string) => void = () => {}): Promise<void> {
    this.stopAccepting();
    this.relief.stop();
    progress(`stopped accepting; ending ${this.sessions.size} session(s)`);
    for (const s of [...this.sessions]) s.shutdown({ reason: "rtmp_disconnect", message: "server shutting down" });
    const deadline = this.clock.nowMs() + graceMs;
    if (this.tracks.size) progress(`waiting up to ${graceMs} ms for ${this.tracks.size} track(s) to finish (eost, receiver close, unpublish)`);
    while (this.tracks.size > 0 && this.clock.nowMs() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (this.tracks.size) progress(`grace period over: closing ${this.tracks.size} track(s)`);
    for (const t of [...this.tracks.values()]) t.track.close("shutdown");
    // every unpublish request must have left (and been answered, or timed out) before we exit
    await this.control.settled(5_000);
    for (const h of this.httpServers) await h.close().catch(() => {});
    this.letGoOfPools();
    progress("all tracks finished");
  }

  // ---- SessionHost -------------------------------------------------------------------------

  /** Both buffer pools let go (no session left, or stopped). */
  private letGoOfPools(): void {
    this.bufferPool.clear();
    this.messageBuffers.clear();
  }

  nextConnectionId(): number {
    return this.ids.connection.next();
  }
  nextTrackId(): string {
    return String(this.ids.track.next());
  }
  nextUpstreamConnectionId(): number {
    return this.ids.upstream.next();
  }
  readonly owedUnpublish?: (key: string, unpublish: UnpublishRequest | null) => void;
  attach(s: SessionContext): void {
    const r = this.bySession.get(s);
    if (r && s.app) r.state.sessions.get(s.app)?.add(r.session);
  }
  detach(s: SessionContext): void {
    const r = this.bySession.get(s);
    if (r && s.app) r.state.sessions.get(s.app)?.delete(r.session);
  }
  claimName(app: ApplicationConfig, name: string, s: SessionContext): boolean {
    const r = this.bySession.get(s);
    const names = r?.state.names.get(app);
    if (!r || !names) return true;
    const owner = names.get(name);
    if (owner) return false; // another session's, or a second publish of the same name on this one (sandbox)
    names.set(name, r.session);
    return true;
  }
  releaseName(app: ApplicationConfig, name: string, s: SessionContext): void {
    const r = this.bySession.get(s);
    const names = r?.state.names.get(app);
    if (r && names && names.get(name) === r.session) names.delete(name);
  }
  trackOpened(track: KmpTrack, s: SessionContext, stream: RtmpStream, streamTrack: StreamTrack): void {
    const r = this.bySession.get(s);
    if (r) this.tracks.set(track.id, { track, session: r.session, stream, media: streamTrack.media, streamTrack });
  }
  trackClosed(track: KmpTrack): void {
    this.counters.closedTracks.frames += track.frames.sentFrames;
    this.counters.closedTracks.bytes += track.log.written;
    this.tracks.delete(track.id);
  }
  sessionEnded(s: SessionContext): void {
    const r = this.bySession.get(s);
    if (!r) return;
    this.sessions.delete(r.session);
    this.relief.sessions(this.sessions.size);
    this.bySession.delete(s);
    this.onSessionEnd?.(r.session);
  }

  /** Finds a live session by connection id (API DELETE). */
  findSession(connection: number): RtmpSession | null {
    for (const s of this.sessions) if (s.connection === connection && s.app) return s;
    return null;
  }

  appSessions(state: ServerState, app: ApplicationConfig): RtmpSession[] {
    return [...(state.sessions.get(app) ?? [])];
  }
}

/** The PEM certificate chain and key of a server{} (`ssl_certificate`, `ssl_certificate_key`). */
function readCertificate(c: ServerConfig): { cert: string; key: string } {
  if (!c.ssl_certificate || !c.ssl_certificate_key) throw new Error("no ssl_certificate / ssl_certificate_key");
  return { cert: readFileSync(c.ssl_certificate, "utf8"), key: readFileSync(c.ssl_certificate_key, "utf8") };
}
