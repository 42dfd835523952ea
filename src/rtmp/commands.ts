import { RtmpError } from "./errors.ts";
import { Amf0Reader, type AmfValue } from "./amf0.ts";
import type { RtmpMessage } from "./chunk-decoder.ts";

/** A decoded command or data message: `name`, transaction id, and the values after it. */
export type Command = { name: string; transId: number; args: AmfValue[]; all: AmfValue[] };

/** AMF0 (20/18) or AMF3-wrapped (17/15: first byte skipped, then AMF0, spec §1.3) payload values. */
export function decodeCommand(msg: RtmpMessage): Command {
  const skip = msg.type === 17 || msg.type === 15 ? 1 : 0;
  const all = new Amf0Reader(msg.payload, skip).readAll();
  const name = typeof all[0] === "string" ? all[0] : "";
  if (!name) throw new RtmpError("RTMP_ERR_BAD_COMMAND", `message type ${msg.type} does not start with a command name`);
  const transId = typeof all[1] === "number" ? all[1] : 0;
  return { name, transId, args: all.slice(2), all };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Truncates to at most `max` UTF-8 bytes, like the reference's fixed buffers (spec §1.7). */
export function truncateBytes(s: string, max: number): string {
  const b = enc.encode(s);
  if (b.length <= max) return s;
  let end = max;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // do not cut a UTF-8 sequence in half
  return dec.decode(b.subarray(0, end));
}

const str = (v: AmfValue | undefined, max: number) => (typeof v === "string" ? truncateBytes(v, max) : "");

export type ConnectInfo = {
  app: string;
  flashVer: string;
  swfUrl: string;
  tcUrl: string;
  pageUrl: string;
  objectEncoding: number;
};

/** The connect command object (args[0]); keys are case-sensitive (spec §11.15). */
export function parseConnect(args: AmfValue[]): ConnectInfo {
  const o = args[0];
  if (o === null || typeof o !== "object" || Array.isArray(o) || o instanceof Date) {
    throw new RtmpError("RTMP_ERR_BAD_COMMAND", "connect without a command object");
  }
  return {
    app: str(o.app, 255),
    flashVer: str(o.flashVer, 127),
    swfUrl: str(o.swfUrl, 255),
    tcUrl: str(o.tcUrl, 255),
    pageUrl: str(o.pageUrl, 255),
    objectEncoding: typeof o.objectEncoding === "number" ? o.objectEncoding : 0,
  };
}

/** `publish(trans, null, name, [type])` → name (255 bytes) and type (15 bytes). */
export function parsePublish(args: AmfValue[]): { name: string; type: string } {
  if (typeof args[1] !== "string") throw new RtmpError("RTMP_ERR_BAD_COMMAND", "publish without a stream name");
  return { name: str(args[1], 255), type: str(args[2], 15) };
}

/** Splits `name?args` at the first `?` (no URL decoding, spec §1.9). */
export function splitNameArgs(full: string): { name: string; args: string } {
  const q = full.indexOf("?");
  return q < 0 ? { name: full, args: "" } : { name: full.slice(0, q), args: full.slice(q + 1) };
}

/** Application name from the connect `app` (spec §1.8 step 1). */
export function normalizeApp(app: string): string {
  const q = app.indexOf("?");
  let a = q < 0 ? app : app.slice(0, q);
  if (a.length > 10 && a.endsWith("/_definst_")) a = a.slice(0, -10);
  else if (a.endsWith("/")) a = a.slice(0, -1);
  return a;
}
