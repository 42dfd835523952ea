import { parseAsc } from "../codec/aac.ts";
import { parseAvcConfig } from "../codec/avc.ts";
import { hasCaptions } from "../codec/captions.ts";
import { parseHevcConfig } from "../codec/hevc.ts";
import type { AmfValue } from "../rtmp/amf0.ts";
import { fourccValue, parseVideoTag } from "./tag.ts";

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

  onAudio(b: Uint8Array): void {
    if (b.byteLength < 1) return;
    const b0 = b[0];
    this.audioCodecId = b0 >> 4;
    if (this.audioCodecId === 9) {
      this.onEnhancedAudio(b);
      return;
    }
    this.audioFourcc = null;
    this.audioChannels = (b0 & 1) + 1;
    this.sampleSize = b0 & 2 ? 2 : 1;
    if (this.sampleRate === 0) this.sampleRate = FLV_RATES[(b0 >> 2) & 3];
    // Deviation (spec §11.22): the ASC is parsed whatever the video codec is.
    if (this.audioCodecId === 10 && b.byteLength >= 3 && b[1] === 0) {
      const asc = parseAsc(b.subarray(2));
      if (asc && asc.sampleRate) this.sampleRate = asc.sampleRate;
    }
  }

  private onEnhancedAudio(b: Uint8Array): void {
    if (b.byteLength < 5) return;
    const packetType = b[0] & 0x0f;
    this.audioFourcc = String.fromCharCode(b[1], b[2], b[3], b[4]);
    this.sampleSize = 2;
    if (packetType !== 0) return;
    const cfg = b.subarray(5);
    if (this.audioFourcc === "Opus" && cfg.byteLength >= 19) {
      this.audioChannels = cfg[9];
      this.sampleRate = 48000;
    } else if (this.audioFourcc === "mp4a") {
      const asc = parseAsc(cfg);
      if (asc) {
        this.sampleRate = asc.sampleRate;
        this.audioChannels = asc.channelConfig || 2;
      }
    } else if ((this.audioFourcc === "ac-3" || this.audioFourcc === "ec-3") && !this.sampleRate) {
      this.sampleRate = 48000;
      this.audioChannels ||= 2;
    }
  }

  onVideo(b: Uint8Array): void {
    if (b.byteLength < 1) return;
    const b0 = b[0];
    let seq = false;
    if (!(b0 & 0x80)) {
      this.videoCodecId = b0 & 0x0f;
      if (this.videoCodecId === 7 && b.byteLength >= 2 && b[1] === 0) {
        seq = true;
        const cfg = parseAvcConfig(b.subarray(5));
        if (cfg) {
          this.avcProfile = cfg.profile;
          this.avcLevel = cfg.level;
          this.nalLengthSize = cfg.nalLengthSize;
          if (cfg.width || cfg.height) {
            this.width = cfg.width;
            this.height = cfg.height;
            this.sizeFromSps = true;
          }
        }
      }
    } else {
      if (b.byteLength < 5) return;
      let tag;
      try {
        tag = parseVideoTag(b);
      } catch {
        return;
      }
      this.videoCodecId = tag.codecId;
      if (tag.kind === "sequence-header") {
        seq = true;
        if (tag.codecId === HVC1 || tag.codecId === HEV1) {
          const cfg = parseHevcConfig(tag.data);
          if (cfg) this.nalLengthSize = cfg.nalLengthSize;
        } else if (tag.codecId === AVC1) {
          const cfg = parseAvcConfig(tag.data);
          if (cfg) {
            this.nalLengthSize = cfg.nalLengthSize;
            if (cfg.width || cfg.height) {
              this.width = cfg.width;
              this.height = cfg.height;
              this.sizeFromSps = true;
            }
          }
        }
      }
    }
    if (!seq) this.detectCaptions(b);
  }

  private detectCaptions(b: Uint8Array): void {
    if (this.captionTries <= 0 || this.ceaCaptions) return;
    const id = this.videoCodecId;
    const hevc = id === HVC1 || id === HEV1;
    if (id !== 7 && !hevc && id !== AVC1) {
      this.captionTries = 0;
      return;
    }
    this.captionTries--;
    if (!this.nalLengthSize) return;
    let nals: Uint8Array | null = null;
    if (!(b[0] & 0x80)) nals = b.subarray(5);
    else {
      const pt = b[0] & 0x0f;
      if (pt === 1) nals = b.subarray(8);
      else if (pt === 3) nals = b.subarray(5);
    }
    if (nals && hasCaptions(nals, this.nalLengthSize, hevc)) this.ceaCaptions = true;
  }

  /** `@setDataFrame`/`onMetaData` values (spec §2.4): every message overwrites these fields. */
  onMetadata(values: AmfValue[]): void {
    let i = 0;
    if (values[i] === "@setDataFrame") i++;
    if (typeof values[i] === "string") i++;
    const o = values[i];
    if (o === null || typeof o !== "object" || o instanceof Date || Array.isArray(o)) return;
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
