import type { ResumeFrom } from "../config/types.ts";
import { parseKmpUrl } from "./url.ts";
import { KmpError, type KmpErrorCode } from "./errors.ts";
import type { Logger } from "../log/logger.ts";
import type { Conn, Runtime } from "../runtime/types.ts";
import type { Metrics } from "../stats/metrics.ts";
import { PACKET_FRAME, PACKET_MEDIA_INFO, type ByteLog } from "./byte-log.ts";
import { AckReader, encodeConnect, type Ack } from "./packets.ts";

/** What an upstream needs from its track. */
export interface UpstreamHost {
  readonly log: ByteLog;
  readonly channelId: string;
  readonly trackId: string;
  readonly runtime: Runtime;
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
};

/**
 * One KMP receiver connection of a track (spec §5.4-5.8): writes cnct + connect data + the last
 * acknowledged media info + the retained log from the acknowledged position, then follows the
 * log as it grows; reads and validates acks. It writes at its own pace from the shared log, so
 * a slow receiver never stalls its siblings.
 */
export class KmpUpstream {
  readonly id: string;
  readonly required: boolean;
  readonly resumeFrom: ResumeFrom;
  url: string;
  connectData: Uint8Array;
  private readonly host: UpstreamHost;
  private readonly logger: Logger;

  // acknowledged state (survives reconnects)
  ackedFrameId: bigint;
  /** Absolute log offset / packet index of the first unacknowledged packet. */
  ackedOffset: number;
  ackedPacket: number;
  ackedMinf: Uint8Array | null = null;
  lastAck: { upstreamFrameId: bigint; offset: number } = { upstreamFrameId: 0n, offset: 0 };
  autoAckedFrames = 0;
  readonly initialFrameId: bigint;
  /** Set when an ack walk failed (over-ack): never republish. */
  unrecoverable = false;

  // current connection
  conn: Conn | null = null;
  connection = 0;
  state: "idle" | "connecting" | "connected" | "closed" = "idle";
  /** Log offset queued to / accepted by the current socket. */
  queuedOffset = 0;
  sentOffset = 0;
  private prefixBytes = 0;
  private socketBytes = 0;
  private writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private pumping = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** `eost` position: once sent past it, the receiver is expected to close. */
  endOffset = -1;
  private abort: AbortController | null = null;
  /** Bytes written to the socket ahead of the log (cnct, data, minf). */
  private pendingPrefix = 0;
  everConnected = false;
  // republish bookkeeping (owned by the track)
  lastRepublishMs = -Infinity;
  consecutiveRepublishes = 0;
  republishTimer: ReturnType<typeof setTimeout> | null = null;
  deferredRepublish = false;
  republishing: AbortController | null = null;

  constructor(host: UpstreamHost, o: {
    id: string;
    url: string;
    required: boolean;
    resumeFrom: ResumeFrom;
    connectData: Uint8Array;
    ackedFrameId: bigint;
    ackedOffset: number;
    ackedPacket: number;
    ackedMinf?: Uint8Array | null;
    logger: Logger;
  }) {
    this.host = host;
    this.id = o.id;
    this.url = o.url;
    this.required = o.required;
    this.resumeFrom = o.resumeFrom;
    this.connectData = o.connectData;
    this.ackedFrameId = o.ackedFrameId;
    this.initialFrameId = o.ackedFrameId;
    this.ackedOffset = o.ackedOffset;
    this.ackedPacket = o.ackedPacket;
    this.ackedMinf = o.ackedMinf ?? null;
    this.logger = o.logger.child({ upstream: o.id || "-" });
  }

  /** Data queued to the socket but not yet accepted, or log data not yet queued. */
  get pending(): boolean {
    return this.pendingPrefix > 0 || this.sentOffset < this.host.log.appended;
  }

  stats(trackInitialFrameId: bigint): UpstreamStats {
    const connected = this.state === "connected" && this.conn;
    const fmt = (a: { hostname: string; port: number }) => (a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`);
    return {
      id: this.id,
      remoteAddr: connected ? fmt(this.conn!.remoteAddr) : "",
      localAddr: connected ? fmt(this.conn!.localAddr) : "",
      connection: connected ? this.connection : 0,
      required: this.required,
      resumeFrom: this.resumeFrom,
      sentBytes: connected ? this.socketBytes : 0,
      position: connected ? this.sentOffset : 0,
      ackedFrames: Number(this.ackedFrameId - trackInitialFrameId),
      ackedBytes: this.ackedOffset,
      autoAckedFrames: this.autoAckedFrames,
    };
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
    this.armTimer("KMP_ERR_CONNECT_TIMEOUT", `connect to ${this.url} timed out after ${this.host.timeoutMs} ms`);
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
    this.writer = conn.writable.getWriter();
    this.socketBytes = 0;
    this.queuedOffset = this.sentOffset = this.ackedOffset;
    const cnct = encodeConnect({
      channelId: this.host.channelId,
      trackId: this.host.trackId,
      initialFrameId: this.ackedFrameId,
      initialUpstreamFrameId: this.lastAck.upstreamFrameId,
      initialOffset: this.lastAck.offset,
      data: this.connectData,
    });
    this.logger.info(`connected to ${this.url} (connection ${this.connection}), resuming at frame ${this.ackedFrameId}, offset ${this.ackedOffset}`);
    const prefix = this.ackedMinf ? [cnct, this.ackedMinf] : [cnct];
    this.prefixBytes = 0;
    for (const p of prefix) this.writeRaw(p, true);
    void this.readAcks(conn);
    this.pump();
  }

  private writeRaw(bytes: Uint8Array, prefix: boolean): void {
    const w = this.writer!;
    if (prefix) this.pendingPrefix += bytes.byteLength;
    w.write(bytes).then(() => {
      if (this.writer !== w) return;
      this.socketBytes += bytes.byteLength;
      if (prefix) {
        this.pendingPrefix -= bytes.byteLength;
        this.prefixBytes += bytes.byteLength;
      } else {
        this.sentOffset += bytes.byteLength;
        if (this.resumeFrom !== "last_acked") this.autoAckSent();
      }
      this.onProgress();
    }, (err) => {
      if (this.writer === w) this.fail(new KmpError("KMP_ERR_WRITE", `write to ${this.url} failed: ${(err as Error).message}`));
    });
  }

  /** Queues newly appended log bytes (called by the track after every append). */
  pump(): void {
    if (this.state !== "connected" || this.pumping) return;
    this.pumping = true;
    void (async () => {
      try {
        const log = this.host.log;
        while (this.state === "connected" && this.queuedOffset < log.appended) {
          const w = this.writer!;
          await w.ready;
          if (this.writer !== w || this.state !== "connected") break;
          const end = Math.min(log.appended, this.queuedOffset + 256 * 1024);
          for (const view of log.read(this.queuedOffset, end)) {
            this.queuedOffset += view.byteLength;
            this.writeRaw(view, false);
          }
          this.armTimer("KMP_ERR_SEND_TIMEOUT", `send to ${this.url} stalled for ${this.host.timeoutMs} ms`);
        }
      } catch (err) {
        this.fail(err as Error);
      } finally {
        this.pumping = false;
      }
    })();
  }

  private onProgress(): void {
    if (this.state !== "connected") return;
    if (this.pending) this.armTimer("KMP_ERR_SEND_TIMEOUT", `send to ${this.url} stalled for ${this.host.timeoutMs} ms`);
    else if (this.endOffset < 0 || this.sentOffset < this.endOffset) this.clearTimer();
    else this.armTimer(null, `receiver did not close within ${this.host.timeoutMs} ms after eost`);
    this.host.upstreamProgress(this);
    if (this.queuedOffset < this.host.log.appended) this.pump();
  }

  private async readAcks(conn: Conn): Promise<void> {
    const reader = conn.readable.getReader();
    const acks = new AckReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (this.conn !== conn) return;
        if (done) {
          if (this.endOffset >= 0 && this.sentOffset >= this.endOffset) {
            this.closeSocket();
            this.state = "closed";
            this.host.upstreamEnded(this);
          } else this.fail(new KmpError("KMP_ERR_CLOSED", `upstream ${this.url} closed the connection`));
          return;
        }
        for (const ack of acks.push(value)) this.onAck(ack);
      }
    } catch (err) {
      if (this.conn === conn) this.fail(err instanceof KmpError ? err : new KmpError("KMP_ERR_READ", `read from ${this.url} failed: ${(err as Error).message}`));
    } finally {
      try {
        reader.releaseLock();
      } catch { /* already released */ }
    }
  }

  /** `ackf` (kmp.md §8): walk the log to the acknowledged frame; over-acknowledgement is fatal. */
  onAck(ack: Ack): void {
    this.host.metrics.inc("rtmp_kmp_kmp_acks_total");
    if (this.resumeFrom !== "last_acked") {
      this.logger.debug(`ack of frame ${ack.frameId} ignored (resume_from ${this.resumeFrom})`);
      return;
    }
    if (ack.frameId > this.ackedFrameId) {
      // bounded by what was handed to the socket: its write may complete after the receiver
      // already read the bytes and acked them (Deno resolves writes later than Node)
      const r = this.walk(this.ackedFrameId, ack.frameId, this.queuedOffset);
      if (!r) {
        this.unrecoverable = true;
        this.fail(new KmpError("KMP_ERR_OVER_ACK", `ack of frame ${ack.frameId} is beyond what was sent (acked ${this.ackedFrameId})`));
        return;
      }
    }
    this.lastAck = { upstreamFrameId: ack.upstreamFrameId, offset: ack.offset };
    this.host.upstreamProgress(this);
  }

  /**
   * Advances the acknowledged position packet by packet until `target` frame id, never past
   * `limit`. Returns false when the limit is hit first.
   */
  private walk(from: bigint, target: bigint, limit: number): boolean {
    const log = this.host.log;
    let id = from;
    let p = this.ackedPacket;
    let off = this.ackedOffset;
    let minf = this.ackedMinf;
    while (id < target) {
      if (p >= log.packetCount) return false;
      const pOff = log.packetOff(p);
      const len = log.packetLen(p);
      if (pOff + len > limit) return false;
      const kind = log.packetKind(p);
      if (kind === PACKET_FRAME) id++;
      else if (kind === PACKET_MEDIA_INFO) minf = log.copy(pOff, pOff + len);
      p++;
      off = pOff + len;
    }
    this.ackedFrameId = id;
    this.ackedPacket = p;
    this.ackedOffset = off;
    this.ackedMinf = minf;
    return true;
  }

  /**
   * Acknowledges every whole packet below `limit` without a receiver ack (resume modes,
   * memory pressure). Returns the number of frames acknowledged.
   */
  autoAck(limit: number): number {
    const log = this.host.log;
    let frames = 0;
    let p = this.ackedPacket;
    while (p < log.packetCount) {
      const pOff = log.packetOff(p);
      const len = log.packetLen(p);
      if (pOff + len > limit) break;
      const kind = log.packetKind(p);
      if (kind === PACKET_FRAME) frames++;
      else if (kind === PACKET_MEDIA_INFO) this.ackedMinf = log.copy(pOff, pOff + len);
      p++;
      this.ackedOffset = pOff + len;
    }
    this.ackedPacket = p;
    this.ackedFrameId += BigInt(frames);
    this.autoAckedFrames += frames;
    return frames;
  }

  private autoAckSent(): void {
    this.autoAck(this.sentOffset);
  }

  /**
   * kmp_timeout (connect, send stall, receiver close after eost). Re-arming on every write only
   * moves a deadline; one timer runs and re-schedules itself for the remaining time. A null
   * code closes the socket on expiry (the receiver owed its close after eost) instead of failing.
   */
  private armTimer(code: KmpErrorCode | null, message: string): void {
    if (this.host.timeoutMs <= 0) return;
    this.deadline = performance.now() + this.host.timeoutMs;
    this.timerMessage = message;
    this.timerCode = code;
    if (!this.timer) this.timer = setTimeout(this.onTimer, this.host.timeoutMs);
  }

  private deadline = 0;
  private timerMessage = "";
  private timerCode: KmpErrorCode | null = null;

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.deadline === 0) return;
    const left = this.deadline - performance.now();
    if (left > 1) {
      this.timer = setTimeout(this.onTimer, left);
      return;
    }
    this.deadline = 0;
    if (this.timerCode === null) {
      this.logger.warn(`${this.timerMessage}: closing it`);
      this.closeSocket();
      this.state = "closed";
      this.host.upstreamEnded(this);
      return;
    }
    this.fail(new KmpError(this.timerCode, this.timerMessage));
  };

  /** Nothing pending: the deadline is dropped (the timer, if running, then does nothing). */
  private clearTimer(): void {
    this.deadline = 0;
  }

  private cancelTimer(): void {
    this.deadline = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Marks where `eost` ends: once sent, the receiver should close (bounded by kmp_timeout). */
  setEnd(offset: number): void {
    this.endOffset = offset;
    if (this.state === "connected" && !this.pending && this.sentOffset >= offset) {
      this.armTimer(null, `receiver did not close within ${this.host.timeoutMs} ms after eost`);
    }
  }

  private fail(err: Error): void {
    if (this.state === "closed" && !this.conn) return;
    this.closeSocket();
    this.state = "idle";
    this.host.upstreamError(this, err);
  }

  /** Closes the socket (no FIN dance), keeping the acknowledged state for a reconnect. */
  closeSocket(): void {
    this.cancelTimer();
    this.abort?.abort();
    this.abort = null;
    const conn = this.conn;
    this.conn = null;
    this.writer = null;
    this.pendingPrefix = 0;
    if (conn) conn.close();
  }

  /** Final close: no more reconnects. */
  destroy(): void {
    this.closeSocket();
    if (this.republishTimer) clearTimeout(this.republishTimer);
    this.republishTimer = null;
    this.republishing?.abort();
    this.republishing = null;
    this.state = "closed";
  }
}
