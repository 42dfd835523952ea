import { RtmpError } from "./errors.ts";
import type { Type3ExtTs } from "../config/types.ts";
import { objectList, objectTable } from "../object-list.ts";
import { mutableField } from "../mutable-field.ts";

/** One reassembled RTMP message. `payload` may be a view into socket bytes (owned by us). */
export type RtmpMessage = { csid: number; timestamp: number; type: number; msid: number; payload: Uint8Array };

export type ChunkDecoderOptions = {
  /** Message length limit (`max_message`, 1 MiB). */
  maxMessage?: number;
  /** Chunk stream id limit (`max_streams`, 32): csid ≥ it closes the session. */
  maxStreams?: number;
  /** `type3_ext_ts` (auto). */
  type3ExtTs?: Type3ExtTs;
  /** Where a message that spans chunks is reassembled (else a new array per message). */
  buffers?: MessageBuffers;
  /** Only a read at least this long (bytes) reassembles in `buffers` (0: every read). */
  lendFromRead?: number;
  /** Each message as it completes; without it they are collected until `collected()`. */
  onMessage?: (msg: RtmpMessage) => void;
};

/** Lends the buffers messages are reassembled in; whoever took a message's batch gives them back. */
export interface MessageBuffers {
  /** A buffer of at least `size` bytes (not cleared: the decoder writes all of a message first). */
  lend(size: number): Uint8Array;
  give(b: Uint8Array): void;
}

/** Per chunk stream state (spec §1.3). */
type ChunkStream = {
  timestamp: number; // of the current/last message
  delta: number;
  length: number;
  type: number;
  msid: number;
  ext: boolean;
  /** Bytes of the current message received so far; 0 = no partial message. */
  received: number;
  buf: Uint8Array | null;
  /** `buf` was lent (`MessageBuffers`): given back after the message's batch. */
  lent: boolean;
};

const MAX_HEADER = 18; // 3 basic + 11 message + 4 extended
const MAX_CHUNK_SIZE = 10_485_760;

const HEADER = 0;
const PAYLOAD = 1;

/**
 * Incoming chunk stream parser (spec §1.3): synchronous over whatever bytes the socket delivered,
 * no await per field; a message's payload is copied at most once (a message that arrives whole
 * inside one socket read is a zero-copy view).
 */
export class ChunkDecoder {
  readonly maxMessage: number;
  readonly maxStreams: number;
  private mode: Type3ExtTs;
  private detected: "on" | "off" | "unknown" = "unknown";
  private readonly onMessage: ((msg: RtmpMessage) => void) | null;
  /** The messages completed since `collected()` was last called (no `onMessage`). */
  private out: RtmpMessage[] = objectList();
  /** Their payload bytes. */
  private outBytes = 0;
  /** Payload bytes of the last `collected()`. */
  private lastBytes = 0;
  private readonly streams: (ChunkStream | undefined)[];
  private inChunkSize = 128;
  private state: number = HEADER;
  /** Header bytes carried over from the previous push (< MAX_HEADER). */
  private carry: Uint8Array | null = null;
  private cur: ChunkStream | null = null;
  private curCsid = 0;
  private chunkLeft = 0;
  /** Timestamp field (after extension) of the most recent message start, any csid (type-3 detection). */
  private lastStartTs = 0;
  private received = 0;
  private readonly buffers: MessageBuffers | null;
  private readonly lendFromRead: number;
  /** Lent buffers of the messages delivered since `delivered()` was last called. */
  private lent: Uint8Array[] = objectList();
  /** Buffers made or lent for message payloads (bench: allocations per message). */
  allocations = 0;
  messages = 0;

  constructor(opts: ChunkDecoderOptions) {
    this.maxMessage = opts.maxMessage ?? 1_048_576;
    this.maxStreams = opts.maxStreams ?? 32;
    this.mode = opts.type3ExtTs ?? "auto";
    this.onMessage = opts.onMessage ?? null;
    this.buffers = opts.buffers ?? null;
    this.lendFromRead = opts.lendFromRead ?? 0;
    // every chunk stream id a session may use has a slot (up to a table of 1024: a larger limit grows it)
    this.streams = objectTable(Math.min(this.maxStreams, 1024));
    // written only when a header spans two reads (see mutableField)
    mutableField(this, "carry", new Uint8Array(0));
  }

  /**
   * The lent buffers behind the messages delivered since the last call, to give back once no one
   * reads those messages any more (null: none).
   */
  delivered(): Uint8Array[] | null {
    if (this.lent.length === 0) return null;
    const out = this.lent;
    this.lent = objectList();
    return out;
  }

  /**
   * The messages completed since the last call, in order (an empty array when none), for a
   * decoder without `onMessage`; `collectedBytes` is their payload bytes until the next call.
   */
  collected(): RtmpMessage[] {
    const out = this.out;
    if (out.length === 0) return out;
    this.out = objectList();
    this.lastBytes = this.outBytes;
    this.outBytes = 0;
    return out;
  }

  /** Payload bytes of what the last `collected()` returned. */
  get collectedBytes(): number {
    return this.lastBytes;
  }

  /** One complete message: to `onMessage`, else collected (no per-session closure on this path). */
  private emit(msg: RtmpMessage): void {
    if (this.onMessage === null) {
      this.out.push(msg);
      this.outBytes += msg.payload.byteLength;
    } else this.onMessage(msg);
  }

  /** `type3_ext_ts` as the API shows it: on / off / unknown (still auto). */
  get type3ExtTs(): "on" | "off" | "unknown" {
    if (this.mode === "on") return "on";
    if (this.mode === "off") return "off";
    return this.detected;
  }

  /** Bytes received since the handshake (wraps to 0 at 0xF0000000 like the reference). */
  get bytesReceived(): number {
    return this.received;
  }

  get chunkSize(): number {
    return this.inChunkSize;
  }

  push(data: Uint8Array): void {
    this.received += data.byteLength;
    if (this.received >= 0xf000_0000) this.received -= 0xf000_0000;
    let pos = 0;
    const len = data.byteLength;
    while (pos < len) {
      if (this.state === HEADER) {
        let used: number;
        if (this.carry) {
          const need = Math.min(MAX_HEADER, this.carry.byteLength + (len - pos));
          const tmp = new Uint8Array(need);
          tmp.set(this.carry, 0);
          tmp.set(data.subarray(pos, pos + (need - this.carry.byteLength)), this.carry.byteLength);
          const n = this.parseHeader(tmp, 0, tmp.byteLength);
          if (n < 0) {
            this.carry = tmp.slice(0, this.carry.byteLength + (len - pos));
            return;
          }
          used = n - this.carry.byteLength;
          this.carry = null;
        } else {
          const n = this.parseHeader(data, pos, len);
          if (n < 0) {
            this.carry = data.slice(pos);
            return;
          }
          used = n;
        }
        pos += used;
        this.state = PAYLOAD;
        if (this.chunkLeft === 0) this.endChunk();
        continue;
      }
      // PAYLOAD
      const cs = this.cur!;
      const n = Math.min(this.chunkLeft, len - pos);
      if (cs.received === 0 && n === cs.length) {
        // whole message in one chunk and one read: zero-copy view
        cs.received = n;
        pos += n;
        this.chunkLeft = 0;
        this.deliver(cs, data.subarray(pos - n, pos));
        this.state = HEADER;
        continue;
      }
      if (cs.buf === null) {
        // a lent buffer only for a message this read completes (about: one header byte per
        // chunk), in a read long enough: one that waits for the next read has its own
        const rest = cs.length - cs.received;
        cs.lent = this.buffers !== null && len >= this.lendFromRead && len - pos >= rest + Math.ceil((rest - this.chunkLeft) / this.inChunkSize);
        cs.buf = cs.lent ? this.buffers!.lend(cs.length) : new Uint8Array(cs.length);
        this.allocations++;
      }
      cs.buf.set(data.subarray(pos, pos + n), cs.received);
      cs.received += n;
      pos += n;
      this.chunkLeft -= n;
      if (this.chunkLeft === 0) this.endChunk();
    }
  }

  private endChunk(): void {
    this.state = HEADER;
    const cs = this.cur!;
    if (cs.received >= cs.length) {
      const buf = cs.buf;
      cs.buf = null;
      if (buf === null) return this.deliver(cs, new Uint8Array(0));
      if (!cs.lent) return this.deliver(cs, buf);
      this.lent.push(buf);
      this.deliver(cs, buf.subarray(0, cs.length));
    }
  }

  private deliver(cs: ChunkStream, payload: Uint8Array): void {
    cs.received = 0;
    cs.buf = null;
    this.messages++;
    const msg: RtmpMessage = { csid: this.curCsid, timestamp: cs.timestamp, type: cs.type, msid: cs.msid, payload };
    if (msg.type === 1) {
      if (payload.byteLength >= 4) {
        const v = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
        if (v >= 1 && v <= MAX_CHUNK_SIZE) this.inChunkSize = v;
      }
      this.emit(msg);
      return;
    }
    if (msg.type === 22) {
      this.splitAggregate(msg);
      return;
    }
    this.emit(msg);
  }

  /**
   * Parses a basic + message header (+ extended timestamp) at `b[off..end)`. Returns the bytes
   * consumed, or -1 if the header is incomplete (nothing is changed then).
   */
  private parseHeader(b: Uint8Array, off: number, end: number): number {
    const start = off;
    if (off >= end) return -1;
    const b0 = b[off++];
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    if (csid === 0) {
      if (off + 1 > end) return -1;
      csid = 64 + b[off++];
    } else if (csid === 1) {
      if (off + 2 > end) return -1;
      csid = 64 + b[off] + 256 * b[off + 1];
      off += 2;
    }
    const hlen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (off + hlen > end) return -1;
    if (csid >= this.maxStreams) {
      throw new RtmpError("RTMP_ERR_CSID_LIMIT", `chunk stream id ${csid} exceeds max_streams ${this.maxStreams}`);
    }
    let cs = this.streams[csid];
    const fresh = cs === undefined;
    if (!cs) cs = { timestamp: 0, delta: 0, length: 0, type: 0, msid: 0, ext: false, received: 0, buf: null, lent: false };
    let field = cs.delta;
    let ext = cs.ext;
    let length = cs.length;
    let type = cs.type;
    let msid = cs.msid;
    if (fmt <= 2) {
      field = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
      ext = field === 0xffffff;
      if (fmt <= 1) {
        length = (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5];
        type = b[off + 6];
        if (fmt === 0) msid = (b[off + 7] | (b[off + 8] << 8) | (b[off + 9] << 16) | (b[off + 10] << 24)) >>> 0;
      }
      off += hlen;
      if (ext) {
        if (off + 4 > end) return -1;
        field = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
        off += 4;
      }
    } else if (ext && this.type3ExtTs !== "off") {
      // type-3 chunk on a chunk stream that started with an extended timestamp
      if (off + 4 > end) return -1;
      const v = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
      if (this.mode === "on" || this.detected === "on") {
        field = v;
        off += 4;
      } else if (v === this.lastStartTs) {
        this.detected = "on";
        field = v;
        off += 4;
      } else {
        this.detected = "off"; // the 4 bytes are payload: put them back
        ext = false;
      }
    } else if (fmt === 3) {
      ext = false;
    }
    if (fresh) this.streams[csid] = cs;
    if (cs.received === 0) {
      // this chunk starts a new message
      if (length > this.maxMessage) {
        throw new RtmpError("RTMP_ERR_MESSAGE_TOO_LARGE", `message length ${length} exceeds max_message ${this.maxMessage}`);
      }
      cs.ext = ext && this.mode !== "off" && this.detected !== "off";
      if (fmt === 0) {
        cs.timestamp = field;
        cs.delta = 0;
      } else {
        cs.delta = field;
        cs.timestamp = (cs.timestamp + field) >>> 0;
      }
      this.lastStartTs = field;
      cs.length = length;
      cs.type = type;
      cs.msid = msid;
    } else if (fmt <= 1 && length !== cs.length) {
      throw new RtmpError("RTMP_ERR_LENGTH_CHANGED", `message length changed from ${cs.length} to ${length} mid-message on chunk stream ${csid}`);
    }
    this.cur = cs;
    this.curCsid = csid;
    this.chunkLeft = Math.min(this.inChunkSize, cs.length - cs.received);
    return off - start;
  }

  /** Aggregate message (type 22): sub-messages with rebased timestamps (spec §1.3). */
  private splitAggregate(agg: RtmpMessage): void {
    const p = agg.payload;
    let off = 0;
    let first = -1;
    while (off < p.byteLength) {
      if (off + 11 > p.byteLength) {
        throw new RtmpError("RTMP_ERR_BAD_AGGREGATE", `aggregate truncated inside a sub-message header at ${off}/${p.byteLength}`);
      }
      const type = p[off];
      const len = (p[off + 1] << 16) | (p[off + 2] << 8) | p[off + 3];
      const ts = (((p[off + 7] << 24) | (p[off + 4] << 16) | (p[off + 5] << 8) | p[off + 6]) >>> 0);
      const msid = (p[off + 8] << 16) | (p[off + 9] << 8) | p[off + 10];
      const dataStart = off + 11;
      // data ending exactly at the payload end (no previous-tag-size) counts as truncated, like the reference
      if (dataStart + len >= p.byteLength) {
        throw new RtmpError("RTMP_ERR_BAD_AGGREGATE", `aggregate sub-message of ${len} bytes at ${off} overruns the ${p.byteLength}-byte payload`);
      }
      if (first < 0) first = ts;
      this.emit({
        csid: agg.csid,
        timestamp: (agg.timestamp + ts - first) >>> 0,
        type,
        msid,
        payload: p.subarray(dataStart, dataStart + len),
      });
      off = dataStart + len + 4; // previous-tag-size; a truncated one ends parsing normally
    }
  }
}
