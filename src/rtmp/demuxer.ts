import { ChunkDecoder, type ChunkDecoderOptions, type RtmpMessage } from "./chunk-decoder.ts";

/** RTMP chunk stream bytes in, reassembled messages out (the handshake is already done). */
export class RtmpDemuxer extends TransformStream<Uint8Array, RtmpMessage> {
  readonly decoder: ChunkDecoder;

  constructor(opts: Omit<ChunkDecoderOptions, "onMessage"> = {}) {
    let sink: TransformStreamDefaultController<RtmpMessage> | null = null;
    const decoder = new ChunkDecoder({ ...opts, onMessage: (m) => sink!.enqueue(m) });
    super(
      {
        start(c) {
          sink = c;
        },
        transform(chunk) {
          decoder.push(chunk);
        },
      },
      { highWaterMark: 256 * 1024, size: (c) => c.byteLength },
      { highWaterMark: 64 },
    );
    this.decoder = decoder;
  }
}
