import type { MediaInfo } from "../media/types.ts";
import type { ByteLog } from "./byte-log.ts";
import type { TrackIdentity } from "./controller.ts";
import type { FrameStats } from "./frame-stats.ts";
import type { UpstreamStats } from "./upstream.ts";

/** What the API shows of a track (spec §7.2 `kmp_out` track object). */
export type TrackStats = {
  inputId: string;
  channelId: string;
  trackId: string;
  memLeft: number;
  memLimit: number;
  lastCreated: number;
  sentFrames: number;
  sentKeyFrames: number;
  written: number;
  bitrate: number;
  frameRate: number;
  mediaInfo: MediaInfo | null;
  upstreams: UpstreamStats[];
};

export function trackStats(
  t: { identity: TrackIdentity; channelId: string; trackId: string; log: ByteLog; mediaInfo: MediaInfo | null },
  frames: FrameStats,
  upstreams: UpstreamStats[],
): TrackStats {
  return {
    inputId: t.identity.inputId,
    channelId: t.channelId,
    trackId: t.trackId,
    memLeft: t.log.memLeft,
    memLimit: t.log.memLimit,
    lastCreated: frames.lastCreated,
    sentFrames: frames.sentFrames,
    sentKeyFrames: frames.sentKeyFrames,
    written: t.log.written,
    bitrate: frames.bitrate,
    frameRate: frames.frameRate,
    mediaInfo: t.mediaInfo,
    upstreams,
  };
}

/**
 * How far an upstream's receiver is behind the track: frames written and not acknowledged, and
 * the age (timescale units, at `nowCreated`) of the oldest of them (0 when all are acknowledged).
 */
export function ackLag(t: TrackStats, u: UpstreamStats, nowCreated: number): { frames: number; ticks: number } {
  return {
    frames: Math.max(0, t.sentFrames - u.ackedFrames),
    ticks: u.pendingCreated === null ? 0 : Math.max(0, nowCreated - u.pendingCreated),
  };
}
