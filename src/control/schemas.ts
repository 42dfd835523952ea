import * as v from "valibot";
import type { NetAddr } from "../runtime/types.ts";

/**
 * Controller answers (spec §6.2-6.5). The reference treats a known key of the wrong JSON type as
 * absent, so each field falls back to "absent" instead of failing the whole object.
 */
const absentIfNot = <T extends v.GenericSchema>(schema: T) => v.optional(v.fallback(v.optional(schema), undefined));
const bytes = new TextEncoder();

export const ConnectAnswer = v.object({
  code: absentIfNot(v.string()),
  message: absentIfNot(v.string()),
});

const Id32 = v.pipe(v.string(), v.check((s) => bytes.encode(s).length <= 32, "longer than 32 bytes"));

export const UpstreamSchema = v.object({
  url: v.string(),
  id: v.optional(v.fallback(v.string(), ""), ""),
  required: v.optional(v.fallback(v.boolean(), true), true),
  resume_from: v.optional(v.fallback(v.string(), "last_acked"), "last_acked"),
  connect_data: v.optional(v.fallback(v.nullable(v.string()), null), null),
});

export const PublishAnswerSchema = v.object({
  code: v.string(),
  message: absentIfNot(v.string()),
  channel_id: Id32,
  track_id: Id32,
  upstreams: v.array(UpstreamSchema),
});

export const RepublishAnswerSchema = v.object({
  code: v.string(),
  message: absentIfNot(v.string()),
  url: v.string(),
  connect_data: absentIfNot(v.string()),
});

/** `[kmp://]ip:port` with an IPv4 or bracketed IPv6 literal; host names are not resolved (spec §5.3). */
export function parseKmpUrl(url: string): NetAddr | null {
  const rest = url.toLowerCase().startsWith("kmp://") ? url.slice(6) : url;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(rest);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(rest);
  const m = v6 ?? v4;
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  if (v4 && m[1].split(".").some((o) => Number(o) > 255)) return null;
  return { hostname: m[1], port };
}

/** Strict base64 (standard alphabet, optional padding); null when invalid. */
export function decodeBase64(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || (s.replace(/=+$/, "").length % 4) === 1) return null;
  try {
    const bin = atob(s.length % 4 ? s + "=".repeat(4 - (s.length % 4)) : s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
