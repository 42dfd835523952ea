import type { NetAddr } from "../runtime/types.ts";

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
