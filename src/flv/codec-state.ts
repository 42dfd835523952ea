import { parseAsc } from "../codec/aac.ts";
import { parseAvcConfig } from "../codec/avc.ts";
import { hasCaptions } from "../codec/captions.ts";
import { parseHevcConfig } from "../codec/hevc.ts";
import { parseAc3Frame } from "../codec/ac3.ts";
import type { AmfObject, AmfValue } from "../rtmp/amf0.ts";
import { APT, fourccValue, type MediaTag } from "./tag.ts";

const FLV_RATES = [5512, 11025, 22050, 44100];
const HVC1 = fourccValue("hvc1");
const HEV1 = fourccValue("hev1");
const AVC1 = fourccValue("avc1");

/**
 * Per-stream codec state (spec §2), updated by every audio/video/metadata message before the
 * KMP layer converts it. Field semantics follow the reference, quirks included (listed inline).
 */
export class StreamCodecState {
  audioCodecId = 0;
  audioFourcc: string | null = null;
  audioChannels = 0;
  /** Bytes per sample from the FLV flag (1 or 2). */
  sampleSize = 0;
  sampleRate = 0;
  videoCodecId = 0;
  width = 0;
  height = 0;
  /** The size came from an SPS: later metadata does not override it (the SPS is what is encoded). */
  private sizeFromSps = false;
  frameRate = 0;
  videoDataRate = 0;
  audioDataRate = 0;
  nalLengthSize = 0;
  avcProfile = 0;
  avcLevel = 0;
  ceaCaptions = false;
  private captionTries = 10;

  /** AC-3 / E-AC-3 channel layout from the sync frame (null: derive from the channel count). */
  channelLayout: bigint | null = null;

  /** One parsed audio tag of this state's track (spec §2.1). */
  onAudioTag(tag: MediaTag): void {
    const b0 = tag.flags;
    if (!tag.enhanced) {
      this.audioCodecId = tag.codecId;
      this.audioFourcc = null;
      this.audioChannels = (b0 & 1) + 1;
      this.sampleSize = b0 & 2 ? 2 : 1;
      if (this.sampleRate === 0) this.sampleRate = FLV_RATES[(b0 >> 2) & 3];
      // Deviation (spec §11.22): the ASC is parsed whatever the video codec is.
      if (tag.codecId === 10 && tag.kind === "sequence-header" && tag.data.byteLength >= 1) {
        const asc = parseAsc(tag.data);
        if (asc && asc.sampleRate) this.sampleRate = asc.sampleRate;
      }
      return;
    }
    this.audioCodecId = 9;
    this.audioFourcc = tag.fourcc;
    this.sampleSize = 2;
    const fourcc = tag.fourcc;
    if (tag.packetType === APT.MULTICHANNEL_CONFIG) {
      // audioChannelOrder, channelCount, …: the count is what the encoder says it sends
      if (tag.data.byteLength >= 2 && tag.data[1] > 0) this.audioChannels = tag.data[1];
      return;
    }
    if (fourcc === "ac-3" || fourcc === "ec-3") {
      // no sequence header: the sync frame carries rate, acmod and lfeon
      if (tag.kind === "frame") {
        const info = parseAc3Frame(tag.data);
        if (info) {
          this.sampleRate = info.sampleRate;
          this.audioChannels = info.channels;
          this.channelLayout = info.channelLayout;
        }
      }
      if (!this.sampleRate) {
        this.sampleRate = 48000; // the common case, until a sync frame says otherwise
        this.audioChannels ||= 2;
      }
      return;
    }
    if (tag.kind !== "sequence-header") return;
    const cfg = tag.data;
    if (fourcc === "Opus" && cfg.byteLength >= 19) {
      this.audioChannels = cfg[9];
      this.sampleRate = 48000;
    } else if (fourcc === "mp4a") {
      const asc = parseAsc(cfg);
      if (asc) {
        this.sampleRate = asc.sampleRate;
        this.audioChannels = asc.channelConfig || 2;
      }
    }
  }

  /** One parsed video tag of this state's track (spec §2.2). */
  onVideoTag(tag: MediaTag): void {
    this.videoCodecId = tag.codecId;
    const seq = tag.kind === "sequence-header";
    if (seq) {
      if (tag.codecId === 7 || tag.codecId === AVC1) {
        const cfg = parseAvcConfig(tag.data);
        if (cfg) {
          if (!tag.enhanced) {
            this.avcProfile = cfg.profile;
            this.avcLevel = cfg.level;
          }
          this.nalLengthSize = cfg.nalLengthSize;
          if (cfg.width || cfg.height) {
            this.width = cfg.width;
            this.height = cfg.height;
            this.sizeFromSps = true;
          }
        }
      } else if (tag.codecId === HVC1 || tag.codecId === HEV1) {
        const cfg = parseHevcConfig(tag.data);
        if (cfg) {
          this.nalLengthSize = cfg.nalLengthSize;
          if (cfg.width || cfg.height) {
            this.width = cfg.width;
            this.height = cfg.height;
            this.sizeFromSps = true;
          }
        }
      }
      return;
    }
    if (tag.kind === "frame") this.detectCaptions(tag.data);
  }

  private detectCaptions(nals: Uint8Array): void {
    if (this.captionTries <= 0 || this.ceaCaptions) return;
    const id = this.videoCodecId;
    const hevc = id === HVC1 || id === HEV1;
    if (id !== 7 && !hevc && id !== AVC1) {
      this.captionTries = 0;
      return;
    }
    this.captionTries--;
    if (!this.nalLengthSize) return;
    if (hasCaptions(nals, this.nalLengthSize, hevc)) this.ceaCaptions = true;
  }

  /**
   * `@setDataFrame`/`onMetaData` values (spec §2.4): every message overwrites these fields. For
   * a multitrack track `trackId` ≥ 1 they come from `videoTrackIdInfoMap` / `audioTrackIdInfoMap`
   * (E-RTMP v2) under that id; track 0 reads the top level.
   */
  onMetadata(values: AmfValue[], trackId = 0): void {
    let i = 0;
    if (values[i] === "@setDataFrame") i++;
    if (typeof values[i] === "string") i++;
    let o = values[i];
    if (o === null || typeof o !== "object" || o instanceof Date || Array.isArray(o)) return;
    if (trackId > 0) {
      const pick = (map: AmfValue | undefined): AmfObject => {
        const t = map && typeof map === "object" && !Array.isArray(map) && !(map instanceof Date) ? (map as AmfObject)[String(trackId)] : undefined;
        return t && typeof t === "object" && !Array.isArray(t) && !(t instanceof Date) ? (t as AmfObject) : {};
      };
      const top = o as AmfObject;
      o = { ...pick(top.audioTrackIdInfoMap), ...pick(top.videoTrackIdInfoMap) };
    }
    const num = (v: AmfValue | undefined) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
    let frameRate = 0;
    for (const [k, v] of Object.entries(o)) if (k === "framerate" || k === "fps") frameRate = num(v);
    if (!this.sizeFromSps) {
      this.width = Math.trunc(num(o.width));
      this.height = Math.trunc(num(o.height));
    }
    this.frameRate = frameRate;
    this.videoDataRate = num(o.videodatarate);
    this.audioDataRate = num(o.audiodatarate);
    this.videoCodecId = typeof o.videocodecid === "number" ? o.videocodecid : 0;
    this.audioCodecId = typeof o.audiocodecid === "number" ? (o.audiocodecid === 0 ? 16 : o.audiocodecid) : 0;
  }
}
