import { encodeMediaInfo, FRAME_HEADER_SIZE, writeFrameHeader } from "./packets.ts";
import type { KmpFrame, MediaInfo } from "../media/types.ts";

/** One frame of a track, preceded by a new media info after a sequence header (spec §3.3). */
export type TrackWrite = { mediaInfo: MediaInfo | null; frame: KmpFrame };

/**
 * The KMP packets of one batch: per write its `minf` packet (or null) and its `fram` header —
 * views into one buffer per batch — followed by the frame data (a view, not copied here).
 */
export type KmpPackets = {
  writes: TrackWrite[];
  minf: (Uint8Array | null)[];
  headers: Uint8Array;
  /** Packet bytes in the batch (headers + data + media infos), for the queue sizes. */
  bytes: number;
};

/** Bytes one batch of writes becomes. */
export function batchBytes(writes: TrackWrite[]): number {
  let n = 0;
  for (const w of writes) n += FRAME_HEADER_SIZE + w.frame.data.byteLength + (w.mediaInfo ? 48 + w.mediaInfo.extraData.byteLength : 0);
  return n;
}

/**
 * The frames of a batch in, their KMP packets out (kmp.md §4-5): one header allocation per batch,
 * none per frame. Both queues count packet bytes.
 */
/** The packets of one batch (what KmpMuxer enqueues; also the track's synchronous fast path). */
export function muxBatch(writes: TrackWrite[]): KmpPackets {
  const headers = new Uint8Array(FRAME_HEADER_SIZE * writes.length);
  const view = new DataView(headers.buffer);
  const minf: (Uint8Array | null)[] = new Array(writes.length);
  let bytes = 0;
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    const mi = w.mediaInfo ? encodeMediaInfo(w.mediaInfo) : null;
    minf[i] = mi;
    writeFrameHeader(view, i * FRAME_HEADER_SIZE, w.frame);
    bytes += FRAME_HEADER_SIZE + w.frame.data.byteLength + (mi ? mi.byteLength : 0);
  }
  return { writes, minf, headers, bytes };
}

export class KmpMuxer extends TransformStream<TrackWrite[], KmpPackets> {
  constructor(queueBytes = 64 * 1024) {
    super(
      {
        transform(writes, c) {
          c.enqueue(muxBatch(writes));
        },
      },
      { highWaterMark: queueBytes, size: batchBytes },
      { highWaterMark: 0, size: (p) => p.bytes },
    );
  }
}
