/**
 * Every directive the server understands: name, where it may appear, how its value is read, the
 * reference code's default and what it does. The README's configuration table is checked
 * against this list by a test.
 */
export type Level = "rtmp" | "server" | "application";
export type Kind = "msec" | "size" | "num" | "flag" | "url" | "header" | "enum" | "listen" | "access" | "msec_off";

export type DirectiveSpec = {
  name: string;
  levels: Level[];
  kind: Kind;
  /** Default as the reference's code has it (ms / bytes / number / bool / string / null). */
  def: number | boolean | string | null;
  values?: string[];
  meaning: string;
};

const ALL: Level[] = ["rtmp", "server", "application"];
const RS: Level[] = ["rtmp", "server"];

export const DIRECTIVES: DirectiveSpec[] = [
  // rtmp-kmp (spec §8.1)
  { name: "kmp_idle_timeout", levels: RS, kind: "msec", def: 30_000, meaning: "close a publishing session that sent no audio/video for this long (0 = off)" },
  { name: "kmp_ctrl_connect_url", levels: ALL, kind: "url", def: null, meaning: "controller URL for the connect event; unset = accept every connect" },
  { name: "kmp_ctrl_publish_url", levels: ALL, kind: "url", def: null, meaning: "controller URL for the publish event; unset = no KMP output for the application" },
  { name: "kmp_ctrl_unpublish_url", levels: ALL, kind: "url", def: null, meaning: "controller URL for the unpublish notification" },
  { name: "kmp_ctrl_republish_url", levels: ALL, kind: "url", def: null, meaning: "controller URL for republish after an upstream error; unset = errors are not recovered" },
  { name: "kmp_ctrl_add_header", levels: ALL, kind: "header", def: null, meaning: "extra request header for every control event (repeatable; a level that sets any replaces the parent's list)" },
  { name: "kmp_ctrl_timeout", levels: ALL, kind: "msec", def: 2_000, meaning: "control request connect + send timeout, per attempt" },
  { name: "kmp_ctrl_read_timeout", levels: ALL, kind: "msec", def: 20_000, meaning: "control response read timeout, per attempt" },
  { name: "kmp_ctrl_buffer_size", levels: ALL, kind: "size", def: 4_096, meaning: "largest control response accepted" },
  { name: "kmp_ctrl_retries", levels: ALL, kind: "num", def: 5, meaning: "retries after a failed control request (connect/publish/republish)" },
  { name: "kmp_ctrl_retry_interval", levels: ALL, kind: "msec", def: 2_000, meaning: "wait between control request attempts" },
  { name: "kmp_timescale", levels: ALL, kind: "num", def: 90_000, meaning: "KMP timescale (Hz) of dts, pts_delay, created" },
  { name: "kmp_timeout", levels: ALL, kind: "msec", def: 10_000, meaning: "KMP upstream connect / send-stall timeout; also bounds the wait for a receiver to close after eost" },
  { name: "kmp_max_free_buffers", levels: ALL, kind: "num", def: 4, meaning: "released buffers kept for reuse per track" },
  { name: "kmp_buffer_bin_count", levels: ALL, kind: "num", def: 8, meaning: "reference allocator tuning; accepted, no effect" },
  { name: "kmp_mem_high_watermark", levels: ALL, kind: "num", def: 75, meaning: "memory use (% of the limit) that starts auto-acking the slowest upstream" },
  { name: "kmp_mem_low_watermark", levels: ALL, kind: "num", def: 50, meaning: "memory use (% of the limit) auto-acking brings it back to" },
  { name: "kmp_video_buffer_size", levels: ALL, kind: "size", def: 65_536, meaning: "video send buffer size" },
  { name: "kmp_video_mem_limit", levels: ALL, kind: "size", def: 50_331_648, meaning: "memory limit of a video track (48m in the reference's code; its README says 32m)" },
  { name: "kmp_audio_buffer_size", levels: ALL, kind: "size", def: 4_096, meaning: "audio send buffer size" },
  { name: "kmp_audio_mem_limit", levels: ALL, kind: "size", def: 1_048_576, meaning: "memory limit of an audio track" },
  { name: "kmp_audio_sync_margin", levels: ALL, kind: "msec", def: 2, meaning: "AAC timestamps within this margin of the sample-count prediction are snapped to it" },
  { name: "kmp_flush_timeout", levels: ALL, kind: "msec", def: 1_000, meaning: "send a partly filled buffer after this long" },
  { name: "kmp_log_frames", levels: ALL, kind: "enum", def: "off", values: ["all", "key", "off"], meaning: "log every written frame (all), video key frames (key) or none" },
  { name: "kmp_republish_interval", levels: ALL, kind: "msec", def: 1_000, meaning: "minimum time between republish requests of an upstream" },
  { name: "kmp_max_republishes", levels: ALL, kind: "num", def: 15, meaning: "delayed republishes in a row before an upstream is given up" },
  // RTMP core / live / access (spec §8.2)
  { name: "listen", levels: ["server"], kind: "listen", def: null, meaning: "RTMP listen address (`port`, `ip:port`, `[ipv6]:port`; flags `proxy_protocol`, `ssl`)" },
  { name: "ssl_certificate", levels: RS, kind: "url", def: null, meaning: "PEM certificate (chain) file for `listen … ssl` (RTMPS)" },
  { name: "ssl_certificate_key", levels: RS, kind: "url", def: null, meaning: "PEM private key file for `listen … ssl`" },
  { name: "timeout", levels: RS, kind: "msec", def: 60_000, meaning: "handshake / send inactivity timeout" },
  { name: "ping", levels: RS, kind: "msec", def: 60_000, meaning: "server ping interval (0 = off)" },
  { name: "ping_timeout", levels: RS, kind: "msec", def: 30_000, meaning: "wait for a ping response" },
  { name: "max_streams", levels: RS, kind: "num", def: 32, meaning: "limit of chunk stream ids and message stream ids" },
  { name: "ack_window", levels: RS, kind: "num", def: 5_000_000, meaning: "window acknowledgement size sent to clients" },
  { name: "chunk_size", levels: RS, kind: "num", def: 4_096, meaning: "outgoing chunk size" },
  { name: "max_message", levels: RS, kind: "size", def: 1_048_576, meaning: "largest incoming RTMP message" },
  { name: "type3_ext_ts", levels: ALL, kind: "enum", def: "auto", values: ["auto", "on", "off"], meaning: "extended timestamps on type-3 chunks" },
  { name: "read_batch", levels: RS, kind: "msec", def: 200, meaning: "while a session streams, its socket rests up to this long after each read and the next read takes what came meanwhile (0 = every read at once, as the reference; ours, not the reference's)" },
  { name: "busy", levels: RS, kind: "flag", def: false, meaning: "ping without I/O closes the session" },
  { name: "live", levels: ALL, kind: "flag", def: false, meaning: "live layer: NetStream.Publish.Start replies and API stream stats" },
  { name: "sandbox", levels: ALL, kind: "flag", def: false, meaning: "per-session stream namespace" },
  { name: "drop_idle_publisher", levels: ALL, kind: "msec_off", def: 0, meaning: "close a publisher idle this long (off = 0)" },
  { name: "allow", levels: ALL, kind: "access", def: null, meaning: "allow [publish|play] addr|all" },
  { name: "deny", levels: ALL, kind: "access", def: null, meaning: "deny [publish|play] addr|all (deny publish closes the connection)" },
];

export const DIRECTIVE_BY_NAME = new Map(DIRECTIVES.map((d) => [d.name, d]));

/** nginx-rtmp-module directives accepted inside rtmp{} with no effect here (listed as ignored). */
export const NO_EFFECT = new Set([
  "out_queue", "out_cork", "buflen", "play_time_fix", "publish_time_fix", "dump_folder", "stream_buckets", "buffer",
  "publish_notify", "play_restart", "idle_streams", "meta", "wait_key", "wait_video", "interleave", "sync",
  "atc", "so_keepalive", "proxy_protocol", "respawn", "respawn_timeout", "session_relay", "notify_method",
  "notify_relay_redirect", "notify_update_timeout", "notify_update_strict", "notify_send_redirect", "pull", "push",
  "pull_reconnect", "push_reconnect", "relay_buffer", "hls", "dash", "exec", "exec_push", "exec_pull", "exec_options",
  "record", "record_path", "record_suffix", "record_unique", "record_append", "record_lock", "record_max_size",
  "record_max_frames", "record_interval", "record_notify", "play", "play_temp_path", "play_local_path",
]);

/** Durations: `500ms`, `2s`, `1m` (minute), `1h`, `1d`, `1w`, `1m30s`; a bare number is milliseconds. */
export function parseMsec(v: string): number | null {
  if (/^\d+$/.test(v)) return Number(v);
  const re = /(\d+)(ms|s|m|h|d|w|M|y)/gy;
  let total = 0;
  let consumed = 0;
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * units[m[2]];
    consumed = re.lastIndex;
  }
  return consumed === v.length && consumed > 0 ? total : null;
}

/** Sizes: `4096`, `64k`, `32m`, `1g` (binary multiples). */
export function parseSize(v: string): number | null {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v);
  if (!m) return null;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mult;
}
