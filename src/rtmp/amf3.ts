import { RtmpError } from "./errors.ts";
import type { AmfObject, AmfValue } from "./amf0.ts";

const MAX_DEPTH = 32;
const utf8 = new TextDecoder("utf-8");

function amfError(msg: string): RtmpError {
  return new RtmpError("RTMP_ERR_AMF", `AMF3: ${msg}`);
}

type Traits = { className: string; dynamic: boolean; externalizable: boolean; sealed: string[] };

/** AMF3 reader (reference tables for strings, objects and traits), bounded like the AMF0 one. */
class Amf3Reader {
  readonly b: Uint8Array;
  pos: number;
  private readonly view: DataView;
  private readonly strings: string[] = [];
  private readonly objects: AmfValue[] = [];
  private readonly traits: Traits[] = [];

  constructor(b: Uint8Array, pos: number) {
    this.b = b;
    this.pos = pos;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.b.byteLength) throw amfError(`truncated: need ${n} bytes at ${this.pos}`);
  }

  /** U29 variable-length integer. */
  u29(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      this.need(1);
      const byte = this.b[this.pos++];
      if (i === 3) return ((v << 8) | byte) >>> 0;
      v = (v << 7) | (byte & 0x7f);
      if (!(byte & 0x80)) return v;
    }
    return v;
  }

  private bounded(n: number, what: string): number {
    if (n > this.b.byteLength - this.pos) throw amfError(`${what} of ${n} exceeds the ${this.b.byteLength - this.pos} bytes left`);
    return n;
  }

  string(): string {
    const h = this.u29();
    if (!(h & 1)) {
      const s = this.strings[h >> 1];
      if (s === undefined) throw amfError(`bad string reference ${h >> 1}`);
      return s;
    }
    const len = this.bounded(h >> 1, "string");
    const s = utf8.decode(this.b.subarray(this.pos, this.pos + len));
    this.pos += len;
    if (len > 0) this.strings.push(s);
    return s;
  }

  value(depth: number): AmfValue {
    if (depth > MAX_DEPTH) throw amfError(`nesting deeper than ${MAX_DEPTH}`);
    this.need(1);
    const marker = this.b[this.pos++];
    switch (marker) {
      case 0x00:
        return undefined;
      case 0x01:
        return null;
      case 0x02:
        return false;
      case 0x03:
        return true;
      case 0x04: {
        const v = this.u29();
        return v & 0x10000000 ? v - 0x20000000 : v;
      }
      case 0x05: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      case 0x06:
        return this.string();
      case 0x07:
      case 0x0b: { // xml doc, xml
        const h = this.u29();
        if (!(h & 1)) return this.ref(h);
        const len = this.bounded(h >> 1, "xml");
        const s = utf8.decode(this.b.subarray(this.pos, this.pos + len));
        this.pos += len;
        this.objects.push(s);
        return s;
      }
      case 0x08: {
        const h = this.u29();
        if (!(h & 1)) return this.ref(h);
        this.need(8);
        const d = new Date(this.view.getFloat64(this.pos));
        this.pos += 8;
        this.objects.push(d);
        return d;
      }
      case 0x09: {
        const h = this.u29();
        if (!(h & 1)) return this.ref(h);
        const count = this.bounded(h >> 1, "array count");
        const assoc: AmfObject = Object.create(null);
        const arr: AmfValue[] = [];
        this.objects.push(arr);
        for (;;) {
          const k = this.string();
          if (k === "") break;
          assoc[k] = this.value(depth + 1);
        }
        for (let i = 0; i < count; i++) arr.push(this.value(depth + 1));
        return Object.keys(assoc).length ? Object.assign(assoc, arr) as unknown as AmfObject : arr;
      }
      case 0x0a:
        return this.object(depth);
      case 0x0c: {
        const h = this.u29();
        if (!(h & 1)) return this.ref(h);
        const len = this.bounded(h >> 1, "byte array");
        const s = this.b.slice(this.pos, this.pos + len);
        this.pos += len;
        const asString = Array.from(s, (x) => String.fromCharCode(x)).join("");
        this.objects.push(asString);
        return asString;
      }
      default:
        throw amfError(`unsupported marker 0x${marker.toString(16)} at ${this.pos - 1}`);
    }
  }

  private ref(h: number): AmfValue {
    const v = this.objects[h >> 1];
    if (v === undefined) throw amfError(`bad object reference ${h >> 1}`);
    return v;
  }

  private object(depth: number): AmfValue {
    const h = this.u29();
    if (!(h & 1)) return this.ref(h);
    let traits: Traits;
    if (!(h & 2)) {
      const t = this.traits[h >> 2];
      if (!t) throw amfError(`bad traits reference ${h >> 2}`);
      traits = t;
    } else {
      const externalizable = (h & 4) !== 0;
      const dynamic = (h & 8) !== 0;
      const count = this.bounded(h >> 4, "sealed member count");
      const className = this.string();
      const sealed: string[] = [];
      for (let i = 0; i < count; i++) sealed.push(this.string());
      traits = { className, dynamic, externalizable, sealed };
      this.traits.push(traits);
    }
    if (traits.externalizable) throw amfError(`externalizable class '${traits.className}' cannot be decoded`);
    const o: AmfObject = Object.create(null);
    this.objects.push(o);
    for (const k of traits.sealed) o[k] = this.value(depth + 1);
    if (traits.dynamic) {
      for (;;) {
        const k = this.string();
        if (k === "") break;
        o[k] = this.value(depth + 1);
      }
    }
    return o;
  }
}

/** Decodes one AMF3 value at `pos` (after an AMF0 0x11 switch marker). */
export function decodeAmf3Value(b: Uint8Array, pos: number, depth = 0): { value: AmfValue; end: number } {
  const r = new Amf3Reader(b, pos);
  const value = r.value(depth);
  return { value, end: r.pos };
}
