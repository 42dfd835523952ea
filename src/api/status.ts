import { mediaInfoJson } from "../codec/media-info-json.ts";
import type { RtmpSession } from "../ingest/session.ts";
import type { RtmpStream, StreamTrack } from "../ingest/stream.ts";
import type { ServerConfig } from "../config/types.ts";
import type { IngestServer, TrackEntry } from "../server/server.ts";
import { VERSION } from "../version.ts";
import { fixed2, Raw, SPLICE as RTMP_INFO } from "./json.ts";

/** Status tree objects in the reference's key order (spec §7.2, fixture s01 api/). */

/** `proc`: the process the API answers for (one server, or the primary of worker processes). */
export function versionFields(proc: { pid: number; startedMs: number }, rtmp: boolean): Record<string, unknown> {
  const v: Record<string, unknown> = {
    version: VERSION.version,
    nginx_version: VERSION.nginx_version,
  };
  if (rtmp) v.rtmp_version = VERSION.rtmp_version;
  v.compiler = VERSION.compiler;
  v.built = VERSION.built;
  v.pid = proc.pid;
  v.uptime = Math.floor((Date.now() - proc.startedMs) / 1000);
  return v;
}

const processOf = (server: IngestServer) => ({ pid: server.runtime.pid(), startedMs: server.startedMs });

export function upstreamObject(u: ReturnType<TrackEntry["track"]["stats"]>["upstreams"][number]): Record<string, unknown> {
  return {
    id: u.id,
    remote_addr: u.remoteAddr,
    local_addr: u.localAddr,
    connection: u.connection,
    required: u.required,
    resume_from: u.resumeFrom,
    sent_bytes: u.sentBytes,
    position: u.position,
    acked_frames: u.ackedFrames,
    acked_bytes: u.ackedBytes,
    auto_acked_frames: u.autoAckedFrames,
  };
}

export function trackObject(entry: TrackEntry, withId: boolean): Record<string, unknown> {
  const s = entry.track.stats();
  const o: Record<string, unknown> = {};
  if (withId) o.kmp_out_id = entry.track.id;
  o.input_id = s.inputId;
  o.channel_id = s.channelId;
  o.track_id = s.trackId;
  o.mem_left = s.memLeft;
  o.mem_limit = s.memLimit;
  o.last_timestamp = entry.streamTrack.converter.lastTimestampMs;
  o.last_created = new Raw(String(s.lastCreated));
  o.sent_frames = s.sentFrames;
  o.sent_key_frames = s.sentKeyFrames;
  o.written = s.written;
  o.bitrate = s.bitrate;
  o.frame_rate = fixed2(s.frameRate);
  // `"input_type":"rtmp","rtmp":{…}` is pre-rendered once per track
  o[RTMP_INFO] = new Raw(entry.track.identity.rtmpInfoJson);
  o.media_info = s.mediaInfo ? new Raw(mediaInfoJson(s.mediaInfo)) : new Raw("{}");
  o.upstreams = s.upstreams.map(upstreamObject);
  return o;
}


/** The sessions the APIs list (connected to an application), by connection id. */
export function apiSessions(server: IngestServer): RtmpSession[] {
  return [...server.sessions].filter((s) => s.app).sort((a, b) => a.connection - b.connection);
}

/** A session's published streams, by stream id. */
export function liveStreams(s: RtmpSession): RtmpStream[] {
  return [...s.streams.values()].filter((st) => st.live).sort((a, b) => a.id - b.id);
}

/** A track's key in a stream object: `video`, `audio`, or `video_1`… for multitrack tracks ≥ 1. */
export function apiTrackKey(st: StreamTrack): string {
  return st.index === 0 ? st.media : `${st.media}_${st.index}`;
}

export function streamObject(server: IngestServer, stream: RtmpStream): Record<string, unknown> {
  const now = Date.now();
  // `video` and `audio` (multitrack tracks ≥ 1: `video_1`, …); an unsupported track names its codec
  const tracks: Record<string, unknown> = {};
  for (const st of stream.orderedTracks()) {
    const key = apiTrackKey(st);
    if (!st.track) {
      tracks[key] = { unsupported: true, codec: st.unsupported };
      continue;
    }
    const entry = server.tracks.get(st.track.id);
    if (entry) tracks[key] = trackObject(entry, true);
  }
  const pub = stream.publish;
  return {
    name: pub?.name ?? "",
    args: pub?.args ?? "",
    type: pub?.type ?? "",
    bw_in: stream.bytesIn.bps(now),
    bytes_in: stream.bytesIn.bytes,
    bw_in_audio: stream.bytesIn.audioBps(now),
    bytes_in_audio: stream.bytesIn.audioBytes,
    bw_in_video: stream.bytesIn.videoBps(now),
    bytes_in_video: stream.bytesIn.videoBytes,
    bw_out: 0,
    bytes_out: 0,
    uptime: Math.floor((now - stream.createdMs) / 1000),
    tracks,
  };
}

export function sessionObject(server: IngestServer, s: RtmpSession): Record<string, unknown> {
  const streams = liveStreams(s);
  return {
    flashver: s.client.flashver,
    swf_url: s.client.swfUrl,
    tc_url: s.client.tcUrl,
    page_url: s.client.pageUrl,
    type3_ext_ts: s.type3ExtTs,
    remote_addr: s.remoteAddr,
    uptime: Math.floor((Date.now() - s.acceptedMs) / 1000),
    connection: s.connection,
    streams: streams.map((st) => streamObject(server, st)),
  };
}

/** The server-wide counters of the rtmp-kmp status root. */
export type RtmpCounters = { naccepted: number; bw_in: number; bytes_in: number; bw_out: number; bytes_out: number };

export function rtmpCounters(server: IngestServer): RtmpCounters {
  const now = Date.now();
  return {
    naccepted: server.counters.naccepted,
    bw_in: server.counters.bytesIn.bps(now),
    bytes_in: server.counters.bytesIn.bytes,
    bw_out: server.counters.bytesOut.bps(now),
    bytes_out: server.counters.bytesOut.bytes,
  };
}

/**
 * The rtmp-kmp status root in the reference's key order: one process's, or the primary's over its
 * workers (`sessions(server, application)` by index into `servers`).
 */
export function rtmpKmpTree(proc: { pid: number; startedMs: number }, c: RtmpCounters, servers: ServerConfig[], sessions: (server: number, app: number) => unknown[]): Record<string, unknown> {
  return {
    ...versionFields(proc, true),
    naccepted: c.naccepted,
    bw_in: c.bw_in,
    bytes_in: c.bytes_in,
    bw_out: c.bw_out,
    bytes_out: c.bytes_out,
    servers: servers.map((s, si) => ({
      applications: s.applications.map((app, ai) => ({ name: app.name, sessions: sessions(si, ai) })),
    })),
  };
}

export function rtmpKmpRoot(server: IngestServer): Record<string, unknown> {
  return rtmpKmpTree(processOf(server), rtmpCounters(server), server.servers.map((st) => st.config), (si, ai) => {
    const state = server.servers[si];
    return server.appSessions(state, state.config.applications[ai]).sort((a, b) => a.connection - b.connection).map((s) => sessionObject(server, s));
  });
}

export function kmpOutTracks(server: IngestServer): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const ids = [...server.tracks.keys()].sort((a, b) => Number(a) - Number(b));
  for (const id of ids) o[id] = trackObject(server.tracks.get(id)!, false);
  return o;
}

export function kmpOutRoot(server: IngestServer): Record<string, unknown> {
  return { ...versionFields(processOf(server), false), tracks: kmpOutTracks(server) };
}
