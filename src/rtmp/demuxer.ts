import { ChunkDecoder, type ChunkDecoderOptions, type RtmpMessage } from "./chunk-decoder.ts";

/**
 * The messages one socket read completed, in order, and their payload bytes. `error` is the
 * malformed input that ended the chunk stream after them (nothing more follows it).
 */
export type MessageBatch = { messages: RtmpMessage[]; bytes: number; error?: unknown };

/** Bytes counted per message beyond its payload (the message object itself). */
const MESSAGE_OVERHEAD = 64;

/**
 * RTMP chunk stream bytes in, one batch of reassembled messages per socket read out (the
 * handshake is already done): one stream hop per read, none per message. Both queues count
 * bytes — socket bytes on the writable side, payload bytes on the readable side — so what waits
 * here is bounded by `queueBytes` each (plus one read), whatever the message sizes.
 */
export class RtmpDemuxer extends TransformStream<Uint8Array, MessageBatch> {
  readonly decoder: ChunkDecoder;

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
    super(
      {
        transform(chunk, c) {
          if (failed) return;
          opts.onChunk?.(chunk.byteLength);
          let error: unknown;
          try {
            decoder.push(chunk);
          } catch (err) {
            failed = true;
            error = err;
          }
          // what was complete before an error is delivered first, with the error after it
          if (batch.length || failed) {
            c.enqueue(failed ? { messages: batch, bytes, error } : { messages: batch, bytes });
            batch = [];
            bytes = 0;
          }
        },
      },
      { highWaterMark: queueBytes, size: (c) => c.byteLength },
      { highWaterMark: queueBytes, size: (b) => b.bytes },
    );
    this.decoder = decoder;
  }
}
