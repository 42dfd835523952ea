import type { ApplicationConfig, ServerConfig } from "../config/types.ts";
import type { UnpublishReason } from "../control/types.ts";
import { CodedError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { MessageBuffers, RtmpMessage } from "../rtmp/chunk-decoder.ts";
import { MSG } from "../rtmp/protocol.ts";
import { isPeerGone } from "../runtime/errors.ts";
import type { Conn, NetAddr } from "../runtime/types.ts";
import { RateMeter } from "../stats/rate-meter.ts";
import type { Clock } from "../time/clock.ts";
import { Deadline } from "../time/deadline.ts";
import { clientAddr, newClientInfo, type ClientInfo } from "./client-info.ts";
import { onCommand, onData } from "./commands.ts";
import { ConnectGate } from "./connect-gate.ts";
import type { CloseCause, SessionContext, SessionHost } from "./context.ts";
import { SessionError, type CloseCode } from "./errors.ts";
import { onMedia, type BatchTime } from "./media.ts";
import { readPreamble } from "./preamble.ts";
import { ProtocolControl } from "./protocol-control.ts";
import { FrameBatch } from "./frame-batch.ts";
import { Pump } from "./pump.ts";
import type { ReadBatch } from "./read-batch.ts";
import type { RtmpStream } from "./stream.ts";
import { objectList } from "../object-list.ts";

export type { CloseCause, SessionHost } from "./context.ts";

type SessionState = "handshake" | "connected" | "closing" | "closed";

const CLIENT_CLOSED: CloseCause = { reason: "rtmp_disconnect", message: "client closed the connection", code: "RTMP_CLIENT_CLOSED", peer: true };

/**
 * One RTMP client connection (spec §1, §9): its lifecycle — preamble (PROXY header, handshake),
 * the frame pump, the end — and the state its handlers share (client, application, streams).
 * Commands, the connect gate, publish, media and track creation live in their own files and act
 * through `SessionContext`.
 */
export class RtmpSession implements SessionContext {
  readonly connection: number;
  readonly conn: Conn;
  readonly server: ServerConfig;
  readonly host: SessionHost;
  readonly acceptedMs: number;
  readonly client: ClientInfo;
  readonly streams = new Map<number, RtmpStream>();
  readonly frames = new FrameBatch();
  readonly bytesIn: RateMeter;
  bytesOut = 0;
  app: ApplicationConfig | null = null;
  connected = false;
  outChunkSize = 128;
  state: SessionState = "handshake";
  command = "";
  lastPublishName = "";
  lastPublishArgs = "";
  closeCause: CloseCause | null = null;
  readonly gate: ConnectGate;
  readonly protocol: ProtocolControl;

  private logger: Logger;
  /** The listener is marked `proxy_protocol`: a PROXY v1/v2 header precedes the handshake. */
  private readonly proxyProtocol: boolean;
  private readonly abort = new AbortController();
  private writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private writeChain: Promise<void> = Promise.resolve();
  private pump: Pump | null = null;
  private readonly idle: Deadline;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  /** A publishing stream's media could not be converted: the tracks end with `rtmp_kmp_error`. */
  private kmpError = false;

  constructor(host: SessionHost, conn: Conn, server: ServerConfig, opts: { proxyProtocol?: boolean } = {}) {
    this.host = host;
    this.conn = conn;
    this.server = server;
    this.proxyProtocol = opts.proxyProtocol ?? false;
    this.connection = host.nextConnectionId();
    this.acceptedMs = host.clock.nowMs();
    this.bytesIn = new RateMeter(this.acceptedMs);
    this.client = newClientInfo(this.connection, conn.remoteAddr);
    this.logger = host.log.child({ session: this.connection, client: this.remoteAddr });
    this.gate = new ConnectGate(this);
    this.protocol = new ProtocolControl((b) => this.send(b));
    this.idle = new Deadline(host.clock, () => {
      this.shutdown({ reason: "rtmp_disconnect", message: `idle for ${server.kmp_idle_timeout} ms (kmp_idle_timeout)`, code: "RTMP_ERR_IDLE" });
    });
  }

  get log(): Logger {
    return this.logger;
  }

  get clock(): Clock {
    return this.host.clock;
  }

  /** `ip:port` (`[v6]:port`) of the client (the `addr` of the connect body, the API, the logs). */
  get remoteAddr(): string {
    return clientAddr(this.client);
  }

  /** Client IP without port (the `addr` of publish/unpublish bodies, spec §6.3). */
  get remoteIp(): string {
    return this.client.peer.hostname;
  }

  get type3ExtTs(): "on" | "off" | "unknown" {
    return this.pump ? this.pump.demuxer.decoder.type3ExtTs : "unknown";
  }

  get open(): boolean {
    return this.state === "connected";
  }

  get handshaking(): boolean {
    return this.state === "handshake";
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get readBatch(): ReadBatch {
    return this.host.readBatch;
  }

  get messageBuffers(): MessageBuffers {
    return this.host.messageBuffers;
  }

  get lendFromRead(): number {
    return this.host.runtime.lendFromRead;
  }

  get timescale(): number {
    return this.app?.kmp_timescale ?? 90_000;
  }

  setPeer(peer: NetAddr): void {
    this.client.peer = peer;
    this.logger = this.host.log.child({ session: this.connection, client: this.remoteAddr });
  }

  /** Runs the session to its end; never throws. */
  async run(): Promise<void> {
    if (!this.proxyProtocol) this.log.debug("accepted");
    this.writer = this.conn.writable.getWriter();
    if (this.server.kmp_idle_timeout > 0) this.idle.arm(this.server.kmp_idle_timeout);
    if (this.server.timeout > 0) {
      this.handshakeTimer = setTimeout(() => {
        this.fail(new SessionError("RTMP_ERR_HANDSHAKE_TIMEOUT", `handshake not completed within ${this.server.timeout} ms`));
      }, this.server.timeout);
    }
    const reader = this.conn.readable.getReader();
    let first: Uint8Array | null = null;
    try {
      const p = await readPreamble(this, reader, this.proxyProtocol);
      if ("closed" in p) this.shutdown({ reason: "rtmp_disconnect", message: p.closed });
      else if ("rest" in p && this.state === "handshake") {
        clearTimeout(this.handshakeTimer!);
        this.handshakeTimer = null;
        this.state = "connected";
        first = p.rest;
        // An idle client costs no pipeline: it is built when the first chunk bytes arrive.
        if (first.byteLength === 0) {
          const r = await reader.read();
          first = r.done || !this.open ? null : r.value;
        }
      }
    } catch (err) {
      this.fail(err);
      first = null;
    } finally {
      reader.releaseLock();
    }
    if (first === null) {
      if (this.open) this.shutdown(CLIENT_CLOSED);
      return;
    }
    try {
      this.pump = new Pump(this);
      await this.pump.run(first);
      if (this.open) this.shutdown(CLIENT_CLOSED);
    } catch (err) {
      this.fail(err);
    }
  }

  /** One message of the chunk stream: before `connect` was accepted only `connect` may come. */
  dispatch(msg: RtmpMessage, time: BatchTime): void {
    if (!this.connected && msg.type >= MSG.AUDIO && !isConnectCommand(msg)) {
      throw new SessionError("RTMP_ERR_NOT_CONNECTED", `message type ${msg.type} before connect was accepted`);
    }
    switch (msg.type) {
      case MSG.AUDIO:
      case MSG.VIDEO:
        onMedia(this, msg, time);
        return;
      case MSG.AMF0_DATA:
      case MSG.AMF3_DATA:
        onData(this, msg);
        return;
      case MSG.AMF0_COMMAND:
      case MSG.AMF3_COMMAND:
        onCommand(this, this.gate, msg);
        return;
      default:
        this.protocol.onMessage(msg);
    }
  }

  countIn(n: number): void {
    const now = this.host.clock.nowMs();
    this.bytesIn.add(n, now);
    this.host.counters.bytesIn.add(n, now);
  }

  send(bytes: Uint8Array): void {
    const w = this.writer;
    if (!w || this.state === "closed") return;
    this.bytesOut += bytes.byteLength;
    this.host.counters.bytesOut.add(bytes.byteLength, this.host.clock.nowMs());
    this.writeChain = w.write(bytes).catch(() => {
      // write failures surface as a read error/EOF too; the read loop ends the session
    });
  }

  mediaArrived(nowMs: number): void {
    if (this.server.kmp_idle_timeout > 0) this.idle.arm(this.server.kmp_idle_timeout, nowMs);
  }

  mediaFailed(): void {
    this.kmpError = true;
  }

  /** Ends the session because of an error (coded errors are logged with their code). */
  fail(err: unknown): void {
    const reason: UnpublishReason = this.kmpError ? "rtmp_kmp_error" : "rtmp_disconnect";
    if (isPeerGone(err)) {
      // ffmpeg, VLC and librtmp often end with a reset right after deleteStream: a normal close
      this.shutdown({ reason, message: `client reset the connection (${(err as Error).message})`, code: "RTMP_CLIENT_RESET", peer: true });
      return;
    }
    const code: CloseCode = err instanceof CodedError ? (err.code as CloseCode) : "RTMP_ERR_INTERNAL";
    this.shutdown({ reason, message: err instanceof Error ? err.message : String(err), code });
  }

  /** Closes the connection and ends every stream (spec §9 connection close). */
  shutdown(cause: CloseCause): void {
    if (this.state === "closed" || this.state === "closing") return;
    this.state = "closing";
    this.closeCause = cause;
    if (cause.code && !cause.peer) this.log.warn(`session closed: ${cause.code}: ${cause.message}`);
    else if (cause.code) this.log.info(`session closed: ${cause.code}: ${cause.message}`);
    else this.log.info(`session closed: ${cause.message}`);
    this.host.metrics.inc("rtmp_kmp_sessions_closed_total", { code: cause.code ?? "none" });
    this.idle.cancel();
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    if (this.connected || this.app) this.host.detach(this);
    const reason: UnpublishReason = this.kmpError ? "rtmp_kmp_error" : cause.reason === "rtmp_close" ? "rtmp_close" : "rtmp_disconnect";
    for (const id of [...this.streams.keys()].sort((a, b) => a - b)) this.endStream(this.streams.get(id)!, reason);
    this.abort.abort();
    this.state = "closed";
    this.gate.settle();
    const w = this.writer;
    this.writer = null;
    if (w) {
      // let queued replies (e.g. a rejection) go out, then close
      this.writeChain.finally(() => {
        try {
          w.releaseLock();
        } catch { /* ignore */ }
        this.conn.close();
      });
    } else this.conn.close();
    this.host.sessionEnded(this);
  }

  endStream(stream: RtmpStream, reason: UnpublishReason): void {
    stream.publish = null;
    const ordered = stream.orderedTracks();
    stream.clearTracks();
    for (const st of ordered) {
      if (!st.track) continue;
      if (st.pending.length) st.track.push(st.pending);
      st.pending = objectList();
      st.track.end(reason); // after what was pushed: eost, then the teardown
    }
    if (stream.live && stream.app) {
      this.host.releaseName(stream.app, stream.liveName, this);
      stream.live = false;
    }
  }
}

/** A `connect` command message (the only command allowed before connect is accepted). */
function isConnectCommand(msg: RtmpMessage): boolean {
  if (msg.type !== MSG.AMF0_COMMAND && msg.type !== MSG.AMF3_COMMAND) return false;
  const p = msg.payload;
  const o = msg.type === MSG.AMF3_COMMAND ? 1 : 0; // AMF3 command: one format byte first
  // AMF0 string marker, u16 length 7, "connect"
  if (p.byteLength < o + 10 || p[o] !== 2 || p[o + 1] !== 0 || p[o + 2] !== 7) return false;
  return String.fromCharCode(p[o + 3], p[o + 4], p[o + 5], p[o + 6], p[o + 7], p[o + 8], p[o + 9]) === "connect";
}
