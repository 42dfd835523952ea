import { encodeFrame, encodeMediaInfo, EOST } from "./packets.ts";
import type { KmpFrame, MediaInfo } from "./types.ts";

export type MuxerInput = { kind: "media-info"; mediaInfo: MediaInfo } | { kind: "frame"; frame: KmpFrame } | { kind: "eost" };

/** Media infos and frames in, KMP packet bytes out (the same encoders the track's log uses). */
export class KmpMuxer extends TransformStream<MuxerInput, Uint8Array> {
  constructor() {
    super({
      transform(input, c) {
        switch (input.kind) {
          case "media-info":
            c.enqueue(encodeMediaInfo(input.mediaInfo));
            break;
          case "frame":
            c.enqueue(encodeFrame(input.frame));
            break;
          case "eost":
            c.enqueue(EOST);
            break;
        }
      },
    });
  }
}
