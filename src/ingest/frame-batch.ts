import type { TrackWrite } from "../kmp/muxer.ts";
import type { KmpTrack } from "../kmp/track.ts";
import type { StreamTrack } from "./stream.ts";

/**
 * The frames one socket read produced, per track, in order: each track that got frames is listed
 * once, so handing them on and checking for room touches only those tracks (no walk over every
 * stream and track of the session per read).
 */
export class FrameBatch {
  private touched: StreamTrack[] = [];
  /** Tracks handed frames by the last `flush` (only a push can fill a track's input). */
  private pushed: KmpTrack[] = [];

  /** A frame for `st`, handed to its track at the next `flush`. */
  add(st: StreamTrack, w: TrackWrite): void {
    if (st.pending.length === 0) this.touched.push(st);
    st.pending.push(w);
  }

  /** Hands each touched track its frames (one write per track per read). */
  flush(): void {
    const touched = this.touched;
    if (touched.length === 0) return;
    for (let i = 0; i < touched.length; i++) {
      const st = touched[i];
      if (st.track && st.pending.length) {
        st.track.push(st.pending);
        this.pushed.push(st.track);
      }
      st.pending = [];
    }
    touched.length = 0;
  }

  /** A track that was pushed to and has no room left, or null (then the list starts over). */
  fullTrack(): KmpTrack | null {
    const pushed = this.pushed;
    for (let i = 0; i < pushed.length; i++) if (pushed[i].desiredSize <= 0) return pushed[i];
    pushed.length = 0;
    return null;
  }
}
