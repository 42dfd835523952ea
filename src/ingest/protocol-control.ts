import type { RtmpMessage } from "../rtmp/chunk-decoder.ts";
import * as out from "../rtmp/messages.ts";
import { MSG, UC } from "../rtmp/protocol.ts";

const u32be = (p: Uint8Array, o: number) => ((p[o] << 24) | (p[o + 1] << 16) | (p[o + 2] << 8) | p[o + 3]) >>> 0;

/**
 * RTMP protocol control (spec §1.4-1.5): the client's window acknowledgement size, which the
 * server acknowledges received bytes against, and ping requests, answered. Set Chunk Size and
 * Abort are applied by the chunk decoder; Acknowledgement and Set Peer Bandwidth need nothing.
 */
export class ProtocolControl {
  private readonly send: (bytes: Uint8Array) => void;
  private ackWindow = 0;
  private lastAckBytes = 0;

  constructor(send: (bytes: Uint8Array) => void) {
    this.send = send;
  }

  onMessage(msg: RtmpMessage): void {
    const p = msg.payload;
    if (msg.type === MSG.WINDOW_ACK_SIZE) {
      if (p.byteLength >= 4) this.ackWindow = u32be(p, 0);
    } else if (msg.type === MSG.USER_CONTROL) {
      if (p.byteLength >= 6 && ((p[0] << 8) | p[1]) === UC.PING_REQUEST) this.send(out.pingResponse(u32be(p, 2)));
    }
  }

  /** After each read: an Acknowledgement once a window's worth of bytes came since the last. */
  received(bytes: number): void {
    if (this.ackWindow <= 0 || bytes - this.lastAckBytes < this.ackWindow) return;
    this.lastAckBytes = bytes;
    this.send(out.ack(bytes >>> 0));
  }
}
