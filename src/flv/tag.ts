import { FlvError } from "./errors.ts";

/** Little-endian u32 of a FourCC, as the reference stores enhanced codec ids (`hvc1` → 0x31637668). */
export const fourccValue = (s: string) => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | ((s.charCodeAt(3) << 24) >>> 0);
const fourccAt = (b: Uint8Array, o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
const s24 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8)) >> 8;

/** Enhanced RTMP packet types. */
export const VPT = { SEQUENCE_START: 0, CODED_FRAMES: 1, SEQUENCE_END: 2, CODED_FRAMES_X: 3, METADATA: 4, MPEG2TS_SEQUENCE_START: 5, MULTITRACK: 6, MODEX: 7 } as const;
export const APT = { SEQUENCE_START: 0, CODED_FRAMES: 1, SEQUENCE_END: 2, MULTICHANNEL_CONFIG: 4, MULTITRACK: 5, MODEX: 7 } as const;

/**
 * What a media message carries, with `data` the payload after the stripped tag-header bytes
 * (a view, no copy). `kind`: a frame, a sequence header (codec config in `data`), or something
 * to skip (enhanced metadata, sequence end, multichannel config, other tracks of a multitrack).
 */
export type MediaTag = {
  kind: "frame" | "sequence-header" | "skip";
  enhanced: boolean;
  /** Legacy FLV codec id / sound format, or the LE u32 of the FourCC. */
  codecId: number;
  fourcc: string | null;
  key: boolean;
  /** Composition time offset in ms (signed). */
  cts: number;
  data: Uint8Array;
  /** Multitrack: the track id (0 otherwise). */
  trackId: number;
  /** ModEx timestamp offset in nanoseconds (0 when absent). */
  timestampOffsetNs: number;
  /** Enhanced RTMP packet type (after ModEx and multitrack); -1 for legacy tags. */
  packetType: number;
  /** Byte 0 of the tag (legacy sound flags: rate, size, channels). */
  flags: number;
};

/** The body of a tag not parsed yet (`tagScratch`). */
const NO_DATA = new Uint8Array(0);

const badData = (what: string, len: number) => new FlvError("FLV_ERR_SHORT_TAG", `${what} message of ${len} bytes is too short`);

/** ModEx prefix(es) (packet type 7): returns the real packet type and where the rest starts. */
function readModEx(b: Uint8Array, off: number, what: string): { packetType: number; off: number; offsetNs: number } {
  let offsetNs = 0;
  for (;;) {
    if (off >= b.byteLength) throw badData(`${what} ModEx`, b.byteLength);
    let size = b[off++] + 1;
    if (size === 256) {
      if (off + 2 > b.byteLength) throw badData(`${what} ModEx`, b.byteLength);
      size = ((b[off] << 8) | b[off + 1]) + 1;
      off += 2;
    }
    if (off + size + 1 > b.byteLength) throw badData(`${what} ModEx`, b.byteLength);
    const data = b.subarray(off, off + size);
    off += size;
    const next = b[off++];
    const modExType = next >> 4;
    if (modExType === 0 && data.byteLength >= 3) offsetNs = (data[0] << 16) | (data[1] << 8) | data[2];
    const packetType = next & 0x0f;
    if (packetType !== VPT.MODEX) return { packetType, off, offsetNs };
  }
}

type TrackPart = { packetType: number; fourcc: string; trackId: number; body: Uint8Array };

/**
 * Multitrack (Enhanced RTMP v2), `off` after the multitrack byte: OneTrack (0), ManyTracks (1,
 * one FourCC) or ManyTracksManyCodecs (2, a FourCC per track); every track of the message.
 */
function readMultitrack(b: Uint8Array, off: number, what: string): TrackPart[] {
  if (off >= b.byteLength) throw badData(`${what} multitrack`, b.byteLength);
  const mt = b[off] >> 4;
  const packetType = b[off] & 0x0f;
  off++;
  let fourcc = "";
  if (mt !== 2) {
    if (off + 4 > b.byteLength) throw badData(`${what} multitrack`, b.byteLength);
    fourcc = fourccAt(b, off);
    off += 4;
  }
  const parts: TrackPart[] = [];
  do {
    if (mt === 2) {
      if (off + 4 > b.byteLength) throw badData(`${what} multitrack`, b.byteLength);
      fourcc = fourccAt(b, off);
      off += 4;
    }
    if (off >= b.byteLength) throw badData(`${what} multitrack`, b.byteLength);
    const trackId = b[off++];
    let end = b.byteLength;
    if (mt !== 0) {
      if (off + 3 > b.byteLength) throw badData(`${what} multitrack`, b.byteLength);
      const size = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
      off += 3;
      end = Math.min(b.byteLength, off + size); // a short last track keeps what arrived
    }
    parts.push({ packetType, fourcc, trackId, body: b.subarray(off, end) });
    off = end;
  } while (mt !== 0 && off < b.byteLength);
  return parts;
}

/**
 * The common part of an Enhanced RTMP video/audio header after byte 0: optional ModEx prefixes,
 * then either a multitrack header or the FourCC. Returns the real packet type and the body.
 */
function readExHeader(b: Uint8Array, first: number, modEx: number, multitrack: number, what: string): { parts: TrackPart[]; offsetNs: number } {
  let packetType = first;
  let off = 1;
  let offsetNs = 0;
  if (packetType === modEx) {
    const m = readModEx(b, off, what);
    packetType = m.packetType;
    off = m.off;
    offsetNs = m.offsetNs;
  }
  if (packetType === multitrack) return { parts: readMultitrack(b, off, what), offsetNs };
  if (b.byteLength < off + 4) throw badData(`enhanced ${what}`, b.byteLength);
  return { parts: [{ packetType, fourcc: fourccAt(b, off), body: b.subarray(off + 4), trackId: 0 }], offsetNs };
}

/** Video tag header (spec §4.1 table; legacy and Enhanced RTMP): the first (or only) track. */
export function parseVideoTag(b: Uint8Array): MediaTag {
  return parseVideoTags(b)[0];
}

/** A list of one tag with every field set (one shape for all tags), for `into` of the parsers. */
export function tagScratch(): MediaTag[] {
  return [{ kind: "skip", enhanced: false, codecId: 0, fourcc: null, key: false, cts: 0, data: NO_DATA, trackId: 0, timestampOffsetNs: 0, packetType: -1, flags: 0 }];
}

/**
 * A legacy (non-Enhanced) tag: track 0, written into `into` and returned — a stream's own
 * `tagScratch()`, so that its single-track tags allocate nothing per message (whoever reads them
 * is done before the next message is parsed), or a new one.
 */
function legacy(kind: MediaTag["kind"], codecId: number, key: boolean, cts: number, data: Uint8Array, flags: number, into = tagScratch()): MediaTag[] {
  const t = into[0];
  t.kind = kind;
  t.enhanced = false;
  t.codecId = codecId;
  t.fourcc = null;
  t.key = key;
  t.cts = cts;
  t.data = data;
  t.trackId = 0;
  t.timestampOffsetNs = 0;
  t.packetType = -1;
  t.flags = flags;
  return into;
}

/**
 * Every track a video message carries (one unless it is a ManyTracks multitrack message). Throws
 * RTMP_ERR_BAD_DATA when too short. `into`: a `tagScratch()` a legacy tag is written into.
 */
export function parseVideoTags(b: Uint8Array, into?: MediaTag[]): MediaTag[] {
  if (b.byteLength < 1) throw badData("video", 0);
  const b0 = b[0];
  if (!(b0 & 0x80)) {
    const codecId = b0 & 0x0f;
    const key = b0 >> 4 === 1;
    if (codecId === 7) {
      if (b.byteLength < 5) throw badData("H.264 video", b.byteLength);
      return legacy(b[1] === 0 ? "sequence-header" : "frame", codecId, key, s24(b, 2), b.subarray(5), b0, into);
    }
    return legacy("frame", codecId, false, 0, b.subarray(1), b0, into);
  }
  const frameType = (b0 >> 4) & 0x07;
  const { parts, offsetNs } = readExHeader(b, b0 & 0x0f, VPT.MODEX, VPT.MULTITRACK, "video");
  return parts.map(({ packetType, fourcc, body, trackId }): MediaTag => {
    const base = { enhanced: true, codecId: fourccValue(fourcc), fourcc, key: frameType === 1, trackId, timestampOffsetNs: offsetNs, packetType, flags: b0 };
    switch (packetType) {
      case VPT.SEQUENCE_START:
        return { ...base, kind: "sequence-header", cts: 0, data: body };
      case VPT.CODED_FRAMES:
        if (fourcc === "hvc1" || fourcc === "hev1" || fourcc === "avc1") {
          if (body.byteLength < 3) throw badData(`${fourcc} video`, b.byteLength);
          return { ...base, kind: "frame", cts: s24(body, 0), data: body.subarray(3) };
        }
        return { ...base, kind: "frame", cts: 0, data: body };
      case VPT.CODED_FRAMES_X:
        return { ...base, kind: "frame", cts: 0, data: body };
      default: // sequence end, metadata, MPEG-2 TS sequence start: not frames
        return { ...base, kind: "skip", cts: 0, data: body };
    }
  });
}

/** Audio tag header (legacy sound formats and the Enhanced RTMP ExHeader): the first (or only) track. */
export function parseAudioTag(b: Uint8Array): MediaTag {
  return parseAudioTags(b)[0];
}

/** Every track an audio message carries. `into`: a `tagScratch()` a legacy tag is written into. */
export function parseAudioTags(b: Uint8Array, into?: MediaTag[]): MediaTag[] {
  if (b.byteLength < 1) throw badData("audio", 0);
  const b0 = b[0];
  const fmt = b0 >> 4;
  if (fmt === 10) {
    if (b.byteLength < 2) throw badData("AAC audio", b.byteLength);
    return legacy(b[1] === 0 ? "sequence-header" : "frame", 10, false, 0, b.subarray(2), b0, into);
  }
  if (fmt !== 9) return legacy("frame", fmt, false, 0, b.subarray(1), b0, into);
  const { parts, offsetNs } = readExHeader(b, b0 & 0x0f, APT.MODEX, APT.MULTITRACK, "audio");
  return parts.map(({ packetType, fourcc, body, trackId }): MediaTag => {
    const kind = packetType === APT.SEQUENCE_START ? "sequence-header" : packetType === APT.CODED_FRAMES ? "frame" : "skip";
    return { kind, enhanced: true, codecId: fourccValue(fourcc), fourcc, key: false, cts: 0, data: body, trackId, timestampOffsetNs: offsetNs, packetType, flags: b0 };
  });
}
