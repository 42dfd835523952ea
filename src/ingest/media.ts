import type { MediaTag } from "../flv/tag.ts";
import type { CreatedClock } from "../flv/track-converter.ts";
import type { RtmpMessage } from "../rtmp/chunk-decoder.ts";
import { MSG } from "../rtmp/protocol.ts";
import type { SessionContext } from "./context.ts";
import { SessionError } from "./errors.ts";
import { createTrack } from "./track-factory.ts";
import type { MediaKind } from "./stream.ts";

/**
 * The time of one batch of messages, read once for it (like nginx's cached time): the `created`
 * time of its frames and the session clock (ms). Methods the pump shares with every session.
 */
export interface BatchTime extends CreatedClock {
  nowMs(): number;
}

/**
 * One audio/video message (spec §0, §2-4): counted, its tags through the stream's codec states
 * (each multitrack track its own), and on a publishing stream each tag converted into its
 * track's frames of this batch (handed to the track once per socket read). Bad tags of a publishing stream end the session (`rtmp_bad_data` for
 * the track); the codec layer ignores what it cannot read otherwise. `time`: the `created` time
 * and the clock of this batch.
 */
export function onMedia(s: SessionContext, msg: RtmpMessage, time: BatchTime): void {
  const stream = s.streams.get(msg.msid);
  if (!stream) throw new SessionError("RTMP_ERR_NO_STREAM", `media on message stream ${msg.msid} that was not created`);
  const now = time.nowMs();
  const n = msg.payload.byteLength;
  const video = msg.type === MSG.VIDEO;
  const media: MediaKind = video ? "video" : "audio";
  stream.bytesIn.add(n, video, now);
  const counters = s.host.counters;
  // named, not keyed by `media`: a keyed access with two names is megamorphic on V8
  if (video) counters.framesIn.video++;
  else counters.framesIn.audio++;
  const publishing = stream.publish !== null && stream.app !== null;
  let tags: MediaTag[];
  try {
    tags = stream.codecs.onMedia(video, msg.payload);
  } catch (err) {
    if (!publishing) return;
    stream.track(video, 0)?.track?.setReason("rtmp_bad_data");
    s.mediaFailed();
    throw err;
  }
  if (publishing) s.mediaArrived(now);
  if (!publishing) return;
  for (const tag of tags) {
    const st = stream.track(video, tag.trackId) ?? createTrack(s, stream, media, tag);
    const track = st.track;
    if (!track || track.state === "inactive" || track.state === "closed") continue;
    try {
      const r = st.converter.convertTag(tag, msg.timestamp, time);
      if (r.kind === "frame") s.frames.add(st, r); // the result is the track's write (no second object)
    } catch (err) {
      track.setReason("rtmp_bad_data");
      s.mediaFailed();
      throw err;
    }
  }
}
