import type { ResumeFrom } from "../config/types.ts";
import { fmtAddr } from "../net/addr.ts";
import type { Logger } from "../log/logger.ts";
import type { Conn, Runtime, SendDone } from "../runtime/types.ts";
import type { Metrics } from "../stats/metrics.ts";
import type { Clock } from "../time/clock.ts";
import { Deadline } from "../time/deadline.ts";
import { AckPosition } from "./acks.ts";
import type { ByteLog } from "./byte-log.ts";
import { KmpError } from "./errors.ts";
import { AckSink, type AckListener } from "./ack-sink.ts";
import { encodeConnect, type Ack } from "./packets.ts";
import { parseKmpUrl } from "./url.ts";
import { mutableField } from "../mutable-field.ts";

/** What an upstream needs from its track. */
export interface UpstreamHost {
  readonly log: ByteLog;
  readonly channelId: string;
  readonly trackId: string;
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly metrics: Metrics;
  nextConnectionId(): number;
  /** The upstream failed (spec §5.7); the track decides about republish. */
  upstreamError(u: KmpUpstream, err: Error): void;
  /** Something was acknowledged or sent: the track may release buffers. */
  upstreamProgress(u: KmpUpstream): void;
  /** The socket closed after `eost` was written (normal end). */
  upstreamEnded(u: KmpUpstream): void;
}

/** What a publish answer or the kmp-out API says of an upstream. */
export type UpstreamSpec = { id: string; url: string; required: boolean; resumeFrom: ResumeFrom; connectData: Uint8Array };

export type UpstreamStats = {
  id: string;
  remoteAddr: string;
  localAddr: string;
  connection: number;
  required: boolean;
  resumeFrom: ResumeFrom;
  sentBytes: number;
  position: number;
  ackedFrames: number;
  ackedBytes: number;
  autoAckedFrames: number;
  /** Beyond the reference's object (the status page): */
  url: string;
  state: KmpUpstream["state"];
  republishes: number;
  /** `created` of the first frame the receiver has not acknowledged (null: all acknowledged). */
  pendingCreated: number | null;
};

/**
 * One KMP receiver connection of a track (spec §5.4-5.8): writes cnct + connect data + the last
 * acknowledged media info + the retained log from the acknowledged position, then follows the
 * log as it grows; reads and validates acks. It writes at its own pace from the shared log, so
 * a slow receiver never stalls its siblings. Whether and when it reconnects is the track's
 * republish policy's; this object only connects when told and reports how it ended.
 */
export class KmpUpstream implements SendDone, AckListener {
  readonly id: string;
  readonly required: boolean;
  readonly resumeFrom: ResumeFrom;
  private url: string;
  private connectData: Uint8Array;
  /** The acknowledged position (survives reconnects). */
  readonly acked: AckPosition;
  /** Times it was reconnected through the republish policy. */
  republishes = 0;
  /** Set when an ack walk failed (over-ack): never republish. */
  unrecoverable = false;
  everConnected = false;
  state: "idle" | "connecting" | "connected" | "closed" = "idle";
  /** `eost` position: once sent past it, the receiver is expected to close. */
  endOffset = -1;
  /** Log offset queued to / accepted by the current socket. */
  queuedOffset = 0;
  sentOffset = 0;

  private readonly host: UpstreamHost;
  private readonly logger: Logger;
  private conn: Conn | null = null;
  private connection = 0;
  private socketBytes = 0;
  /** A batch the socket holds back (`Conn.send` said false): its bytes, and whether it is a prefix. */
  private holding = false;
  private heldBytes = 0;
  private heldPrefix = false;
  private pumping = false;
  private abort: AbortController | null = null;
  /** Bytes written to the socket ahead of the log (cnct, data, minf) and not yet accepted. */
  private pendingPrefix = 0;
  /** kmp_timeout: connect, send stall, or the receiver's close after eost (`timeoutKind`). */
  private readonly timeout: Deadline;
  private timeoutKind: "connect" | "stall" | "close" = "connect";
  /** `rtmp_kmp_kmp_acks_total`, held (an ack counts without building the counter's key). */
  private readonly acksTotal: { value: number };

  constructor(host: UpstreamHost, spec: UpstreamSpec, acked: AckPosition, logger: Logger) {
    this.host = host;
    this.id = spec.id;
    this.url = spec.url;
    this.required = spec.required;
    this.resumeFrom = spec.resumeFrom;
    this.connectData = spec.connectData;
    this.acked = acked;
    this.logger = logger.child({ upstream: spec.id || "-" });
    this.timeout = new Deadline(host.clock, () => this.onTimeout());
    this.acksTotal = host.metrics.counter("rtmp_kmp_kmp_acks_total");
    // written late in its life (see mutableField)
    mutableField(this, "endOffset", 0);
  }

  /** Data queued to the socket but not yet accepted, or log data not yet queued. */
  get pending(): boolean {
    return this.pendingPrefix > 0 || this.sentOffset < this.host.log.appended;
  }

  /** Bytes of the log this upstream still holds back from release: unsent while connected, else unacked. */
  unsent(written: number): number {
    return written - (this.state === "connected" ? this.sentOffset : this.acked.offset);
  }

  stats(trackInitialFrameId: bigint): UpstreamStats {
    const conn = this.state === "connected" ? this.conn : null;
    return {
      id: this.id,
      remoteAddr: conn ? fmtAddr(conn.remoteAddr.hostname, conn.remoteAddr.port) : "",
      localAddr: conn ? fmtAddr(conn.localAddr.hostname, conn.localAddr.port) : "",
      connection: conn ? this.connection : 0,
      required: this.required,
      resumeFrom: this.resumeFrom,
      sentBytes: conn ? this.socketBytes : 0,
      position: conn ? this.sentOffset : 0,
      ackedFrames: this.acked.framesSince(trackInitialFrameId),
      ackedBytes: this.acked.offset,
      autoAckedFrames: this.acked.autoAckedFrames,
      url: this.url,
      state: this.state,
      republishes: this.republishes,
      pendingCreated: this.acked.pendingCreated(this.host.log),
    };
  }

  /** A republish answer: where to connect next, and with which connect data (null keeps it). */
  retarget(url: string, connectData: Uint8Array | null): void {
    this.url = url;
    if (connectData) this.connectData = connectData;
  }

  /** Opens the TCP connection and starts sending (spec §5.4). */
  connect(): void {
    const addr = parseKmpUrl(this.url);
    if (!addr) {
      queueMicrotask(() => this.fail(new KmpError("KMP_ERR_BAD_URL", `invalid upstream url '${this.url}'`)));
      return;
    }
    this.state = "connecting";
    const abort = new AbortController();
    this.abort = abort;
    this.armTimeout("connect");
    this.host.runtime.connect({ hostname: addr.hostname, port: addr.port, signal: abort.signal }).then((conn) => {
      if (abort.signal.aborted || this.state !== "connecting") {
        conn.close();
        return;
      }
      this.onConnected(conn);
    }, (err) => {
      if (abort.signal.aborted) return;
      this.fail(new KmpError("KMP_ERR_CONNECT", `connect to ${this.url} failed: ${(err as Error).message}`));
    });
  }

  private onConnected(conn: Conn): void {
    this.conn = conn;
    this.connection = this.host.nextConnectionId();
    this.state = "connected";
    this.everConnected = true;
    try {
      conn.setNoDelay(true);
    } catch { /* optional */ }
    this.holding = false;
    this.socketBytes = 0;
    const a = this.acked;
    this.queuedOffset = this.sentOffset = a.offset;
    const cnct = encodeConnect({
      channelId: this.host.channelId,
      trackId: this.host.trackId,
      initialFrameId: a.frameId,
      initialUpstreamFrameId: a.lastAck.upstreamFrameId,
      initialOffset: a.lastAck.offset,
      data: this.connectData,
    });
    this.logger.info(`connected to ${this.url} (connection ${this.connection}), resuming at frame ${a.frameId}, offset ${a.offset}`);
    const taken = this.send(a.minf ? [cnct, a.minf] : [cnct], cnct.byteLength + (a.minf?.byteLength ?? 0), true);
    this.readAcks(conn);
    if (taken) this.onProgress(); // and on to the log
    else this.armStall();
  }

  /**
   * Hands a batch to the socket (one gathered write, no promise): true when it was taken at once.
   * A prefix (cnct, data, minf) goes ahead of the log and is not part of it.
   */
  private send(views: readonly Uint8Array[], bytes: number, prefix: boolean): boolean {
    if (prefix) this.pendingPrefix += bytes;
    else this.queuedOffset += bytes;
    if (this.conn!.send(views, this)) {
      this.taken(bytes, prefix);
      return true;
    }
    this.holding = true;
    this.heldBytes = bytes;
    this.heldPrefix = prefix;
    return false;
  }

  /** The socket took a batch: it counts as sent (and auto-acked unless resuming from acks). */
  private taken(bytes: number, prefix: boolean): void {
    this.socketBytes += bytes;
    if (prefix) this.pendingPrefix -= bytes;
    else {
      this.sentOffset += bytes;
      if (this.resumeFrom !== "last_acked") this.acked.autoAck(this.host.log, this.sentOffset);
    }
  }

  /** `SendDone`: the batch the socket held back was taken (the current socket's: a closed one tells nothing). */
  sent(): void {
    if (!this.holding) return;
    this.holding = false;
    this.taken(this.heldBytes, this.heldPrefix);
    this.onProgress();
  }

  /** `SendDone`: the socket failed with a batch held back. */
  sendFailed(err: Error): void {
    this.holding = false;
    this.fail(new KmpError("KMP_ERR_WRITE", `write to ${this.url} failed: ${err.message}`));
  }

  /**
   * Sends the log bytes appended since the last call (called by the track after appends), up to
   * 256 KiB per gathered write, until the socket holds a batch back; its `sent` goes on from there.
   */
  pump(): void {
    if (this.state !== "connected" || this.holding || this.pumping) return;
    this.pumping = true;
    const before = this.sentOffset;
    try {
      const log = this.host.log;
      while (this.state === "connected" && !this.holding && this.queuedOffset < log.appended) {
        const start = this.queuedOffset;
        const end = Math.min(log.appended, start + 256 * 1024);
        this.send(log.read(start, end), end - start, false);
      }
    } catch (err) {
      this.pumping = false;
      this.fail(err as Error);
      return;
    }
    this.pumping = false;
    if (this.holding || this.sentOffset !== before) this.onProgress();
  }

  private onProgress(): void {
    if (this.state !== "connected") return;
    if (this.pending) this.armStall();
    else if (this.endOffset < 0 || this.sentOffset < this.endOffset) this.timeout.disarm();
    else this.armCloseWait();
    this.host.upstreamProgress(this);
    if (this.queuedOffset < this.host.log.appended) this.pump();
  }

  /** The receiver's acks, parsed as they are read (`AckSink`). */
  private readAcks(conn: Conn): void {
    // never aborted: the upstream ends the read by closing the socket (`disconnect`)
    conn.pipeInto(new AckSink(conn, this), new AbortController().signal).catch(() => {});
  }

  /** `AckListener`: whether `conn` is still this upstream's socket. */
  isCurrent(conn: Conn): boolean {
    return this.conn === conn;
  }

  /** `AckListener`: the receiver closed — the normal end once `eost` was sent, else a failure. */
  ackReadClosed(): void {
    if (this.endOffset >= 0 && this.sentOffset >= this.endOffset) this.ended();
    else this.fail(new KmpError("KMP_ERR_CLOSED", `upstream ${this.url} closed the connection`));
  }

  /** `AckListener`: a bad ack or a failed read. */
  ackReadFailed(err: unknown): void {
    this.fail(err instanceof KmpError ? err : new KmpError("KMP_ERR_READ", `read from ${this.url} failed: ${(err as Error)?.message ?? String(err)}`));
  }

  /** `AckListener`, `ackf` (kmp.md §8): walk the log to the acknowledged frame; over-acknowledgement is fatal. */
  onAck(ack: Ack): void {
    this.acksTotal.value++;
    if (this.resumeFrom !== "last_acked") {
      this.logger.debug(`ack of frame ${ack.frameId} ignored (resume_from ${this.resumeFrom})`);
      return;
    }
    const a = this.acked;
    // bounded by what was handed to the socket: its write may complete after the receiver
    // already read the bytes and acked them (Deno resolves writes later than Node)
    if (ack.frameId > a.frameId && !a.walk(this.host.log, ack.frameId, this.queuedOffset)) {
      this.unrecoverable = true;
      this.fail(new KmpError("KMP_ERR_OVER_ACK", `ack of frame ${ack.frameId} is beyond what was sent (acked ${a.frameId})`));
      return;
    }
    a.lastAck = { upstreamFrameId: ack.upstreamFrameId, offset: ack.offset };
    this.host.upstreamProgress(this);
  }

  /** Arms kmp_timeout for what is awaited (the message is built only if it expires). */
  private armTimeout(kind: "connect" | "stall" | "close"): void {
    if (this.host.timeoutMs <= 0) return;
    this.timeoutKind = kind;
    this.timeout.arm(this.host.timeoutMs);
  }

  private armStall(): void {
    this.armTimeout("stall");
  }

  /** After eost the receiver owes its close; past kmp_timeout we close (no error). */
  private armCloseWait(): void {
    this.armTimeout("close");
  }

  private onTimeout(): void {
    const ms = this.host.timeoutMs;
    if (this.timeoutKind === "close") {
      this.logger.warn(`receiver did not close within ${ms} ms after eost: closing it`);
      this.ended();
      return;
    }
    this.fail(this.timeoutKind === "connect"
      ? new KmpError("KMP_ERR_CONNECT_TIMEOUT", `connect to ${this.url} timed out after ${ms} ms`)
      : new KmpError("KMP_ERR_SEND_TIMEOUT", `send to ${this.url} stalled for ${ms} ms`));
  }

  /** Marks where `eost` ends: once sent, the receiver should close (bounded by kmp_timeout). */
  setEnd(offset: number): void {
    this.endOffset = offset;
    if (this.state === "connected" && !this.pending && this.sentOffset >= offset) this.armCloseWait();
  }

  /** The normal end: `eost` was sent and the receiver closed (or its close wait expired). */
  private ended(): void {
    this.closeSocket();
    this.state = "closed";
    this.host.upstreamEnded(this);
  }

  private fail(err: Error): void {
    if (this.state === "closed" && !this.conn) return;
    this.closeSocket();
    this.state = "idle";
    this.host.upstreamError(this, err);
  }

  /** Closes the socket and waits to be told to connect again (memory pressure: resume from newer data). */
  disconnect(): void {
    this.closeSocket();
    this.state = "idle";
  }

  /** Closes the socket (no FIN dance), keeping the acknowledged state for a reconnect. */
  private closeSocket(): void {
    this.timeout.cancel();
    this.abort?.abort();
    this.abort = null;
    const conn = this.conn;
    this.conn = null;
    this.holding = false;
    this.pendingPrefix = 0;
    if (conn) conn.close();
  }

  /** Final close: no more reconnects. */
  destroy(): void {
    this.closeSocket();
    this.state = "closed";
  }
}
