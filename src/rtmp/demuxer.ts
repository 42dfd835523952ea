import type { ByteSink } from "../runtime/types.ts";
import { ChunkDecoder, type ChunkDecoderOptions, type RtmpMessage } from "./chunk-decoder.ts";

/**
 * The messages one socket read completed, in order, and their payload bytes. `error` is the
 * malformed input that ended the chunk stream after them (nothing more follows it).
 */
export type MessageBatch = { messages: RtmpMessage[]; bytes: number; error?: unknown };

/** Who takes the demuxer's batches at once, when it can (`RtmpDemuxer.input`). */
export interface BatchTaker {
  /** Not busy with an earlier batch: `take` may be called now. */
  readonly free: boolean;
  /** One batch, synchronously, in order after every batch before it. */
  take(batch: MessageBatch): void;
}

/** Bytes counted per message beyond its payload (the message object itself). */
const MESSAGE_OVERHEAD = 64;

/**
 * RTMP chunk stream bytes in, one batch of reassembled messages per socket read out (the
 * handshake is already done): one stream hop per read, none per message. Both queues count
 * bytes — socket bytes on the writable side, payload bytes on the readable side — so what waits
 * here is bounded by `queueBytes` each (plus one read), whatever the message sizes.
 *
 * `input(taker)` is the stage's entry for a socket (`Conn.pipeInto`): while nothing waits in the
 * stream and the taker is free, a read is decoded by the same transform at once and its batch
 * handed to the taker — no stream hop, no promise. Otherwise the read is written into the stream,
 * which queues it behind what is there; the taker reads those batches from `readable` and calls
 * `taken()` after each, so a later read never overtakes them.
 */
export class RtmpDemuxer extends TransformStream<Uint8Array, MessageBatch> {
  readonly decoder: ChunkDecoder;
  /** Reads written into the stream and not yet decoded. */
  private inStream = 0;
  /** Batches the stream produced that the reader has not yet `taken()`. */
  private outStream = 0;
  private readonly decode: (chunk: Uint8Array) => MessageBatch | null;
  private readonly queueBytes: number;

  constructor(opts: Omit<ChunkDecoderOptions, "onMessage"> & { queueBytes?: number; onChunk?: (bytes: number) => void } = {}) {
    let batch: RtmpMessage[] = [];
    let bytes = 0;
    const decoder = new ChunkDecoder({
      ...opts,
      onMessage: (m) => {
        batch.push(m);
        bytes += m.payload.byteLength + MESSAGE_OVERHEAD;
      },
    });
    const queueBytes = opts.queueBytes ?? 256 * 1024;
    let failed = false;
    const decode = (chunk: Uint8Array): MessageBatch | null => {
      if (failed) return null;
      opts.onChunk?.(chunk.byteLength);
      let error: unknown;
      try {
        decoder.push(chunk);
      } catch (err) {
        failed = true;
        error = err;
      }
      // what was complete before an error is delivered first, with the error after it
      if (!batch.length && !failed) return null;
      const out: MessageBatch = failed ? { messages: batch, bytes, error } : { messages: batch, bytes };
      batch = [];
      bytes = 0;
      return out;
    };
    let self: RtmpDemuxer | undefined;
    super(
      {
        transform(chunk, c) {
          if (self && self.inStream > 0) self.inStream--;
          const out = decode(chunk);
          if (!out) return;
          if (self) self.outStream++;
          c.enqueue(out);
        },
      },
      { highWaterMark: queueBytes, size: (c) => c.byteLength },
      { highWaterMark: queueBytes, size: (b) => b.bytes },
    );
    self = this;
    this.decoder = decoder;
    this.decode = decode;
    this.queueBytes = queueBytes;
  }

  /** The reader of `readable` is done with one batch of it (see `input`). */
  taken(): void {
    if (this.outStream > 0) this.outStream--;
  }

  /** The stage's entry for one socket: each read to `taker` at once when it can, else into the stream. */
  input(taker: BatchTaker): ByteSink {
    const w = this.writable.getWriter();
    const idle = (): boolean => this.inStream === 0 && this.outStream === 0;
    const queueBytes = this.queueBytes;
    return {
      write: (chunk) => {
        if (idle() && taker.free) {
          const b = this.decode(chunk);
          if (b) taker.take(b);
          return undefined;
        }
        this.inStream++;
        return w.write(chunk);
      },
      // nothing in the stream: its whole queue is free (no call into the stream machinery)
      get desiredSize() {
        return idle() ? queueBytes : w.desiredSize;
      },
      get ready() {
        return w.ready;
      },
      close: () => w.close(),
      abort: (reason) => w.abort(reason),
    };
  }
}
