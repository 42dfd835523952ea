import { RtmpError } from "./errors.ts";
import { decodeAmf3Value } from "./amf3.ts";

/** Decoded AMF values are plain JS values; objects have a null prototype. */
export type AmfObject = { [key: string]: AmfValue };
export type AmfValue = number | boolean | string | null | undefined | Date | AmfValue[] | AmfObject;

export const MAX_AMF_DEPTH = 32;
const utf8 = new TextDecoder("utf-8");

function amfError(msg: string): RtmpError {
  return new RtmpError("RTMP_ERR_AMF", msg);
}

/** AMF0 reader over a byte view (spec §1.6), with limits on depth and counts. */
export class Amf0Reader {
  readonly b: Uint8Array;
  pos: number;
  private readonly view: DataView;

  constructor(b: Uint8Array, pos = 0) {
    this.b = b;
    this.pos = pos;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  get remaining(): number {
    return this.b.byteLength - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.b.byteLength) throw amfError(`truncated ${what}: need ${n} bytes at offset ${this.pos}, have ${this.remaining}`);
  }

  private u16(): number {
    this.need(2, "u16");
    const v = (this.b[this.pos] << 8) | this.b[this.pos + 1];
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4, "u32");
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  private str(len: number): string {
    this.need(len, "string");
    const s = utf8.decode(this.b.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  /** Reads every value until the end of the payload. */
  readAll(): AmfValue[] {
    const out: AmfValue[] = [];
    while (this.pos < this.b.byteLength) out.push(this.read());
    return out;
  }

  read(depth = 0): AmfValue {
    if (depth > MAX_AMF_DEPTH) throw amfError(`nesting deeper than ${MAX_AMF_DEPTH}`);
    this.need(1, "marker");
    const marker = this.b[this.pos++];
    switch (marker) {
      case 0x00: {
        this.need(8, "number");
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      case 0x01:
        this.need(1, "boolean");
        return this.b[this.pos++] !== 0;
      case 0x02:
        return this.str(this.u16());
      case 0x03:
        return this.readObject(depth);
      case 0x05:
        return null;
      case 0x06:
        return undefined;
      case 0x07: // reference to an earlier object: unsupported, read the index and yield undefined
        this.u16();
        return undefined;
      case 0x08: {
        this.u32(); // associative count: informative only, the body ends with 00 00 09
        return this.readObject(depth);
      }
      case 0x0a: {
        const count = this.u32();
        if (count > this.remaining) throw amfError(`strict array claims ${count} elements with ${this.remaining} bytes left`);
        const arr: AmfValue[] = new Array(count);
        for (let i = 0; i < count; i++) arr[i] = this.read(depth + 1);
        return arr;
      }
      case 0x0b: {
        this.need(10, "date");
        const ms = this.view.getFloat64(this.pos);
        this.pos += 10; // + 2-byte time zone, ignored
        return new Date(ms);
      }
      case 0x0c:
      case 0x0f: // long string, XML document
        return this.str(this.u32());
      case 0x10: {
        this.str(this.u16()); // class name
        return this.readObject(depth);
      }
      case 0x11: {
        const r = decodeAmf3Value(this.b, this.pos, depth + 1);
        this.pos = r.end;
        return r.value;
      }
      default:
        throw amfError(`unsupported AMF0 marker 0x${marker.toString(16).padStart(2, "0")} at offset ${this.pos - 1}`);
    }
  }

  /** Object / ECMA array body: key/value pairs up to `00 00 09`, or to the end of the payload. */
  private readObject(depth: number): AmfObject {
    const o: AmfObject = Object.create(null);
    for (;;) {
      if (this.remaining < 2) {
        this.pos = this.b.byteLength; // tolerated: payload ended where a key was expected
        return o;
      }
      const klen = this.u16();
      if (klen === 0) {
        if (this.remaining >= 1 && this.b[this.pos] === 0x09) {
          this.pos++;
          return o;
        }
        if (this.remaining === 0) return o;
      }
      const key = this.str(klen);
      if (this.remaining === 0) return o;
      o[key] = this.read(depth + 1);
    }
  }
}

/** Decodes every AMF0 value of a payload. */
export function decodeAmf0(payload: Uint8Array): AmfValue[] {
  return new Amf0Reader(payload).readAll();
}

// ---- encoding ------------------------------------------------------------------------------

const utf8e = new TextEncoder();

/** Marks an object to be encoded as an ECMA array. */
export class EcmaArray {
  readonly entries: Record<string, unknown>;
  constructor(entries: Record<string, unknown>) {
    this.entries = entries;
  }
}

/** AMF0 encoding of plain JS values (objects in insertion order, end marker 00 00 09). */
export function encodeAmf0(...values: unknown[]): Uint8Array {
  const out: number[] = [];
  const pushStr = (s: string, long: boolean) => {
    const b = utf8e.encode(s);
    if (long) out.push((b.length >>> 24) & 0xff, (b.length >>> 16) & 0xff, (b.length >>> 8) & 0xff, b.length & 0xff);
    else out.push((b.length >>> 8) & 0xff, b.length & 0xff);
    for (let i = 0; i < b.length; i++) out.push(b[i]);
  };
  const props = (o: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(o)) {
      pushStr(k, false);
      enc(v);
    }
    out.push(0, 0, 9);
  };
  const enc = (v: unknown): void => {
    if (typeof v === "number") {
      out.push(0x00);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v);
      for (let i = 0; i < 8; i++) out.push(b[i]);
    } else if (typeof v === "boolean") out.push(0x01, v ? 1 : 0);
    else if (typeof v === "string") {
      const long = utf8e.encode(v).length > 0xffff;
      out.push(long ? 0x0c : 0x02);
      pushStr(v, long);
    } else if (v === null) out.push(0x05);
    else if (v === undefined) out.push(0x06);
    else if (v instanceof EcmaArray) {
      const n = Object.keys(v.entries).length;
      out.push(0x08, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
      props(v.entries);
    } else if (Array.isArray(v)) {
      const n = v.length;
      out.push(0x0a, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
      for (const x of v) enc(x);
    } else if (typeof v === "object") {
      out.push(0x03);
      props(v as Record<string, unknown>);
    } else throw new TypeError(`cannot AMF0-encode ${typeof v}`);
  };
  for (const v of values) enc(v);
  return Uint8Array.from(out);
}
