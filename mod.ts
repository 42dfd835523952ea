/**
 * rtmp-kmp: an RTMP ingest that forwards every published track to KMP upstreams.
 * Library exports; the program entry is src/cli.ts.
 */
export { main } from "./src/main.ts";
export { IngestServer } from "./src/server/server.ts";
export type { Config } from "./src/config/types.ts";
export { loadConfig, parseNginxConf, parseJsonConfig, defaultConfig } from "./src/config/index.ts";
export { getRuntime } from "./src/runtime/detect.ts";
export type { Conn, Listener, Runtime } from "./src/runtime/types.ts";
export { Logger } from "./src/log/logger.ts";
export { CodedError } from "./src/errors.ts";
export { RtmpError, RTMP_ERRORS } from "./src/rtmp/errors.ts";
export { FlvError, FLV_ERRORS } from "./src/flv/errors.ts";
export { KmpError, KMP_ERRORS } from "./src/kmp/errors.ts";
export { CtrlError, CTRL_ERRORS } from "./src/control/errors.ts";
export { ConfigError, CONFIG_ERRORS } from "./src/config/errors.ts";
export { ProxyHeaderError, PROXY_ERRORS } from "./src/net/errors.ts";
export { SessionError, SESSION_ERRORS } from "./src/ingest/errors.ts";
export { ChunkDecoder } from "./src/rtmp/chunk-decoder.ts";
export { RtmpDemuxer } from "./src/rtmp/demuxer.ts";
export { KmpMuxer } from "./src/kmp/muxer.ts";
export { KmpTrack } from "./src/kmp/track.ts";
export type { KmpFrame, MediaInfo } from "./src/media/types.ts";
