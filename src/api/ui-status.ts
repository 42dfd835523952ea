import { kmpCodecName } from "../codec/codec-names.ts";
import { frameRateText } from "../codec/media-info-json.ts";
import type { ApiLocation } from "../config/types.ts";
import type { RtmpSession } from "../ingest/session.ts";
import type { StreamTrack } from "../ingest/stream.ts";
import type { MediaInfo } from "../media/types.ts";
import type { IngestServer, TrackEntry } from "../server/server.ts";
import { fmtAddr } from "../net/addr.ts";
import { apiSessions, apiTrackKey, liveStreams } from "./status.ts";
import { ackLag } from "../kmp/track-stats.ts";
import { wallClock } from "../time/clock.ts";
import { VERSION } from "../version.ts";

/**
 * What the status page shows (`GET /ui/status.json`): one process's sessions, streams, tracks and
 * upstreams, with what the reference's API does not carry — codec names, per-second history for
 * the graphs, upstream states, ack lag, republishes. Every string is the publisher's as it came:
 * the page escapes it.
 */
export type UiStatus = {
  server: UiServer;
  sessions: UiSession[];
};

export type UiServer = {
  name: string;
  runtime: string;
  pid: number;
  uptime: number;
  /** ms since the epoch of this answer (the page's graphs line up on it). */
  now: number;
  listeners: { addr: string; tls: boolean; proxy: boolean }[];
  /** Where `DELETE {drop}{connection}` ends a session; null when the API is read-only. */
  drop: string | null;
  /** With `worker_processes`: each worker (the primary answers). */
  workers: { worker: number; pid: number; uptime: number; ready: boolean; sessions: number }[] | null;
};

export type UiUpstream = {
  id: string;
  url: string;
  state: string;
  remote_addr: string;
  required: boolean;
  sent_bytes: number;
  acked_frames: number;
  ack_lag_frames: number;
  ack_lag_ms: number;
  republishes: number;
};

export type UiTrack = {
  key: string;
  media: "video" | "audio";
  multitrack: number;
  unsupported: string | null;
  kmp_out_id: string | null;
  channel_id: string;
  track_id: string;
  state: string;
  codec: string;
  /** e.g. "1280x720 29.97 fps" or "48000 Hz 2 ch". */
  format: string;
  bitrate: number;
  frame_rate: number;
  frames: number;
  key_frames: number;
  mem_used: number;
  mem_limit: number;
  history: { start: number; window: number; bitrate: number[]; frame_rate: number[] } | null;
  upstreams: UiUpstream[];
};

export type UiStream = { name: string; type: string; uptime: number; bytes_in: number; bitrate: number; tracks: UiTrack[] };

export type UiSession = {
  connection: number;
  worker: number | null;
  remote_addr: string;
  /** The socket's peer when a PROXY header named another client (the proxy), else "". */
  via: string;
  app: string;
  flashver: string;
  tc_url: string;
  since: number;
  bytes_in: number;
  bitrate: number;
  streams: UiStream[];
};

/** Where a writable rtmp_kmp_api location takes `DELETE …/sessions/{connection}`, if any. */
export function dropPrefix(locations: ApiLocation[]): string | null {
  const loc = locations.find((l) => l.kind === "rtmp_kmp_api" && l.write);
  return loc ? `${loc.prefix.replace(/\/+$/, "")}/sessions/` : null;
}

export function formatOf(mi: MediaInfo | null): string {
  if (!mi) return "";
  if (mi.mediaType === "video") {
    const fps = mi.frameRate.denom ? ` ${frameRateText(mi.frameRate.num, mi.frameRate.denom)} fps` : "";
    return `${mi.width}x${mi.height}${fps}`;
  }
  return `${mi.sampleRate} Hz ${mi.channels} ch`;
}

function trackOf(server: IngestServer, key: string, st: StreamTrack, nowMs: number): UiTrack {
  const base = { key, media: st.media, multitrack: st.index };
  const entry: TrackEntry | undefined = st.track ? server.tracks.get(st.track.id) : undefined;
  if (!st.track || !entry) {
    return {
      ...base, unsupported: st.track ? null : st.unsupported ?? "", kmp_out_id: null, channel_id: "", track_id: "", state: st.track ? "closed" : "unsupported",
      codec: st.unsupported ?? "", format: "", bitrate: 0, frame_rate: 0, frames: 0, key_frames: 0, mem_used: 0, mem_limit: 0, history: null, upstreams: [],
    };
  }
  const t = entry.track;
  const s = t.stats();
  const h = t.frames.series(nowMs);
  const timescale = t.config.kmp_timescale;
  const nowCreated = wallClock(server.clock, timescale);
  return {
    ...base,
    unsupported: null,
    kmp_out_id: t.id,
    channel_id: s.channelId,
    track_id: s.trackId,
    state: t.state,
    codec: s.mediaInfo ? kmpCodecName(s.mediaInfo.codecId) : "",
    format: formatOf(s.mediaInfo),
    bitrate: s.bitrate,
    frame_rate: Math.round(s.frameRate * 100) / 100,
    frames: s.sentFrames,
    key_frames: s.sentKeyFrames,
    mem_used: s.memLimit - s.memLeft,
    mem_limit: s.memLimit,
    history: { start: h.start, window: h.window, bitrate: h.bitrate, frame_rate: h.frameRate },
    upstreams: s.upstreams.map((u) => {
      const lag = ackLag(s, u, nowCreated);
      return {
        id: u.id,
        url: u.url,
        state: u.state,
        remote_addr: u.remoteAddr,
        required: u.required,
        sent_bytes: u.sentBytes,
        acked_frames: u.ackedFrames,
        ack_lag_frames: lag.frames,
        ack_lag_ms: Math.round((lag.ticks * 1000) / timescale),
        republishes: u.republishes,
      };
    }),
  };
}

function sessionOf(server: IngestServer, s: RtmpSession, nowMs: number): UiSession {
  const peer = fmtAddr(s.conn.remoteAddr.hostname, s.conn.remoteAddr.port);
  return {
    connection: s.connection,
    worker: null,
    remote_addr: s.remoteAddr,
    via: peer === s.remoteAddr ? "" : peer,
    app: s.client.app,
    flashver: s.client.flashver,
    tc_url: s.client.tcUrl,
    since: s.acceptedMs,
    bytes_in: s.bytesIn.bytes,
    bitrate: s.bytesIn.bps(nowMs),
    streams: liveStreams(s).map((st) => ({
      name: st.publish?.name ?? "",
      type: st.publish?.type ?? "",
      uptime: Math.floor((nowMs - st.createdMs) / 1000),
      bytes_in: st.bytesIn.bytes,
      bitrate: st.bytesIn.bps(nowMs),
      tracks: st.orderedTracks().map((t) => trackOf(server, apiTrackKey(t), t, nowMs)),
    })),
  };
}

/** This process's status for the page. */
export function uiStatus(server: IngestServer, locations: ApiLocation[]): UiStatus {
  const nowMs = server.clock.nowMs();
  return {
    server: {
      name: VERSION.built,
      runtime: server.runtime.name,
      pid: server.runtime.pid(),
      uptime: Math.floor((nowMs - server.startedMs) / 1000),
      now: nowMs,
      // the bound addresses (port 0 resolved), in the order the listen directives were opened
      listeners: server.servers.flatMap((st) => st.config.listen).map((l, i) => {
        const a = server.addresses[i] ?? l;
        return { addr: fmtAddr(a.hostname, a.port), tls: !!l.ssl, proxy: l.proxy_protocol };
      }),
      drop: dropPrefix(locations),
      workers: null,
    },
    sessions: apiSessions(server).map((s) => sessionOf(server, s, nowMs)),
  };
}
