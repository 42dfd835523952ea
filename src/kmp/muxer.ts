import { encodeMediaInfo, FRAME_HEADER_SIZE, MEDIA_INFO_HEADER_SIZE, writeFrameHeader } from "./packets.ts";
import type { KmpFrame, MediaInfo } from "../media/types.ts";
import { mutableField } from "../mutable-field.ts";

/** One frame of a track, preceded by a new media info after a sequence header (spec §3.3). */
export type TrackWrite = { mediaInfo: MediaInfo | null; frame: KmpFrame };

/**
 * The KMP packets of one batch: per write its `minf` packet (or null) and its `fram` header —
 * 40-byte views into one buffer — followed by the frame data (a view, not copied here).
 */
export type KmpPackets = {
  writes: TrackWrite[];
  /** Per write its `minf` packet or null; empty when no write has one. */
  minf: readonly (Uint8Array | null)[];
  /** Per write its `fram` header (the list may be longer than `writes`: a reused scratch). */
  headers: Uint8Array[];
  /** Packet bytes in the batch (headers + data + media infos), for the queue sizes. */
  bytes: number;
};

/** Where a muxer's packets go (a track's log). */
export interface PacketSink {
  /**
   * Appends `p.writes[from…]` until the sink is full; returns the index it stopped at. `room`:
   * what `room()` just answered (not asked again).
   */
  append(p: KmpPackets, from: number, room?: number): number;
  /** Bytes the sink takes now before it is full (≤ 0: congested). */
  room(): number;
  /** Resolves once the sink has room again, or can take nothing more (ended, failed). */
  whenRoom(): Promise<void>;
}

/** Bytes one batch of writes becomes. */
export function batchBytes(writes: TrackWrite[]): number {
  let n = 0;
  for (const w of writes) n += FRAME_HEADER_SIZE + w.frame.data.byteLength + (w.mediaInfo ? MEDIA_INFO_HEADER_SIZE + w.mediaInfo.extraData.byteLength : 0);
  return n;
}

/**
 * Frame headers in one buffer with a 40-byte view per slot, made once: no view is created per
 * frame. A muxer reuses one from batch to batch on its direct path (the sink copies the headers
 * at once).
 */
export class HeaderScratch {
  headers: Uint8Array[] = [];
  view = new DataView(new ArrayBuffer(0));

  /**
   * Room for `n` frame headers (grows, never shrinks). `spare`: room to grow into, for a scratch
   * kept from batch to batch; without it exactly `n` slots (a batch's own headers).
   */
  fit(n: number, spare = true): void {
    if (this.headers.length >= n) return;
    const slots = spare ? Math.max(n, 2 * this.headers.length, 4) : n;
    // the buffer first: asking a typed array for its `.buffer` makes JavaScriptCore move its storage
    const buf = new ArrayBuffer(FRAME_HEADER_SIZE * slots);
    this.view = new DataView(buf);
    this.headers = new Array<Uint8Array>(slots);
    for (let i = 0; i < slots; i++) this.headers[i] = new Uint8Array(buf, i * FRAME_HEADER_SIZE, FRAME_HEADER_SIZE);
  }
}

const NO_MINF: readonly (Uint8Array | null)[] = Object.freeze([]);

/**
 * The muxer's transform (kmp.md §4-5): the frames of a batch in, their KMP packets out, with one
 * header buffer per batch (none with a `scratch`, whose headers the caller consumes before the
 * next batch) and no allocation per frame. `minf` is empty when no write carries a media info.
 */
export function muxBatch(writes: TrackWrite[], scratch?: HeaderScratch): KmpPackets {
  const h = scratch ?? new HeaderScratch();
  h.fit(writes.length, scratch !== undefined);
  const view = h.view;
  let minf: (Uint8Array | null)[] | null = null;
  let bytes = 0;
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    if (w.mediaInfo) {
      minf ??= new Array<Uint8Array | null>(writes.length).fill(null);
      const mi = encodeMediaInfo(w.mediaInfo);
      minf[i] = mi;
      bytes += mi.byteLength;
    }
    writeFrameHeader(view, i * FRAME_HEADER_SIZE, w.frame);
    bytes += FRAME_HEADER_SIZE + w.frame.data.byteLength;
  }
  return { writes, minf: minf ?? NO_MINF, headers: h.headers, bytes };
}

/**
 * A track's KMP muxer: a `TransformStream` of frame batches into packet batches (`muxBatch`),
 * piped into its sink (the track's log) through a `WritableStream` whose high-water mark is
 * `sinkBytes`. Both queues count bytes.
 *
 * `push` is the stage's entry: while nothing is queued and the sink has room it runs the same
 * transform at once and hands the packets straight to the sink — no stream hop, no promise. Once
 * the sink is full the rest of the batch, and every batch after it, is written into the stream,
 * which queues them in order and hands them on as the sink drains; `desiredSize` and `ready` are
 * the stream's, so the caller stops reading when the queues are full. The stream (its queues, the
 * pipe into the sink) is built the first time a batch has to wait, so a track that keeps up holds
 * none of it.
 */
export class KmpMuxer implements TransformStream<TrackWrite[], KmpPackets> {
  private readonly sink: PacketSink;
  private readonly sinkBytes: number;
  private readonly queueBytes: number;
  private stream: TransformStream<TrackWrite[], KmpPackets> | null = null;
  private input: WritableStreamDefaultWriter<TrackWrite[]> | null = null;
  private pipe: Promise<void> | null = null;
  /** Batches in the stream and not yet in the sink. */
  private queued = 0;
  private closing = false;
  private readonly scratch: HeaderScratch;

  /**
   * `scratch`: the header scratch of the direct path; the server's tracks share one (a batch's
   * headers are copied into the sink before `push` returns, and nothing pushes from inside a
   * sink's append).
   */
  constructor(sink: PacketSink, o: { sinkBytes: number; queueBytes?: number; scratch: HeaderScratch }) {
    this.sink = sink;
    this.scratch = o.scratch;
    this.sinkBytes = o.sinkBytes;
    this.queueBytes = o.queueBytes ?? 64 * 1024;
    // written late in its life (see mutableField)
    mutableField(this, "closing", true);
  }

  get readable(): ReadableStream<KmpPackets> {
    return this.transform().readable;
  }

  get writable(): WritableStream<TrackWrite[]> {
    return this.transform().writable;
  }

  /** Settles once the sink took the last batch after `close`, or the stream failed. */
  get drained(): Promise<void> {
    return this.pipe ?? Promise.resolve();
  }

  /** The stream, built at its first use: the transform, and the pipe of its output into the sink. */
  private transform(): TransformStream<TrackWrite[], KmpPackets> {
    if (this.stream) return this.stream;
    const stream = new TransformStream<TrackWrite[], KmpPackets>(
      {
        transform(writes, c) {
          c.enqueue(muxBatch(writes));
        },
      },
      { highWaterMark: this.queueBytes, size: batchBytes },
      { highWaterMark: 0, size: (p) => p.bytes },
    );
    const out = new WritableStream<KmpPackets>(
      {
        write: (p) => {
          const waiting = this.appendAll(p, 0);
          if (!waiting) {
            this.queued--;
            return;
          }
          return waiting.then(() => void this.queued--);
        },
      },
      { highWaterMark: Math.max(1, this.sinkBytes), size: (p) => p.bytes },
    );
    this.stream = stream;
    this.pipe = stream.readable.pipeTo(out).catch(() => {});
    return stream;
  }

  /** One batch of frames, in order after every batch before it. */
  push(writes: TrackWrite[]): void {
    if (this.closing) return; // closed or aborted: nothing more goes in
    const room = this.queued === 0 ? this.sink.room() : 0;
    if (room > 0) {
      let next = writes.length;
      try {
        next = this.sink.append(muxBatch(writes, this.scratch), 0, room);
      } catch { /* the sink failed (its owner ends the session); the batch goes nowhere */ }
      if (next === writes.length) return;
      writes = writes.slice(next); // full mid-batch: the rest queues, and everything after it
    }
    // what waits is a copy: a frame's data may be a view of a read the socket lent (`BatchTaker.take`)
    for (const w of writes) w.frame.data = w.frame.data.slice();
    this.input ??= this.transform().writable.getWriter();
    this.queued++;
    this.input.write(writes).catch(() => {}); // a failed write already failed the sink's owner
  }

  /** Appends one queued batch, waiting for room between frames; no promise unless it waits. */
  private appendAll(p: KmpPackets, from: number): Promise<void> | undefined {
    const next = this.sink.append(p, from);
    if (next === p.writes.length) return undefined;
    return this.sink.whenRoom().then(() => this.appendAll(p, next));
  }

  /** Room left in the input queue (bytes); ≤ 0 means wait for `ready`. Null once errored. */
  get desiredSize(): number | null {
    // nothing in the stream: its whole queue is free (no call into the stream machinery)
    if (this.queued === 0 && !this.closing) return this.queueBytes;
    return this.input ? this.input.desiredSize : 0;
  }

  /** Resolves when the input has room again (or failed). */
  get ready(): Promise<void> {
    return this.input ? this.input.ready.catch(() => {}) : Promise.resolve();
  }

  /** No more batches: `drained` settles once the sink took the last one. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.input?.close().catch(() => {});
  }

  /** Drops what is queued (hard stop). */
  abort(): void {
    this.closing = true;
    this.input?.abort().catch(() => {});
  }
}
