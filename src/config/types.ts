/**
 * The validated configuration model. Keys are the reference's directive names, so a reader can
 * grep the nginx docs; every duration is in milliseconds and every size in bytes.
 * Inheritance (`rtmp` → `server` → `application`) is already applied: each application carries
 * the effective value of every directive.
 */

export type ResumeFrom = "last_acked" | "last_sent" | "last_written";
export type LogFrames = "all" | "key" | "off";
export type Type3ExtTs = "auto" | "on" | "off";

/** One `kmp_ctrl_add_header name value;` line. */
export type CtrlHeader = { name: string; value: string };

/** Directives that a track snapshots from its application (kmp-out + control client). */
export type TrackConfig = {
  kmp_ctrl_publish_url: string | null;
  kmp_ctrl_unpublish_url: string | null;
  kmp_ctrl_republish_url: string | null;
  kmp_ctrl_add_header: CtrlHeader[];
  kmp_ctrl_timeout: number; // ms, 2000
  kmp_ctrl_read_timeout: number; // ms, 20000
  kmp_ctrl_buffer_size: number; // bytes, 4096
  kmp_ctrl_retries: number; // 5
  kmp_ctrl_retry_interval: number; // ms, 2000
  kmp_timescale: number; // 90000
  kmp_timeout: number; // ms, 10000
  kmp_max_free_buffers: number; // 4
  kmp_buffer_bin_count: number; // 8 (accepted, unused)
  kmp_mem_high_watermark: number; // percent, 75
  kmp_mem_low_watermark: number; // percent, 50
  kmp_video_buffer_size: number; // bytes, 65536
  kmp_video_mem_limit: number; // bytes, 50331648 (48m, the code's default)
  kmp_audio_buffer_size: number; // bytes, 4096
  kmp_audio_mem_limit: number; // bytes, 1048576
  kmp_audio_sync_margin: number; // ms, 2
  kmp_flush_timeout: number; // ms, 1000
  kmp_log_frames: LogFrames; // off
  kmp_republish_interval: number; // ms, 1000
  kmp_max_republishes: number; // 15
};

export type ApplicationConfig = TrackConfig & {
  name: string;
  kmp_ctrl_connect_url: string | null;
  live: boolean; // off
  sandbox: boolean; // off
  drop_idle_publisher: number; // ms, 0 = off
  /** allow/deny rules in order; only `publish` rules matter to a publishing-only server. */
  access: { allow: boolean; publish: boolean; play: boolean; addr: string }[];
  type3_ext_ts: Type3ExtTs; // auto
};

/** `ssl`: RTMPS on this address (TLS terminated in-process with the server's certificate). */
export type ListenConfig = { hostname: string; port: number; proxy_protocol: boolean; ssl?: boolean };

export type ServerConfig = {
  listen: ListenConfig[];
  kmp_idle_timeout: number; // ms, 30000; 0 disables
  timeout: number; // ms, 60000
  ping: number; // ms, 60000
  ping_timeout: number; // ms, 30000
  max_streams: number; // 32
  ack_window: number; // 5000000
  chunk_size: number; // 4096
  max_message: number; // bytes, 1048576
  type3_ext_ts: Type3ExtTs;
  /** ms, 100; 0 = every read at once (`ReadBatch`) */
  read_batch: number;
  busy: boolean;
  /** PEM files for `listen … ssl` (nginx's names). */
  ssl_certificate: string | null;
  ssl_certificate_key: string | null;
  applications: ApplicationConfig[];
};

/** Where the management APIs live (from `http { server { listen; location { rtmp_kmp_api; kmp_out_api; } } }`). */
export type ApiLocation = { prefix: string; kind: "rtmp_kmp_api" | "kmp_out_api"; write: boolean };
export type ApiServerConfig = { listen: ListenConfig[]; locations: ApiLocation[] };

export type LogConfig = {
  level: "debug" | "info" | "notice" | "warn" | "error";
  format: "text" | "json";
  /** RTMP access log: file path, "stdout", or null (off). */
  access_log: string | null;
  log_format: string | null;
};

export type Config = {
  /** The file it came from (for messages), or "<defaults>". */
  source: string;
  servers: ServerConfig[];
  api: ApiServerConfig[];
  log: LogConfig;
  /** `worker_processes`: RTMP worker processes behind one API (1 = this process serves alone, 0 = auto: one per core). */
  worker_processes: number;
  /** Directives that were accepted but have no effect here, for one log line each at start. */
  ignored: { file: string; line: number; directive: string }[];
};
