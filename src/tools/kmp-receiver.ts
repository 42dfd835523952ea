import { createHash } from "node:crypto";
import { mkdir, writeFile, appendFile } from "node:fs/promises";
import { join } from "node:path";
import { concat } from "../bytes/bytes.ts";
import { encodeAck, KMP } from "../kmp/packets.ts";
import { Waiters } from "./waiters.ts";
import type { Logger } from "../log/logger.ts";
import type { Conn, Listener, Runtime } from "../runtime/types.ts";

/**
 * A KMP receiver that acks like the fixtures' sink (fixtures README §1.3): after every
 * `ackEvery` frames it sends `ackf(frame_id = initial + received)`, and on `eost` a final ack,
 * then closes (unless `keepOpenOnEos`). Optionally records each connection to
 * `<dir>/<channel>_<track>_c<k>.kmp` plus a per-packet text dump `….txt`.
 */
export type KmpReceiverOptions = {
  runtime: Runtime;
  hostname?: string;
  port?: number;
  ackEvery?: number; // 0 = never ack
  keepOpenOnEos?: boolean;
  /** Close the first connection of each track after this many frames (fault injection). */
  closeAfter?: number;
  /** After frame N, ack initial + N + 1000 (fault injection). */
  badAckAt?: number;
  /** After frame N of every connection, send 40 bytes that are not an ack (fault injection). */
  garbageAt?: number;
  dir?: string | null;
  /** false: count frames and bytes and ack, but keep no packet (long runs, benches). Default true. */
  keepPackets?: boolean;
  log?: Logger;
};

export type ReceivedPacket = {
  type: string;
  headerSize: number;
  dataSize: number;
  header: Uint8Array;
  data: Uint8Array;
};

export type ReceivedConnection = {
  channelId: string;
  trackId: string;
  index: number; // k: 1, 2, … per channel/track
  initialFrameId: bigint;
  initialUpstreamFrameId: bigint;
  initialOffset: number;
  packets: ReceivedPacket[];
  bytes: number;
  frames: number;
  eos: boolean;
  closed: boolean;
  /** Who closed: the sender (EOF/reset seen) or us. */
  closedBy: "sender" | "receiver" | null;
  acks: { frameId: bigint; upstreamFrameId: bigint; offset: number }[];
};

const EMPTY = new Uint8Array(0);

/** Packet type → its four letters (`cnct`, `minf`, …), from the KMP constants. */
const TYPES: Record<number, string> = Object.fromEntries(
  Object.values(KMP).map((t) => [t, String.fromCharCode(t & 0xff, (t >> 8) & 0xff, (t >> 16) & 0xff, t >>> 24)]),
);

function cstr(b: Uint8Array): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  return new TextDecoder().decode(b.subarray(0, end));
}

/** One text line per packet, like the fixtures' kmp/*.txt dumps. */
export function describePacket(p: ReceivedPacket, offset: number, frameIndex: number, initialFrameId: bigint): string {
  const v = new DataView(p.header.buffer, p.header.byteOffset, p.header.byteLength);
  const md5 = createHash("md5").update(p.data).digest("hex");
  const base = `offset=${offset} type=${p.type} header_size=${p.headerSize} data_size=${p.dataSize}`;
  switch (p.type) {
    case "cnct":
      return `${base} channel_id=${cstr(p.header.subarray(16, 48))} track_id=${cstr(p.header.subarray(48, 80))} initial_frame_id=${v.getBigUint64(80, true)} initial_upstream_frame_id=${v.getBigUint64(88, true)} initial_offset=${v.getUint32(96, true)} flags=${v.getUint32(100, true)}`;
    case "minf": {
      const mt = v.getUint32(16, true);
      const common = `media_type=${mt} codec_id=${v.getUint32(20, true)} timescale=${v.getUint32(24, true)} bitrate=${v.getUint32(28, true)}`;
      const u = mt === 0
        ? `width=${v.getUint16(32, true)} height=${v.getUint16(34, true)} frame_rate=${v.getUint32(36, true)}/${v.getUint32(40, true)} cea_captions=${v.getUint32(44, true)}`
        : `channels=${v.getUint16(32, true)} bits_per_sample=${v.getUint16(34, true)} sample_rate=${v.getUint32(36, true)} channel_layout=0x${v.getBigUint64(40, true).toString(16)}`;
      return `${base} ${common} ${u} extra_data_hex=${toHex(p.data)}`;
    }
    case "fram":
      return `${base} frame_index=${frameIndex} frame_id=${initialFrameId + BigInt(frameIndex)} created=${v.getBigInt64(16, true)} dts=${v.getBigInt64(24, true)} flags=${v.getUint32(32, true)} pts_delay=${v.getInt32(36, true)} data_md5=${md5}`;
    default:
      return base;
  }
}

function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}

export class KmpReceiver {
  readonly opts: KmpReceiverOptions;
  readonly connections: ReceivedConnection[] = [];
  private listener: Listener | null = null;
  private readonly counts = new Map<string, number>();
  private readonly firstInitial = new Map<string, bigint>();
  private readonly open = new Set<Conn>();
  /** Resolvers waiting for a condition on `connections` (tests). */
  private readonly waiters = new Waiters("KmpReceiver");

  constructor(opts: KmpReceiverOptions) {
    this.opts = opts;
  }

  get port(): number {
    return this.listener?.addr.port ?? 0;
  }
  get url(): string {
    const h = this.listener?.addr.hostname ?? "127.0.0.1";
    return `kmp://${h.includes(":") ? `[${h}]` : h}:${this.port}`;
  }

  async start(): Promise<this> {
    this.listener = await this.opts.runtime.listen({ hostname: this.opts.hostname ?? "127.0.0.1", port: this.opts.port ?? 0 });
    if (this.opts.dir) await mkdir(this.opts.dir, { recursive: true });
    void this.acceptLoop(this.listener);
    return this;
  }

  /** Closes every open connection and keeps listening (the senders reconnect: a receiver restart). */
  dropConnections(): void {
    for (const c of this.open) c.close();
    this.open.clear();
  }

  async close(): Promise<void> {
    this.listener?.close();
    this.listener = null;
    for (const c of this.open) c.close();
    this.open.clear();
  }

  /** Resolves when `pred()` holds (checked after every packet/close), or rejects after `timeoutMs`. */
  /** Resolves when `pred()` holds (checked after every change), or rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
    return this.waiters.waitFor(pred, timeoutMs);
  }


  private notify(): void {
    this.waiters.notify();
  }

  private async acceptLoop(listener: Listener): Promise<void> {
    try {
      for await (const conn of listener) void this.handle(conn);
    } catch { /* listener closed */ }
  }

  private async handle(conn: Conn): Promise<void> {
    this.open.add(conn);
    const writer = conn.writable.getWriter();
    const reader = conn.readable.getReader();
    let buf: Uint8Array = new Uint8Array(0);
    let rec: ReceivedConnection | null = null;
    let fileOffset = 0;
    let path: string | null = null;
    const lines: string[] = [];
    const ackEvery = this.opts.ackEvery ?? 10;
    let lastAckedCount = 0;
    const sendAck = (count: number, frameId?: bigint) => {
      if (!rec) return;
      const first = this.firstInitial.get(`${rec.channelId}/${rec.trackId}`) ?? rec.initialFrameId;
      const id = frameId ?? rec.initialFrameId + BigInt(count);
      const ack = { frameId: id, upstreamFrameId: 100000n + (id - first), offset: 7 };
      rec.acks.push(ack);
      lastAckedCount = count;
      writer.write(encodeAck(ack)).catch(() => {});
    };
    let stop = false;
    try {
      while (!stop) {
        const { value, done } = await reader.read();
        if (done) {
          if (rec) rec.closedBy ??= "sender";
          break;
        }
        if (path) await appendFile(path, value);
        buf = buf.length ? concat([buf, value]) : value;
        let pos = 0;
        while (buf.length - pos >= 16) {
          const v = new DataView(buf.buffer, buf.byteOffset + pos);
          const type = v.getUint32(0, true);
          const hs = v.getUint32(4, true);
          const ds = v.getUint32(8, true);
          if (hs < 16 || hs > 65536 || ds > 16 * 1024 * 1024) throw new Error(`bad KMP packet header_size=${hs} data_size=${ds}`);
          if (buf.length - pos < hs + ds) break;
          const keep: boolean = this.opts.keepPackets !== false || !rec || !!this.opts.dir;
          const header: Uint8Array = keep ? buf.slice(pos, pos + hs) : EMPTY;
          const data: Uint8Array = keep ? buf.slice(pos + hs, pos + hs + ds) : EMPTY;
          const p: ReceivedPacket = { type: TYPES[type] ?? `0x${type.toString(16)}`, headerSize: hs, dataSize: ds, header, data };
          if (!rec) {
            if (p.type !== "cnct") throw new Error(`first packet is ${p.type}, not cnct`);
            const hv = new DataView(header.buffer);
            const channelId = cstr(header.subarray(16, 48));
            const trackId = cstr(header.subarray(48, 80));
            const key = `${channelId}/${trackId}`;
            const index = (this.counts.get(key) ?? 0) + 1;
            this.counts.set(key, index);
            rec = {
              channelId, trackId, index,
              initialFrameId: hv.getBigUint64(80, true),
              initialUpstreamFrameId: hv.getBigUint64(88, true),
              initialOffset: hv.getUint32(96, true),
              packets: [], bytes: 0, frames: 0, eos: false, closed: false, closedBy: null, acks: [],
            };
            if (!this.firstInitial.has(key)) this.firstInitial.set(key, rec.initialFrameId);
            this.connections.push(rec);
            if (this.opts.dir) {
              path = join(this.opts.dir, `${channelId}_${trackId}_c${index}.kmp`);
              await writeFile(path, buf); // everything so far, incl. bytes after this packet
            }
          }
          if (this.opts.dir) lines.push(describePacket(p, fileOffset, rec.frames, rec.initialFrameId));
          fileOffset += hs + ds;
          if (keep) rec.packets.push(p);
          rec.bytes += hs + ds;
          pos += hs + ds;
          if (p.type === "fram") {
            rec.frames++;
            if (this.opts.garbageAt !== undefined && rec.frames === this.opts.garbageAt) {
              writer.write(new TextEncoder().encode("GARBAGE-not-a-KMP-ack-packet-0123456789")).catch(() => {});
            } else if (this.opts.badAckAt !== undefined && rec.frames === this.opts.badAckAt) {
              sendAck(rec.frames, rec.initialFrameId + BigInt(rec.frames + 1000));
            } else if (ackEvery > 0 && rec.frames % ackEvery === 0) sendAck(rec.frames);
            if (this.opts.closeAfter !== undefined && rec.index === 1 && rec.frames >= this.opts.closeAfter) {
              rec.closedBy = "receiver";
              stop = true;
              break;
            }
          } else if (p.type === "eost") {
            rec.eos = true;
            if (ackEvery > 0 && lastAckedCount !== rec.frames) sendAck(rec.frames);
            if (!this.opts.keepOpenOnEos) {
              rec.closedBy = "receiver";
              stop = true;
              break;
            }
          }
        }
        buf = pos >= buf.length ? new Uint8Array(0) : buf.subarray(pos);
        this.notify();
      }
    } catch (err) {
      this.opts.log?.warn(`kmp receiver: ${(err as Error).message}`);
      if (rec) rec.closedBy ??= "sender";
    } finally {
      if (rec) rec.closed = true;
      if (this.opts.dir && rec) {
        await writeFile(join(this.opts.dir, `${rec.channelId}_${rec.trackId}_c${rec.index}.txt`), lines.join("\n") + "\n").catch(() => {});
      }
      try {
        await writer.close();
      } catch { /* peer gone */ }
      conn.close();
      this.open.delete(conn);
      this.notify();
    }
  }
}
