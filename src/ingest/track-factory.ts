import { createTrackControl } from "../control/track-control.ts";
import type { UnpublishRequest } from "../control/types.ts";
import type { MediaTag } from "../flv/tag.ts";
import { codecName, kmpCodecId, TrackConverter } from "../flv/track-converter.ts";
import { KmpTrack } from "../kmp/track.ts";
import { rtmpInfoOf } from "./client-info.ts";
import type { SessionContext } from "./context.ts";
import { trackKey, type MediaKind, type RtmpStream, type StreamTrack } from "./stream.ts";
import { objectList } from "../object-list.ts";

/**
 * The first tag of a (media, multitrack id) of a publishing stream creates its track: the
 * converter over that track's codec state, the controller calls with the track's identity, and
 * the KMP track. A codec KMP has no id for (AV1, VP9, FLAC, …) makes a track that stops alone:
 * one log line, no publish, listed in the API as unsupported; every other track goes on.
 */
export function createTrack(s: SessionContext, stream: RtmpStream, media: MediaKind, tag: MediaTag): StreamTrack {
  const app = stream.app!;
  const pub = stream.publish!;
  const index = tag.trackId;
  const key = trackKey(media, index);
  const converter = new TrackConverter({
    mediaType: media,
    timescale: app.kmp_timescale,
    audioSyncMarginMs: app.kmp_audio_sync_margin,
    state: stream.codecs.of(index),
  });
  const log = s.log.child({ stream: stream.id, track: key });
  if (kmpCodecId(media, tag) === null) {
    log.warn(`${media} track ${index}: codec '${codecName(tag)}' cannot be forwarded (KMP has no codec id for it); this track is not published, the others go on`);
    s.host.metrics.inc("rtmp_kmp_unsupported_tracks_total", { media, codec: codecName(tag) });
    const st: StreamTrack = { media, index, converter, track: null, unsupported: codecName(tag), pending: objectList() };
    stream.addTrack(st);
    return st;
  }
  const identity = { inputId: `${s.client.tcUrl}/${pub.name}/${key}`, multitrackId: index, rtmpInfoJson: rtmpInfoOf(s.client, pub) };
  const host = s.host;
  const owedKey = `${s.connection}/${identity.inputId}`;
  const owed = host.owedUnpublish ? (u: UnpublishRequest | null) => host.owedUnpublish!(owedKey, u) : undefined;
  const track: KmpTrack = new KmpTrack({
    id: host.nextTrackId(),
    mediaType: media,
    config: app,
    runtime: host.runtime,
    clock: host.clock,
    control: createTrackControl({ config: app, identity, client: host.control, log, owed }),
    identity,
    log,
    metrics: host.metrics,
    bufferPool: host.bufferPool,
    headerScratch: host.headerScratch,
    nextConnectionId: () => host.nextUpstreamConnectionId(),
    onError: (reason) => {
      log.warn(`track failed (${reason}); closing the RTMP connection`);
      queueMicrotask(() =>
        s.shutdown({ reason: "rtmp_disconnect", message: `KMP track ${key} of stream ${stream.id} failed: ${reason}`, code: "RTMP_ERR_TRACK_FAILED" })
      );
    },
    onClosed: () => host.trackClosed(track),
  });
  const st: StreamTrack = { media, index, converter, track, unsupported: null, pending: objectList() };
  stream.addTrack(st);
  host.trackOpened(track, s, stream, st);
  return st;
}
