import type { TrackWrite } from "../kmp/muxer.ts";
import type { KmpTrack } from "../kmp/track.ts";
import type { StreamTrack } from "./stream.ts";

/**
 * The frames one socket read produced, per track, in order: each track that got frames is listed
 * once, so handing them on and checking for room touches only those tracks (no walk over every
 * stream and track of the session per read).
 */
export class FrameBatch {
  // lists reused from read to read with a count: `length = 0` would drop their storage (V8)
  private readonly touched: (StreamTrack | null)[] = [];
  private touchedCount = 0;
  /** Tracks handed frames by the last `flush` (only a push can fill a track's input). */
  private readonly pushed: (KmpTrack | null)[] = [];
  private pushedCount = 0;

  /** A frame for `st`, handed to its track at the next `flush`. */
  add(st: StreamTrack, w: TrackWrite): void {
    if (st.pending.length === 0) this.touched[this.touchedCount++] = st;
    st.pending.push(w);
  }

  /** Hands each touched track its frames (one write per track per read). */
  flush(): void {
    const touched = this.touched;
    const n = this.touchedCount;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      const st = touched[i]!;
      if (st.track && st.pending.length) {
        st.track.push(st.pending);
        this.pushed[this.pushedCount++] = st.track;
      }
      st.pending = [];
      touched[i] = null;
    }
    this.touchedCount = 0;
  }

  /** A track that was pushed to and has no room left, or null (then the list starts over). */
  fullTrack(): KmpTrack | null {
    const pushed = this.pushed;
    const n = this.pushedCount;
    for (let i = 0; i < n; i++) if (pushed[i]!.desiredSize <= 0) return pushed[i];
    for (let i = 0; i < n; i++) pushed[i] = null;
    this.pushedCount = 0;
    return null;
  }
}
