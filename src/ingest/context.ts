import type { FrameBatch } from "./frame-batch.ts";
import type { ApplicationConfig, ServerConfig } from "../config/types.ts";
import type { ControlClient } from "../control/client.ts";
import type { UnpublishReason, UnpublishRequest } from "../control/types.ts";
import type { BufferPool } from "../bytes/buffer-pool.ts";
import type { HeaderScratch } from "../kmp/muxer.ts";
import type { KmpTrack } from "../kmp/track.ts";
import type { MessageBuffers } from "../rtmp/chunk-decoder.ts";
import type { Logger } from "../log/logger.ts";
import type { Runtime } from "../runtime/types.ts";
import type { IngestCounters } from "../stats/ingest-counters.ts";
import type { Metrics } from "../stats/metrics.ts";
import type { Clock } from "../time/clock.ts";
import type { ClientInfo } from "./client-info.ts";
import type { ReadBatch } from "./read-batch.ts";
import type { CloseCode } from "./errors.ts";
import type { RtmpStream, StreamTrack } from "./stream.ts";

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly log: Logger;
  readonly control: ControlClient;
  readonly metrics: Metrics;
  /** The server's totals: the session counts its bytes and frames as they pass. */
  readonly counters: IngestCounters;
  readonly bufferPool: BufferPool;
  /** Buffers for RTMP messages that span chunks, lent per batch. */
  readonly messageBuffers: MessageBuffers;
  /** The muxers' frame-header scratch, shared by the server's tracks. */
  readonly headerScratch: HeaderScratch;
  /** The rests of the sessions' sockets between reads (`read_batch`). */
  readonly readBatch: ReadBatch;
  /** Id sources of the server (unique across its sessions). */
  nextConnectionId(): number;
  nextTrackId(): string;
  nextUpstreamConnectionId(): number;
  /** The session's connect named an application: list it there (API). */
  attach(session: SessionContext): void;
  detach(session: SessionContext): void;
  /** Live-layer name registry for `sandbox off` (spec §1.9): false when the name is taken. */
  claimName(app: ApplicationConfig, name: string, session: SessionContext): boolean;
  releaseName(app: ApplicationConfig, name: string, session: SessionContext): void;
  /** A KMP track was created / destroyed (kmp-out API registry). */
  trackOpened(track: KmpTrack, session: SessionContext, stream: RtmpStream, streamTrack: StreamTrack): void;
  trackClosed(track: KmpTrack): void;
  /** A track's publish started (its unpublish is owed), or that unpublish was sent (null). */
  owedUnpublish?(key: string, unpublish: UnpublishRequest | null): void;
  /** The session ended (access log). */
  sessionEnded(session: SessionContext): void;
}

/** Why a session ends. `peer`: the client ended it itself (EOF or reset), logged at info. */
export type CloseCause = { reason: UnpublishReason; message: string; code?: CloseCode; peer?: boolean };

/**
 * One session as its handlers see it (commands, connect gate, publish, media, track factory):
 * the state the session owns and the few ways to act on it.
 */
export interface SessionContext {
  readonly connection: number;
  readonly server: ServerConfig;
  readonly host: SessionHost;
  readonly log: Logger;
  readonly client: ClientInfo;
  readonly streams: Map<number, RtmpStream>;
  /** The frames of the current socket read, per track. */
  readonly frames: FrameBatch;
  /** Aborted when the session ends (pending callbacks stop). */
  readonly signal: AbortSignal;
  /** Still serving (not closing or closed). */
  readonly open: boolean;
  /** The application `connect` named. */
  app: ApplicationConfig | null;
  /** `connect` was accepted. */
  connected: boolean;
  /** Chunk size of what the server sends (replies after connect use the configured one). */
  outChunkSize: number;
  /** For the access log: the first command that is not part of connecting, the last publish. */
  command: string;
  lastPublishName: string;
  lastPublishArgs: string;
  send(bytes: Uint8Array): void;
  /** A publishing stream's audio/video arrived (kmp_idle_timeout starts again). */
  mediaArrived(nowMs: number): void;
  /** A publishing stream's media could not be read or converted: its tracks end with `rtmp_kmp_error`. */
  mediaFailed(): void;
  fail(err: unknown): void;
  shutdown(cause: CloseCause): void;
  /** End a stream's tracks (eost, then their teardown) and release its live name. */
  endStream(stream: RtmpStream, reason: UnpublishReason): void;
}
