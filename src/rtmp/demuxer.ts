import type { ByteSink } from "../runtime/types.ts";
import { ChunkDecoder, type ChunkDecoderOptions, type MessageBuffers, type RtmpMessage } from "./chunk-decoder.ts";

/**
 * The messages one socket read completed, in order, and their payload bytes. `error` is the
 * malformed input that ended the chunk stream after them (nothing more follows it). `lent`: the
 * reassembly buffers behind some of the payloads, which the demuxer gives back once the batch
 * was taken.
 */
export type MessageBatch = { messages: RtmpMessage[]; bytes: number; error?: unknown; lent?: Uint8Array[] | null };

/** Who takes the demuxer's batches (`RtmpDemuxer.input`). */
export interface BatchTaker {
  /** Not busy with an earlier batch: `take` may be called now. */
  readonly free: boolean;
  /**
   * One batch, synchronously, in order after every batch before it; may leave the taker busy.
   * The payloads may be views of a read the socket lent (`ByteSink.borrows`) or of a reassembly
   * buffer the demuxer lent (`MessageBuffers`): they are valid until `take` returns, and a taker
   * that keeps a message longer copies its payload first.
   */
  take(batch: MessageBatch): void;
  /** Settles once the taker is free again. */
  whenFree(): Promise<void>;
}

/** Bytes counted per message beyond its payload (the message object itself). */
const MESSAGE_OVERHEAD = 64;

/** Counts the socket bytes read (the session's statistics). */
export interface ReadCounter {
  countIn(bytes: number): void;
}

/**
 * RTMP chunk stream bytes in, one batch of reassembled messages per socket read out (the
 * handshake is already done): a `TransformStream` (`readable`/`writable`), one stream hop per
 * read and none per message. Both queues count bytes — socket bytes on the writable side,
 * payload bytes on the readable side — so what waits here is bounded by `queueBytes` each (plus
 * one read), whatever the message sizes.
 *
 * `input(taker)` is the stage's entry for a socket (`Conn.pipeInto`): while nothing waits in the
 * stream and the taker is free, a read is decoded by the same transform at once and its batch
 * handed to the taker — no stream hop, no promise. Otherwise the read is written into the stream,
 * which queues it behind what is there (a copy: the entry `borrows` the socket's reads), and the
 * batches it produces go to the taker in order as it frees up. The stream (and its queues) is
 * built the first time a read has to wait, so an idle or keeping-up session holds none of it.
 *
 * The frame path calls methods every session shares (no closure per session): optimized code
 * specialized on one session's closures is thrown away when that session ends.
 */
export class RtmpDemuxer implements TransformStream<Uint8Array, MessageBatch> {
  readonly decoder: ChunkDecoder;
  /** High-water mark of each of the stream's queues (bytes). */
  readonly queueBytes: number;
  private readonly buffers: MessageBuffers | null;
  private readonly counter: ReadCounter | null;
  private failed = false;
  private stream: TransformStream<Uint8Array, MessageBatch> | null = null;
  /** Reads written into the stream and not yet decoded. */
  private inStream = 0;
  /** Batches the stream produced and not yet handed to the taker. */
  private outStream = 0;

  constructor(opts: Omit<ChunkDecoderOptions, "onMessage"> & { queueBytes?: number; counter?: ReadCounter } = {}) {
    this.decoder = new ChunkDecoder(opts);
    this.queueBytes = opts.queueBytes ?? 256 * 1024;
    this.buffers = opts.buffers ?? null;
    this.counter = opts.counter ?? null;
  }

  /** One read decoded by the stage's transform: its batch, or null (nothing complete). */
  decode(chunk: Uint8Array): MessageBatch | null {
    if (this.failed) return null;
    this.counter?.countIn(chunk.byteLength);
    const decoder = this.decoder;
    let error: unknown;
    try {
      decoder.push(chunk);
    } catch (err) {
      this.failed = true;
      error = err;
    }
    // what was complete before an error is delivered first, with the error after it
    const messages = decoder.collected();
    if (!messages.length && !this.failed) return null;
    const bytes = messages.length ? decoder.collectedBytes + MESSAGE_OVERHEAD * messages.length : 0;
    const lent = decoder.delivered();
    return this.failed ? { messages, bytes, error, lent } : { messages, bytes, lent };
  }

  get readable(): ReadableStream<MessageBatch> {
    return this.transform().readable;
  }

  get writable(): WritableStream<Uint8Array> {
    return this.transform().writable;
  }

  private transform(): TransformStream<Uint8Array, MessageBatch> {
    if (this.stream) return this.stream;
    this.stream = new TransformStream<Uint8Array, MessageBatch>(
      {
        // the counters serve `input` (a plain pipeThrough never reads them)
        transform: (chunk, c) => {
          if (this.inStream > 0) this.inStream--;
          const out = this.decode(chunk);
          if (!out) return;
          this.outStream++;
          c.enqueue(out);
        },
      },
      { highWaterMark: this.queueBytes, size: (c) => c.byteLength },
      { highWaterMark: this.queueBytes, size: (b) => b.bytes },
    );
    return this.stream;
  }

  /**
   * The stage's entry for one socket: each read to `taker` at once when it can, else through the
   * stream. `done` settles once the input closed and every batch was handed over (after the
   * last `take` freed the taker), and rejects with what aborted the input.
   */
  input(taker: BatchTaker): { sink: ByteSink; done: Promise<void> } {
    const sink = new DemuxerEntry(this, taker);
    return { sink, done: sink.done };
  }

  /** One batch to the taker; then the buffers it lent are given back (`BatchTaker.take`). */
  handOver(taker: BatchTaker, batch: MessageBatch): void {
    taker.take(batch);
    const lent = batch.lent;
    if (!lent) return;
    batch.lent = null;
    for (let i = 0; i < lent.length; i++) this.buffers!.give(lent[i]);
  }

  /** Nothing written into the stream is still in it (or on its way to the taker). */
  get idle(): boolean {
    return this.inStream === 0 && this.outStream === 0;
  }

  /** A read that has to wait: into the stream, behind what is there, as a copy (the read may be lent). */
  queue(w: WritableStreamDefaultWriter<Uint8Array>, chunk: Uint8Array): Promise<void> {
    this.inStream++;
    return w.write(chunk.slice());
  }

  /** The stream's writer for `taker`, and the loop that hands its batches on (`drained`). */
  openStream(taker: BatchTaker): { w: WritableStreamDefaultWriter<Uint8Array>; drained: Promise<void> } {
    const s = this.transform();
    return { w: s.writable.getWriter(), drained: this.handOn(s.readable, taker) };
  }

  /** The batches that queued in the stream, to the taker in order, each once it is free. */
  private async handOn(readable: ReadableStream<MessageBatch>, taker: BatchTaker): Promise<void> {
    const r = readable.getReader();
    try {
      for (;;) {
        const { value, done } = await r.read();
        if (done) return;
        if (!taker.free) await taker.whenFree();
        this.outStream--;
        this.handOver(taker, value);
      }
    } catch {
      // aborted: `done` already rejected with the reason
    } finally {
      r.releaseLock();
    }
  }
}

/**
 * `RtmpDemuxer.input`'s entry (a class, so that every session's entry shares one shape: a reader
 * asks its `desiredSize` per read). The first read that has to wait builds the stream.
 */
class DemuxerEntry implements ByteSink {
  readonly done: Promise<void>;
  /** A read is decoded before `write` returns, or copied into the stream: it may be lent. */
  readonly borrows = true;
  private readonly demuxer: RtmpDemuxer;
  private readonly taker: BatchTaker;
  private w: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private drained: Promise<void> | null = null;
  private end!: (err?: unknown) => void;

  constructor(demuxer: RtmpDemuxer, taker: BatchTaker) {
    this.demuxer = demuxer;
    this.taker = taker;
    this.done = new Promise<void>((resolve, reject) => {
      this.end = (err) => (err === undefined ? resolve() : reject(err));
    });
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    const d = this.demuxer;
    if ((!this.w || d.idle) && this.taker.free) {
      const b = d.decode(chunk);
      if (b) d.handOver(this.taker, b);
      return undefined;
    }
    if (!this.w) ({ w: this.w, drained: this.drained } = d.openStream(this.taker));
    return d.queue(this.w, chunk);
  }

  /** Nothing in the stream: its whole queue is free (no call into the stream machinery). */
  get desiredSize(): number | null {
    return !this.w || this.demuxer.idle ? this.demuxer.queueBytes : this.w.desiredSize;
  }

  get ready(): Promise<void> {
    return this.w ? this.w.ready : Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.w) {
      await this.w.close();
      await this.drained;
    }
    await this.taker.whenFree();
    this.end();
  }

  async abort(reason?: unknown): Promise<void> {
    this.end(reason ?? new Error("input aborted"));
    if (this.w) await this.w.abort(reason);
  }
}
