import { createWriteStream } from "node:fs";
import type { ClientInfo } from "../ingest/client-info.ts";
import type { RtmpSession } from "../ingest/session.ts";

/** What an access-log line reads of an ended session. */
export type AccessLogEntry = Pick<RtmpSession, "remoteIp" | "command" | "lastPublishName" | "lastPublishArgs" | "bytesOut" | "connection" | "acceptedMs"> & {
  client: Pick<ClientInfo, "app" | "pageUrl" | "flashver" | "tcUrl" | "swfUrl">;
  bytesIn: { bytes: number };
};

/** nginx-rtmp's default `combined` access log format. */
export const DEFAULT_LOG_FORMAT =
  '$remote_addr [$time_local] $command "$app" "$name" "$args" - $bytes_received $bytes_sent "$pageurl" "$flashver" ($session_readable_time)';

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function timeLocal(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const a = Math.abs(off);
  return `${p(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${sign}${p(Math.floor(a / 60))}${p(a % 60)}`;
}

function readable(sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${h ? `${h}h ` : ""}${h || m ? `${m}m ` : ""}${s}s`;
}

/** One access-log line for an ended session (variables of nginx-rtmp's log module). */
export function formatAccessLine(format: string, s: AccessLogEntry, now = new Date()): string {
  const sessionSec = Math.floor((now.getTime() - s.acceptedMs) / 1000);
  const vars: Record<string, string> = {
    remote_addr: s.remoteIp,
    time_local: timeLocal(now),
    command: s.command ? s.command.toUpperCase() : "NONE",
    app: s.client.app,
    name: s.lastPublishName,
    args: s.lastPublishArgs,
    bytes_received: String(s.bytesIn.bytes),
    bytes_sent: String(s.bytesOut),
    pageurl: s.client.pageUrl,
    flashver: s.client.flashver,
    tcurl: s.client.tcUrl,
    swfurl: s.client.swfUrl,
    session_time: String(sessionSec),
    session_readable_time: readable(sessionSec),
    connection: String(s.connection),
    msec: (now.getTime() / 1000).toFixed(3),
  };
  return format.replace(/\$([a-z_]+)/g, (m, k: string) => vars[k] ?? m);
}

/** Opens the access log (`stdout` or a file, appended) and returns the per-session writer. */
export function openAccessLog(target: string, format: string | null): (s: RtmpSession) => void {
  const fmt = format || DEFAULT_LOG_FORMAT;
  if (target === "stdout" || target === "/dev/stdout") return (s) => console.log(formatAccessLine(fmt, s));
  const out = createWriteStream(target, { flags: "a" });
  out.on("error", (err) => console.error(`access log ${target}: ${err.message}`));
  return (s) => void out.write(formatAccessLine(fmt, s) + "\n");
}
