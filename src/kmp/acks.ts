import { PACKET_FRAME, PACKET_MEDIA_INFO, type ByteLog } from "./byte-log.ts";
import { mutableField } from "../mutable-field.ts";

/** The receiver's last `ackf` as it sent it, echoed in the next `cnct` (kmp.md §3, §8). */
export type LastAck = { upstreamFrameId: bigint; offset: number };

/**
 * What one upstream has acknowledged in its track's log (spec §5.5): the frame id of the first
 * unacknowledged frame, the log offset and packet index where it starts, and the last `minf`
 * before it (re-sent first on reconnect). It survives reconnects; the walks only move it forward.
 */
export class AckPosition {
  /** The upstream's first frame id (the track's `initial_frame_id`, or its source's on a copy). */
  readonly initialFrameId: bigint;
  frameId: bigint;
  /** Absolute log offset / packet index of the first unacknowledged packet. */
  offset: number;
  packet: number;
  minf: Uint8Array | null;
  lastAck: LastAck = { upstreamFrameId: 0n, offset: 0 };
  /** Frames acknowledged without a receiver ack (resume modes, memory pressure). */
  autoAckedFrames = 0;

  constructor(o: { frameId: bigint; offset: number; packet: number; minf?: Uint8Array | null; lastAck?: LastAck }) {
    this.initialFrameId = o.frameId;
    this.frameId = o.frameId;
    this.offset = o.offset;
    this.packet = o.packet;
    this.minf = o.minf ?? null;
    if (o.lastAck) this.lastAck = { ...o.lastAck };
    // written late in its life (see mutableField)
    mutableField(this, "autoAckedFrames", 1);
  }

  /** A new upstream that starts where `src` is acknowledged (kmp-out API `src_id`). */
  static copyOf(src: AckPosition): AckPosition {
    return new AckPosition({ frameId: src.frameId, offset: src.offset, packet: src.packet, minf: src.minf, lastAck: src.lastAck });
  }

  /**
   * A receiver's `ackf` of frame `target` (kmp.md §8): walks packet by packet to it, never past
   * `limit` (what was handed to the socket). False when the limit comes first — an over-ack,
   * which leaves the position where it was.
   */
  walk(log: ByteLog, target: bigint, limit: number): boolean {
    let id = this.frameId;
    let p = this.packet;
    let off = this.offset;
    let minf = this.minf;
    while (id < target) {
      if (p >= log.packetCount) return false;
      const pOff = log.packetOff(p);
      const len = log.packetLen(p);
      if (pOff + len > limit) return false;
      const kind = log.packetKind(p);
      if (kind === PACKET_FRAME) id++;
      else if (kind === PACKET_MEDIA_INFO) minf = log.copy(pOff, pOff + len);
      p++;
      off = pOff + len;
    }
    this.frameId = id;
    this.packet = p;
    this.offset = off;
    this.minf = minf;
    return true;
  }

  /** Acknowledges every whole packet below `limit` without a receiver ack; returns the frames. */
  autoAck(log: ByteLog, limit: number): number {
    let frames = 0;
    let p = this.packet;
    while (p < log.packetCount) {
      const pOff = log.packetOff(p);
      const len = log.packetLen(p);
      if (pOff + len > limit) break;
      const kind = log.packetKind(p);
      if (kind === PACKET_FRAME) frames++;
      else if (kind === PACKET_MEDIA_INFO) this.minf = log.copy(pOff, pOff + len);
      p++;
      this.offset = pOff + len;
    }
    this.packet = p;
    this.frameId += BigInt(frames);
    this.autoAckedFrames += frames;
    return frames;
  }

  /**
   * `created` (timescale units) of the first frame not yet acknowledged, while the log still
   * holds it; null when everything written is acknowledged.
   */
  pendingCreated(log: ByteLog): number | null {
    for (let p = this.packet; p < log.packetCount; p++) {
      if (log.packetKind(p) !== PACKET_FRAME) continue;
      const off = log.packetOff(p) + 16; // kmp.md §5: the frame header's `created` after the packet header
      return Number(new DataView(log.copy(off, off + 8).buffer).getBigInt64(0, true));
    }
    return null;
  }

  /** Frames acknowledged since the track's first frame (API `acked_frames`). */
  framesSince(trackInitialFrameId: bigint): number {
    return Number(this.frameId - trackInitialFrameId);
  }
}
