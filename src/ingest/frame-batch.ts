import type { TrackWrite } from "../kmp/muxer.ts";
import type { KmpTrack } from "../kmp/track.ts";
import type { StreamTrack } from "./stream.ts";
import { objectList, objectTable } from "../object-list.ts";

/** Tracks a batch lists before its lists grow (a stream with audio, video and a few more). */
const TRACK_SLOTS = 8;

/**
 * The frames one socket read produced, per track, in order: each track that got frames is listed
 * once, so handing them on and checking for room touches only those tracks (no walk over every
 * stream and track of the session per read).
 */
export class FrameBatch {
  // lists reused from read to read with a count: `length = 0` would drop their storage (V8);
  // born with room for a few tracks, so the first reads of a session store within bounds as
  // every later read does (a growing store in code optimized without one is thrown away)
  private readonly touched: (StreamTrack | null | undefined)[] = objectTable(TRACK_SLOTS);
  private touchedCount = 0;
  /** Tracks handed frames by the last `flush` (only a push can fill a track's input). */
  private readonly pushed: (KmpTrack | null | undefined)[] = objectTable(TRACK_SLOTS);
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
      st.pending = objectList();
      touched[i] = null;
    }
    this.touchedCount = 0;
  }

  /** A track that was pushed to and has no room left, or null (then the list starts over). */
  fullTrack(): KmpTrack | null {
    const pushed = this.pushed;
    const n = this.pushedCount;
    for (let i = 0; i < n; i++) if (pushed[i]!.desiredSize <= 0) return pushed[i]!;
    for (let i = 0; i < n; i++) pushed[i] = null;
    this.pushedCount = 0;
    return null;
  }
}
