import type { ApplicationConfig, ServerConfig } from "../config/types.ts";
import { connectBody, rtmpInfoJson } from "../control/events.ts";
import { connectCallback } from "../control/connect.ts";
import { createTrackControl } from "../control/track-control.ts";
import type { ControlClient } from "../control/client.ts";
import type { UnpublishReason, UnpublishRequest } from "../control/types.ts";
import { CodedError } from "../errors.ts";
import { SessionError, type CloseCode } from "./errors.ts";
import { codecName, kmpCodecId, TrackConverter } from "../flv/track-converter.ts";
import { parseAudioTags, parseVideoTags, type MediaTag } from "../flv/tag.ts";
import { KmpTrack, wallClock } from "../kmp/track.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../stats/metrics.ts";
import type { BufferPool } from "../kmp/buffer-pool.ts";
import { isPeerGone } from "../runtime/errors.ts";
import { parseProxyHeader } from "../net/proxy-header.ts";
import { concat } from "../bytes/bytes.ts";
import type { NetAddr } from "../runtime/types.ts";
import type { Conn, Runtime } from "../runtime/types.ts";
import { RateMeter } from "../stats/rate-meter.ts";
import type { AmfValue } from "../rtmp/amf0.ts";
import type { RtmpMessage } from "../rtmp/chunk-decoder.ts";
import { decodeCommand, normalizeApp, parseConnect, parsePublish, splitNameArgs } from "../rtmp/commands.ts";
import { RtmpDemuxer } from "../rtmp/demuxer.ts";
import { HandshakeServer } from "../rtmp/handshake.ts";
import * as out from "../rtmp/messages.ts";
import { RtmpStream, trackKey, type MediaKind, type StreamTrack } from "./stream.ts";

/** What the session needs from the server that owns it. */
export interface SessionHost {
  readonly runtime: Runtime;
  readonly log: Logger;
  readonly control: ControlClient;
  /** Id sources and the metrics registry of the server (unique across its sessions). */
  nextConnectionId(): number;
  nextTrackId(): string;
  nextUpstreamConnectionId(): number;
  readonly metrics: Metrics;
  readonly bufferPool: BufferPool;
  nowMs(): number;
  /** The session sent `connect` for an application: list it there (API). */
  attach(session: RtmpSession): void;
  detach(session: RtmpSession): void;
  /** Live-layer name registry for `sandbox off` (spec §1.9): false when the name is taken. */
  claimName(app: ApplicationConfig, name: string, session: RtmpSession): boolean;
  releaseName(app: ApplicationConfig, name: string, session: RtmpSession): void;
  /** A KMP track was created / destroyed (kmp-out API registry). */
  trackOpened(track: KmpTrack, session: RtmpSession, stream: RtmpStream, streamTrack: StreamTrack): void;
  trackClosed(track: KmpTrack): void;
  /** A track's publish started (its unpublish is owed), or that unpublish was sent (null). */
  owedUnpublish?(key: string, unpublish: UnpublishRequest | null): void;
  countBytesIn(n: number): void;
  countBytesOut(n: number): void;
  countFrameIn(video: boolean): void;
  /** Access log line at session end. */
  sessionEnded(session: RtmpSession): void;
}

type SessionState = "handshake" | "connected" | "closing" | "closed";

/** Reasons a session ends, for the log and the access log. */
/** `peer`: the client ended the connection itself (EOF or reset): logged at info, not as a fault. */
export type CloseCause = { reason: UnpublishReason; message: string; code?: CloseCode; peer?: boolean };

/**
 * One RTMP client connection: handshake, chunk demux, commands, streams and their KMP tracks.
 * Spec §1 (transport and commands), §2-4 via the FLV converter, §9 (teardown).
 */
export class RtmpSession {
  readonly connection: number;
  readonly conn: Conn;
  readonly server: ServerConfig;
  readonly acceptedMs: number;
  /** The client: the socket's peer, or the original client a PROXY protocol header named. */
  private peer: NetAddr;
  app: ApplicationConfig | null = null;
  appName = "";
  flashver = "";
  swfUrl = "";
  tcUrl = "";
  pageUrl = "";
  objectEncoding = 0;
  connected = false;
  state: SessionState = "handshake";
  /** First command seen (`publish`, `play`, …) for the access log. */
  command = "";
  lastPublishName = "";
  lastPublishArgs = "";
  readonly bytesIn: RateMeter;
  bytesOut = 0;
  readonly streams = new Map<number, RtmpStream>();
  closeCause: CloseCause | null = null;

  private readonly host: SessionHost;
  private log: Logger;
  /** The listener is marked `proxy_protocol`: a PROXY v1/v2 header precedes the handshake. */
  private readonly proxyProtocol: boolean;
  private writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private outChunkSize = 128;
  private demuxer: RtmpDemuxer | null = null;
  private ackWindow = 0;
  private lastAckBytes = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly abort = new AbortController();
  private kmpError = false;
  private connectPending = false;
  /** Set while the connect callback is pending: later messages wait for it (issue: no bypass). */
  private connectGate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private inAv = false;
  private writeChain: Promise<void> = Promise.resolve();

  constructor(host: SessionHost, conn: Conn, server: ServerConfig, opts: { proxyProtocol?: boolean } = {}) {
    this.host = host;
    this.conn = conn;
    this.server = server;
    this.proxyProtocol = opts.proxyProtocol ?? false;
    this.connection = host.nextConnectionId();
    this.acceptedMs = host.nowMs();
    this.bytesIn = new RateMeter(this.acceptedMs);
    this.peer = conn.remoteAddr;
    this.log = host.log.child({ session: this.connection, client: this.remoteAddr });
  }

  /** `ip:port` (`[v6]:port`) of the client (the `addr` of the connect body, the API, the logs). */
  get remoteAddr(): string {
    const a = this.peer;
    return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
  }

  /** Client IP without port (the `addr` of publish/unpublish bodies, spec §6.3). */
  get remoteIp(): string {
    return this.peer.hostname;
  }

  get type3ExtTs(): "on" | "off" | "unknown" {
    return this.demuxer ? this.demuxer.decoder.type3ExtTs : "unknown";
  }

  /** Runs the session to its end; never throws. */
  async run(): Promise<void> {
    if (!this.proxyProtocol) this.log.debug("accepted");
    this.writer = this.conn.writable.getWriter();
    this.armIdle();
    if (this.server.timeout > 0) {
      this.handshakeTimer = setTimeout(() => {
        this.fail(new SessionError("RTMP_ERR_HANDSHAKE_TIMEOUT", `handshake not completed within ${this.server.timeout} ms`));
      }, this.server.timeout);
    }
    const reader = this.conn.readable.getReader();
    let first: Uint8Array | null;
    try {
      const start = this.proxyProtocol ? await this.proxyHeader(reader) : new Uint8Array(0);
      first = start === null ? null : await this.handshake(reader, start);
      if (first !== null) {
        clearTimeout(this.handshakeTimer!);
        this.handshakeTimer = null;
        this.state = "connected";
        // An idle client costs no pipeline: it is built when the first chunk bytes arrive.
        if (first.byteLength === 0) first = await this.firstBytes(reader);
      }
    } catch (err) {
      this.fail(err);
      first = null;
    } finally {
      reader.releaseLock();
    }
    if (first === null) {
      if (this.state === "connected") this.shutdown({ reason: "rtmp_disconnect", message: "client closed the connection", code: "RTMP_CLIENT_CLOSED", peer: true });
      return;
    }
    try {
      await this.pump(first);
      if (this.state === "connected") this.shutdown({ reason: "rtmp_disconnect", message: "client closed the connection", code: "RTMP_CLIENT_CLOSED", peer: true });
    } catch (err) {
      this.fail(err);
    }
  }

  private async firstBytes(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array | null> {
    const { value, done } = await reader.read();
    if (done || this.state !== "connected") return null;
    return value;
  }

  /**
   * The PROXY protocol v1/v2 header of a `proxy_protocol` listener, read before the handshake
   * within the handshake timeout and its size limit. A missing or malformed one closes the
   * connection with no byte sent and one log line. Returns the bytes after it.
   */
  private async proxyHeader(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array | null> {
    let buf: Uint8Array = new Uint8Array(0);
    for (;;) {
      if (this.state !== "handshake") return null;
      const { value, done } = await reader.read();
      if (done) {
        this.shutdown({ reason: "rtmp_disconnect", message: "client closed the connection before its PROXY header" });
        return null;
      }
      buf = buf.byteLength ? concat([buf, value]) : value;
      const h = parseProxyHeader(buf); // throws ProxyHeaderError (a coded error) when it cannot be one
      if (!h) continue;
      const via = this.remoteAddr;
      if (h.source) {
        this.peer = h.source;
        this.log = this.host.log.child({ session: this.connection, client: this.remoteAddr });
      }
      this.log.debug(`accepted; PROXY v${h.version}: client ${this.remoteAddr} via ${via}`);
      this.countIn(h.length); // what follows is counted by the handshake
      return buf.subarray(h.length);
    }
  }

  private async handshake(reader: ReadableStreamDefaultReader<Uint8Array>, start: Uint8Array): Promise<Uint8Array | null> {
    const hs = new HandshakeServer();
    let pending: Uint8Array | null = start.byteLength ? start : null;
    for (;;) {
      if (this.state !== "handshake") return null;
      let value: Uint8Array;
      if (pending) {
        value = pending;
        pending = null;
      } else {
        const r = await reader.read();
        if (r.done) {
          this.shutdown({ reason: "rtmp_disconnect", message: "client closed the connection during the handshake" });
          return null;
        }
        value = r.value;
      }
      const r = hs.push(value);
      // bytes past the handshake are counted when they pass the demuxer
      this.countIn(value.byteLength - (r.rest?.byteLength ?? 0));
      for (const b of r.send) this.send(b);
      if (r.done) return r.rest ?? new Uint8Array(0);
    }
  }

  /**
   * The frame path (design card): `conn.readable` → RtmpDemuxer (one batch of messages per socket
   * read) → synchronous dispatch (commands, codec state, conversion) → one write per track per
   * batch into its KmpMuxer → the track's log. The socket is read only while every track of the
   * session has room: a congested track's sink waits, the queues above it fill (all counted in
   * bytes) and the next batch is not taken, so the pipe stops reading the socket.
   */
  private async pump(first: Uint8Array): Promise<void> {
    const demuxer = new RtmpDemuxer({
      maxMessage: this.server.max_message,
      maxStreams: this.server.max_streams,
      type3ExtTs: this.server.type3_ext_ts,
      onChunk: (n) => this.countIn(n),
    });
    this.demuxer = demuxer;
    const w = demuxer.writable.getWriter();
    void w.write(first).catch(() => {});
    w.releaseLock();
    void this.conn.readable.pipeTo(demuxer.writable, { signal: this.abort.signal }).catch(() => {});
    const batches = demuxer.readable.getReader();
    try {
      for (;;) {
        await this.tracksReady();
        if (this.state !== "connected") break;
        const { value, done } = await batches.read();
        if (done || this.state !== "connected") break;
        this.createdAt = -1;
        try {
          for (const msg of value.messages) {
            // Nothing after `connect` is dispatched before the controller accepted it; while it
            // waits the queues fill and the socket stops being read (bounded in bytes; the
            // callback is bounded in time by kmp_ctrl_timeout × retries).
            if (this.connectGate) {
              this.flushTracks();
              await this.connectGate;
            }
            if (this.state !== "connected") break;
            this.onMessage(msg);
          }
        } finally {
          this.flushTracks();
        }
        this.maybeAck();
        if (value.error !== undefined) throw value.error;
      }
    } finally {
      batches.releaseLock();
    }
  }

  /** Waits while a track of this session has no room (backpressure), or until the session ends. */
  private async tracksReady(): Promise<void> {
    for (;;) {
      let full: KmpTrack | null = null;
      for (const s of this.streams.values()) {
        for (const st of s.tracks.values()) {
          if (st.track && st.track.desiredSize <= 0) {
            full = st.track;
            break;
          }
        }
        if (full) break;
      }
      if (!full || this.state !== "connected") return;
      await Promise.race([full.ready, this.ended]);
    }
  }

  /** Hands each track the frames this batch produced for it (one write per track per read). */
  private flushTracks(): void {
    for (const s of this.streams.values()) {
      for (const st of s.tracks.values()) {
        if (st.track && st.pending.length) {
          st.track.push(st.pending);
          st.pending = [];
        }
      }
    }
  }

  /** `created` of the frames of one batch: one clock read per socket read (like nginx's cached time). */
  private createdAt = -1;
  private readonly createdNow = (): number => {
    if (this.createdAt < 0) this.createdAt = wallClock(this.app?.kmp_timescale ?? 90_000);
    return this.createdAt;
  };

  private endedPromise: Promise<void> | null = null;
  private get ended(): Promise<void> {
    this.endedPromise ??= new Promise((resolve) => {
      if (this.abort.signal.aborted) resolve();
      else this.abort.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    return this.endedPromise;
  }

  private countIn(n: number): void {
    this.bytesIn.add(n, this.host.nowMs());
    this.host.countBytesIn(n);
  }

  // ---- outgoing ----------------------------------------------------------------------------

  private send(bytes: Uint8Array): void {
    const w = this.writer;
    if (!w || this.state === "closed") return;
    this.bytesOut += bytes.byteLength;
    this.host.countBytesOut(bytes.byteLength);
    this.writeChain = w.write(bytes).catch(() => {
      // write failures surface as a read error/EOF too; the read loop ends the session
    });
  }

  private maybeAck(): void {
    if (this.ackWindow <= 0 || !this.demuxer) return;
    const received = this.demuxer.decoder.bytesReceived;
    if (received - this.lastAckBytes >= this.ackWindow) {
      this.lastAckBytes = received;
      this.send(out.ack(received >>> 0));
    }
  }

  // ---- incoming ----------------------------------------------------------------------------

  private onMessage(msg: RtmpMessage): void {
    if (!this.connected && msg.type >= 8 && !this.isConnectCommand(msg)) {
      throw new SessionError("RTMP_ERR_NOT_CONNECTED", `message type ${msg.type} before connect was accepted`);
    }
    switch (msg.type) {
      case 3: // acknowledgement
      case 6: // set peer bandwidth
      case 1: // set chunk size (applied by the decoder)
      case 2: // abort
        return;
      case 5:
        if (msg.payload.byteLength >= 4) {
          const p = msg.payload;
          this.ackWindow = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
        }
        return;
      case 4:
        this.onUserControl(msg.payload);
        return;
      case 8:
      case 9:
        this.onAudioVideo(msg);
        return;
      case 15:
      case 18:
        this.onData(msg);
        return;
      case 17:
      case 20:
        this.onCommand(msg);
        return;
      default:
        return;
    }
  }

  /** A `connect` command message (the only command allowed before connect is accepted). */
  private isConnectCommand(msg: RtmpMessage): boolean {
    if (msg.type !== 20 && msg.type !== 17) return false;
    const p = msg.payload;
    const o = msg.type === 17 ? 1 : 0; // AMF3 command: one format byte first
    // AMF0 string marker, u16 length 7, "connect"
    if (p.byteLength < o + 10 || p[o] !== 2 || p[o + 1] !== 0 || p[o + 2] !== 7) return false;
    return String.fromCharCode(p[o + 3], p[o + 4], p[o + 5], p[o + 6], p[o + 7], p[o + 8], p[o + 9]) === "connect";
  }

  private onUserControl(p: Uint8Array): void {
    if (p.byteLength < 6) return;
    const event = (p[0] << 8) | p[1];
    const value = ((p[2] << 24) | (p[3] << 16) | (p[4] << 8) | p[5]) >>> 0;
    if (event === 6) this.send(out.pingResponse(value));
  }

  private streamOf(msid: number): RtmpStream | null {
    return this.streams.get(msid) ?? null;
  }

  private onData(msg: RtmpMessage): void {
    let cmd;
    try {
      cmd = decodeCommand(msg);
    } catch (err) {
      this.log.warn(`metadata ignored: ${(err as Error).message}`);
      return;
    }
    const name = cmd.name;
    if (name !== "@setDataFrame" && name !== "onMetaData") return;
    const stream = this.streamOf(msg.msid);
    if (!stream) throw new SessionError("RTMP_ERR_NO_STREAM", `metadata on message stream ${msg.msid} that was not created`);
    stream.onMetadata(cmd.all);
  }

  private onCommand(msg: RtmpMessage): void {
    const cmd = decodeCommand(msg);
    const name = cmd.name.toLowerCase();
    if (!this.command && name !== "connect" && name !== "createstream" && name !== "releasestream" && name !== "fcpublish") {
      this.command = cmd.name;
    }
    switch (name) {
      case "connect":
        this.onConnect(cmd.transId, cmd.args);
        return;
      case "createstream":
        this.onCreateStream(cmd.transId);
        return;
      case "fcpublish": {
        const streamName = typeof cmd.args[1] === "string" ? cmd.args[1] : "";
        this.send(out.onFCPublish(cmd.transId, streamName, this.outChunkSize));
        return;
      }
      case "publish":
        this.onPublish(msg.msid, cmd.args);
        return;
      case "deletestream": {
        const arg = cmd.args[1];
        // GStreamer's rtmp2sink names the stream (an AMF string) instead of giving its id
        const id = typeof arg === "number" ? arg : typeof arg === "string" ? this.streamIdByName(arg) : 0;
        this.closeStream(id, true);
        return;
      }
      case "closestream":
        this.closeStream(msg.msid, false);
        return;
      case "play":
      case "play2":
        throw new SessionError("RTMP_ERR_PLAY", `'${cmd.name}' refused: this server only accepts publishers`);
      case "@setdataframe":
      case "onmetadata":
        this.onData(msg);
        return;
      default:
        return; // releaseStream, FCUnpublish, getStreamLength, _checkbw, unknown: no reply
    }
  }

  private onConnect(transId: number, args: AmfValue[]): void {
    if (this.connectPending) throw new SessionError("RTMP_ERR_DUPLICATE_CONNECT", "second connect while the first is pending");
    if (this.connected) throw new SessionError("RTMP_ERR_DUPLICATE_CONNECT", "duplicate connect");
    const c = parseConnect(args);
    const appName = normalizeApp(c.app);
    const app = this.server.applications.find((a) => a.name === appName);
    if (!app) throw new SessionError("RTMP_ERR_UNKNOWN_APP", `application '${appName}' not found`);
    this.app = app;
    this.appName = appName;
    this.flashver = c.flashVer;
    this.swfUrl = c.swfUrl;
    this.tcUrl = c.tcUrl;
    this.pageUrl = c.pageUrl;
    this.objectEncoding = c.objectEncoding;
    this.host.attach(this);
    if (!app.kmp_ctrl_connect_url) {
      this.acceptConnect(transId);
      return;
    }
    this.connectPending = true;
    this.connectGate = new Promise((resolve) => (this.openGate = resolve));
    const body = connectBody({
      app: appName,
      flashver: this.flashver,
      swfUrl: this.swfUrl,
      tcUrl: this.tcUrl,
      pageUrl: this.pageUrl,
      addr: this.remoteAddr,
      connection: this.connection,
    });
    connectCallback({
      url: app.kmp_ctrl_connect_url,
      config: app,
      body,
      signal: this.abort.signal,
      client: this.host.control,
      log: this.log,
    }).then((res) => {
      this.connectSettled();
      if (this.state !== "connected") return;
      if (res.ok) this.acceptConnect(transId);
      else this.rejectConnect(transId, res.description);
    }, (err) => {
      this.connectSettled();
      if (this.state === "connected") this.fail(err);
    });
  }

  private connectSettled(): void {
    this.connectPending = false;
    this.connectGate = null;
    const open = this.openGate;
    this.openGate = null;
    // the waiting pump resumes after this turn, once accept/reject has run
    if (open) queueMicrotask(open);
  }

  private acceptConnect(transId: number): void {
    if (this.connected) throw new SessionError("RTMP_ERR_DUPLICATE_CONNECT", "duplicate connect");
    this.connected = true;
    this.send(out.windowAckSize(this.server.ack_window));
    this.send(out.setPeerBandwidth(this.server.ack_window, 2));
    this.send(out.setChunkSize(this.server.chunk_size));
    this.outChunkSize = this.server.chunk_size;
    this.send(out.connectResult(transId, this.objectEncoding, this.outChunkSize));
    this.log.info(`connect app='${this.appName}' tc_url='${this.tcUrl}' flashver='${this.flashver}'`);
  }

  private rejectConnect(transId: number, description: string): void {
    this.log.info(`connect rejected by the controller: '${description}'`);
    this.outChunkSize = this.server.chunk_size;
    for (const b of out.connectRejected(transId, description, this.server.chunk_size)) this.send(b);
    // The reference leaves the socket open (idle timer); we stop reading now and close once the
    // rejection is written (shutdown waits for the write chain).
    this.shutdown({ reason: "rtmp_disconnect", message: "connect rejected" });
  }

  /** The publishing stream of that name (with or without its `?args`), else the only publishing one. */
  private streamIdByName(name: string): number {
    const bare = splitNameArgs(name).name;
    const publishing = [...this.streams.values()].filter((s) => s.publishing);
    const named = publishing.find((s) => s.name === bare);
    if (named) return named.id;
    return publishing.length === 1 ? publishing[0].id : 0;
  }

  private onCreateStream(transId: number): void {
    let id = 1;
    while (this.streams.has(id)) id++;
    if (id >= this.server.max_streams) {
      throw new SessionError("RTMP_ERR_TOO_MANY_STREAMS", `no free message stream id below max_streams ${this.server.max_streams}`);
    }
    const stream = new RtmpStream(id, this.host.nowMs());
    this.streams.set(id, stream);
    this.send(out.createStreamResult(transId, id, this.outChunkSize));
  }

  private onPublish(msid: number, args: AmfValue[]): void {
    const stream = this.streamOf(msid);
    if (!stream) throw new SessionError("RTMP_ERR_NO_STREAM", `publish on message stream ${msid} that was not created`);
    const app = this.app;
    if (!app) throw new SessionError("RTMP_ERR_NOT_CONNECTED", "publish before connect");
    const p = parsePublish(args);
    const { name, args: qs } = splitNameArgs(p.name);
    this.lastPublishName = name;
    this.lastPublishArgs = qs;
    stream.app = app;
    stream.publishing = true;
    stream.name = name;
    if (app.kmp_ctrl_publish_url) stream.publish = { name, args: qs, type: p.type };
    this.log.info(`publish name='${name}' args='${qs}' type='${p.type}' stream=${msid}`);
    if (app.live) {
      const liveName = app.sandbox ? `${this.connection}/${name}` : name;
      if (!this.host.claimName(app, liveName, this)) {
        this.send(out.onStatus(msid, "error", "NetStream.Publish.BadName", "Already publishing", this.outChunkSize));
      } else {
        stream.live = true;
        stream.liveName = liveName;
        this.send(out.onStatus(msid, "status", "NetStream.Publish.Start", "Start publishing", this.outChunkSize));
      }
    }
    for (const rule of app.access) {
      if (!rule.publish) continue;
      if (rule.addr === "all" || rule.addr === this.remoteIp) {
        if (!rule.allow) throw new SessionError("RTMP_ERR_ACCESS", `publish denied for ${this.remoteIp}`);
        break;
      }
    }
  }

  // ---- audio / video -----------------------------------------------------------------------

  private onAudioVideo(msg: RtmpMessage): void {
    const stream = this.streamOf(msg.msid);
    if (!stream) throw new SessionError("RTMP_ERR_NO_STREAM", `media on message stream ${msg.msid} that was not created`);
    const now = this.host.nowMs();
    const n = msg.payload.byteLength;
    stream.bytesIn.add(n, now);
    const video = msg.type === 9;
    const media: MediaKind = video ? "video" : "audio";
    (video ? stream.bytesInVideo : stream.bytesInAudio).add(n, now);
    this.host.countFrameIn(video);
    const publishing = !!(stream.publish && stream.app);
    // every tag is parsed once; a ManyTracks multitrack message carries several
    let tags: MediaTag[];
    try {
      tags = video ? parseVideoTags(msg.payload) : parseAudioTags(msg.payload);
    } catch (err) {
      if (!publishing) return; // the codec layer ignores what it cannot read
      const st = stream.tracks.get(media);
      st?.track?.setReason("rtmp_bad_data");
      this.kmpError = true;
      throw err;
    }
    if (publishing) this.lastMediaMs = now;
    for (const tag of tags) {
      // codec layer first (spec §0: codec parser → live → KMP), each multitrack track its own state
      const codec = stream.codecFor(tag.trackId);
      if (video) codec.onVideoTag(tag);
      else codec.onAudioTag(tag);
      if (!publishing) continue;
      let st = stream.tracks.get(trackKey(media, tag.trackId));
      if (!st) st = this.createTrack(stream, media, tag);
      const track = st.track;
      if (!track || track.state === "inactive" || track.state === "closed") continue;
      this.inAv = true;
      try {
        const r = st.converter.convertTag(tag, msg.timestamp, this.createdNow);
        if (r.kind === "frame") st.pending.push({ mediaInfo: r.mediaInfo, frame: r.frame });
      } catch (err) {
        track.setReason("rtmp_bad_data");
        this.kmpError = true;
        throw err;
      } finally {
        this.inAv = false;
      }
    }
  }

  /**
   * The first tag of a (media, multitrack id) creates its track. A codec KMP has no id for
   * (AV1, VP9, FLAC, …) makes a track that stops alone: one log line, no publish, listed in the
   * API as unsupported; every other track of the session goes on.
   */
  private createTrack(stream: RtmpStream, media: MediaKind, tag: MediaTag): StreamTrack {
    const app = stream.app!;
    const pub = stream.publish!;
    const index = tag.trackId;
    const key = trackKey(media, index);
    const codec = stream.codecFor(index);
    const converter = new TrackConverter({
      mediaType: media,
      timescale: app.kmp_timescale,
      audioSyncMarginMs: app.kmp_audio_sync_margin,
      state: codec,
    });
    const log = this.log.child({ stream: stream.id, track: key });
    if (kmpCodecId(media, tag) === null) {
      log.warn(`${media} track ${index}: codec '${codecName(tag)}' cannot be forwarded (KMP has no codec id for it); this track is not published, the others go on`);
      const st: StreamTrack = { media, index, converter, track: null, unsupported: codecName(tag), pending: [] };
      stream.tracks.set(key, st);
      return st;
    }
    const identity = {
      inputId: `${this.tcUrl}/${pub.name}/${key}`,
      multitrackId: index,
      rtmpInfoJson: rtmpInfoJson({
        app: this.appName,
        flashver: this.flashver,
        swfUrl: this.swfUrl,
        tcUrl: this.tcUrl,
        pageUrl: this.pageUrl,
        addr: this.remoteIp,
        connection: this.connection,
        name: pub.name,
        type: pub.type,
        args: pub.args,
      }),
    };
    const host = this.host;
    const owedKey = `${this.connection}/${identity.inputId}`;
    const owed = host.owedUnpublish ? (u: UnpublishRequest | null) => host.owedUnpublish!(owedKey, u) : undefined;
    const control = createTrackControl({ config: app, identity, client: host.control, log, owed });
    const track: KmpTrack = new KmpTrack({
      id: this.host.nextTrackId(),
      metrics: this.host.metrics,
      bufferPool: this.host.bufferPool,
      nextConnectionId: () => this.host.nextUpstreamConnectionId(),
      mediaType: media,
      config: app,
      runtime: this.host.runtime,
      control,
      log,
      identity,
      onError: (reason: UnpublishReason) => {
        log.warn(`track failed (${reason}); closing the RTMP connection`);
        queueMicrotask(() =>
          this.shutdown({
            reason: this.inAv ? "rtmp_kmp_error" : "rtmp_disconnect",
            message: `KMP track ${key} of stream ${stream.id} failed: ${reason}`,
            code: "RTMP_ERR_TRACK_FAILED",
          })
        );
      },
      onClosed: () => this.host.trackClosed(track),
    });
    const st: StreamTrack = { media, index, converter, track, unsupported: null, pending: [] };
    stream.tracks.set(key, st);
    this.host.trackOpened(track, this, stream, st);
    return st;
  }

  // ---- teardown ----------------------------------------------------------------------------

  /** deleteStream / closeStream (spec §9): detach the tracks with `rtmp_close`. */
  private closeStream(id: number, free: boolean): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.endStream(stream, "rtmp_close");
    if (stream.publishing) {
      this.send(out.onStatus(id, "status", "NetStream.Unpublish.Success", "Stop publishing", this.outChunkSize));
      stream.publishing = false;
    }
    if (free) this.streams.delete(id);
  }

  private endStream(stream: RtmpStream, reason: UnpublishReason): void {
    stream.publish = null;
    const ordered = stream.orderedTracks();
    stream.tracks.clear();
    for (const st of ordered) {
      if (!st.track) continue;
      if (st.pending.length) st.track.push(st.pending);
      st.pending = [];
      st.track.end(reason); // after what was pushed: eost, then the teardown
    }
    if (stream.live && stream.app) {
      this.host.releaseName(stream.app, stream.liveName, this);
      stream.live = false;
    }
  }

  /** Time of the last audio/video message of a publishing stream (kmp_idle_timeout). */
  private lastMediaMs = 0;

  /**
   * kmp_idle_timeout as a deadline: media only moves `lastMediaMs`; one timer re-schedules
   * itself for the time left, instead of a timer re-armed per message.
   */
  private armIdle(): void {
    const ms = this.server.kmp_idle_timeout;
    if (ms <= 0) return;
    this.lastMediaMs = this.host.nowMs();
    const check = (): void => {
      const left = this.lastMediaMs + ms - this.host.nowMs();
      if (left > 0) {
        this.idleTimer = setTimeout(check, left);
        return;
      }
      this.idleTimer = null;
      this.shutdown({ reason: "rtmp_disconnect", message: `idle for ${ms} ms (kmp_idle_timeout)`, code: "RTMP_ERR_IDLE" });
    };
    this.idleTimer = setTimeout(check, ms);
  }

  /** Ends the session because of an error (coded errors are logged with their code). */
  fail(err: unknown): void {
    if (isPeerGone(err)) {
      // ffmpeg, VLC and librtmp often end with a reset right after deleteStream: a normal close
      this.shutdown({ reason: this.kmpError ? "rtmp_kmp_error" : "rtmp_disconnect", message: `client reset the connection (${(err as Error).message})`, code: "RTMP_CLIENT_RESET", peer: true });
      return;
    }
    const code: CloseCode = err instanceof CodedError ? (err.code as CloseCode) : "RTMP_ERR_INTERNAL";
    const message = err instanceof Error ? err.message : String(err);
    this.shutdown({ reason: this.kmpError ? "rtmp_kmp_error" : "rtmp_disconnect", message, code });
  }

  /** Closes the connection and detaches every stream (spec §9 connection close). */
  shutdown(cause: CloseCause): void {
    if (this.state === "closed" || this.state === "closing") return;
    this.state = "closing";
    this.closeCause = cause;
    if (cause.code && !cause.peer) this.log.warn(`session closed: ${cause.code}: ${cause.message}`);
    else if (cause.code) this.log.info(`session closed: ${cause.code}: ${cause.message}`);
    else this.log.info(`session closed: ${cause.message}`);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.idleTimer = this.handshakeTimer = null;
    if (this.connected || this.app) this.host.detach(this);
    const reason: UnpublishReason = this.kmpError ? "rtmp_kmp_error" : cause.reason === "rtmp_close" ? "rtmp_close" : "rtmp_disconnect";
    const ids = [...this.streams.keys()].sort((a, b) => a - b);
    for (const id of ids) this.endStream(this.streams.get(id)!, reason);
    this.abort.abort();
    this.state = "closed";
    this.connectSettled();
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
}
