import type { IngestServer } from "../server/server.ts";
import { ackLag } from "../kmp/track-stats.ts";
import { wallClock } from "../time/clock.ts";

const HELP: Record<string, [string, string]> = {
  rtmp_kmp_ctrl_request_duration_seconds: ["histogram", "Controller request latency by event (successful attempts)"],
  rtmp_kmp_ctrl_request_failures_total: ["counter", "Failed controller request attempts by event and error code"],
  rtmp_kmp_kmp_acks_total: ["counter", "KMP ackf packets received"],
  rtmp_kmp_republishes_total: ["counter", "Republish requests sent"],
  rtmp_kmp_sessions_closed_total: ["counter", "RTMP sessions ended, by the code of their end (none: a plain close)"],
  rtmp_kmp_unpublishes_total: ["counter", "Tracks unpublished, by unpublish reason"],
  rtmp_kmp_memory_releases_total: ["counter", "Memory-reducing collections run after the sessions fell to half of their peak"],
  rtmp_kmp_memory_released_bytes_total: ["counter", "Resident memory those collections gave back"],
  rtmp_kmp_memory_release_seconds: ["histogram", "Time each of those collections paused the process"],
  rtmp_kmp_unsupported_tracks_total: ["counter", "Published tracks not forwarded because KMP has no id for their codec"],
};

/** `GET /metrics`: Prometheus text exposition of the live state and the process counters. */
export function renderMetrics(server: IngestServer): string {
  const out: string[] = [];
  const gauge = (name: string, help: string, rows: [Record<string, string>, number][], type = "gauge") => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${x.replace(/["\\\n]/g, "_")}"`).join(",");
      out.push(`${name}${l ? `{${l}}` : ""} ${v}`);
    }
  };
  let streams = 0;
  let upstreams = 0;
  for (const s of server.sessions) for (const st of s.streams.values()) if (st.publishing) streams++;
  const tracks = [...server.tracks.values()];
  for (const t of tracks) upstreams += t.track.upstreams.size;
  gauge("rtmp_kmp_sessions", "RTMP sessions open", [[{}, server.sessions.size]]);
  gauge("rtmp_kmp_streams", "RTMP streams publishing", [[{}, streams]]);
  gauge("rtmp_kmp_tracks", "KMP tracks alive", [[{}, tracks.length]]);
  gauge("rtmp_kmp_upstreams", "KMP upstream connections (incl. reconnecting)", [[{}, upstreams]]);
  gauge("rtmp_kmp_connections_accepted_total", "RTMP connections accepted", [[{}, server.counters.naccepted]], "counter");
  gauge("rtmp_kmp_rtmp_bytes_in_total", "Bytes received from RTMP clients", [[{}, server.counters.bytesIn.bytes]], "counter");
  gauge("rtmp_kmp_rtmp_bytes_out_total", "Bytes sent to RTMP clients", [[{}, server.counters.bytesOut.bytes]], "counter");
  gauge("rtmp_kmp_rtmp_frames_in_total", "RTMP audio/video messages received", [[{ media: "video" }, server.counters.framesIn.video], [{ media: "audio" }, server.counters.framesIn.audio]], "counter");
  let frames = server.counters.closedTracks.frames;
  let bytes = server.counters.closedTracks.bytes;
  for (const t of tracks) {
    frames += t.track.frames.sentFrames;
    bytes += t.track.log.written;
  }
  gauge("rtmp_kmp_kmp_frames_out_total", "KMP frames written to track logs", [[{}, frames]], "counter");
  gauge("rtmp_kmp_kmp_bytes_out_total", "KMP bytes written to track logs", [[{}, bytes]], "counter");
  type Entry = (typeof tracks)[number];
  const trackLabels = (e: Entry) => ({ track: e.track.id, media: e.media, input_id: e.track.identity.inputId });
  const mem = (f: (e: Entry) => number): [Record<string, string>, number][] => tracks.map((e) => [trackLabels(e), f(e)]);
  const perTrack = (f: (e: Entry) => number): [Record<string, string>, number][] =>
    tracks.map((e) => [{ ...trackLabels(e), channel_id: e.track.channelId, track_id: e.track.trackId }, f(e)]);
  gauge("rtmp_kmp_track_frames_total", "Frames written by a live track", perTrack((e) => e.track.frames.sentFrames), "counter");
  gauge("rtmp_kmp_track_kmp_bytes_total", "KMP bytes written by a live track", perTrack((e) => e.track.log.written), "counter");
  const streamRows: [Record<string, string>, number][] = [];
  for (const s of server.sessions) {
    for (const st of s.streams.values()) {
      if (st.live) streamRows.push([{ app: s.client.app, stream: st.publish?.name ?? "", connection: String(s.connection) }, st.bytesIn.bytes]);
    }
  }
  gauge("rtmp_kmp_stream_bytes_in_total", "Bytes received for a publishing stream", streamRows, "counter");
  const lagFrames: [Record<string, string>, number][] = [];
  const lagSeconds: [Record<string, string>, number][] = [];
  const connected: [Record<string, string>, number][] = [];
  for (const e of tracks) {
    const st = e.track.stats();
    const timescale = e.track.config.kmp_timescale;
    const nowCreated = wallClock(server.clock, timescale);
    for (const u of st.upstreams) {
      const l = { ...trackLabels(e), upstream: u.id };
      const lag = ackLag(st, u, nowCreated);
      lagFrames.push([l, lag.frames]);
      lagSeconds.push([l, lag.ticks / timescale]);
      connected.push([l, u.state === "connected" ? 1 : 0]);
    }
  }
  gauge("rtmp_kmp_upstream_connected", "1 while an upstream's connection is up (0 while it reconnects)", connected);
  gauge("rtmp_kmp_upstream_ack_lag_frames", "Frames written and not yet acknowledged by an upstream's receiver", lagFrames);
  gauge("rtmp_kmp_upstream_ack_lag_seconds", "Age of the oldest frame an upstream's receiver has not acknowledged", lagSeconds);
  gauge("rtmp_kmp_track_memory_used_bytes", "Memory charged to a track", mem((e) => e.track.log.memLimit - e.track.log.memLeft));
  gauge("rtmp_kmp_track_memory_limit_bytes", "Memory limit of a track", mem((e) => e.track.log.memLimit));
  const m = server.runtime.memoryUsage();
  gauge("process_resident_memory_bytes", "Resident memory size of the process", [[{}, m.rss]]);
  gauge("rtmp_kmp_heap_used_bytes", "JavaScript heap in use", [[{}, m.heapUsed]]);
  gauge("rtmp_kmp_heap_total_bytes", "JavaScript heap reserved", [[{}, m.heapTotal]]);
  gauge("rtmp_kmp_external_memory_bytes", "Memory held outside the JavaScript heap (buffers)", [[{}, m.external]]);
  out.push(...server.metrics.render(HELP));
  return out.join("\n") + "\n";
}
