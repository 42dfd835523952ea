import { concat } from "../bytes/bytes.ts";
import type { Logger } from "../log/logger.ts";
import { parseProxyHeader } from "../net/proxy-header.ts";
import { HandshakeServer } from "../rtmp/handshake.ts";
import type { NetAddr } from "../runtime/types.ts";

/** What the preamble needs from its session. */
export interface PreambleSession {
  /** The session is still in its handshake (not failed, not closed). */
  readonly handshaking: boolean;
  readonly log: Logger;
  /** `ip:port` of the client as known so far. */
  readonly remoteAddr: string;
  /** A PROXY header named the original client. */
  setPeer(peer: NetAddr): void;
  countIn(n: number): void;
  send(bytes: Uint8Array): void;
}

/** The bytes after the handshake (maybe none yet), or why it did not complete. */
export type Preamble = { rest: Uint8Array } | { closed: string } | { ended: true };

type Reader = ReadableStreamDefaultReader<Uint8Array>;
const EMPTY = new Uint8Array(0);

/**
 * Everything before the chunk stream: the PROXY v1/v2 header of a `proxy_protocol` listener (a
 * missing or malformed one throws its coded error: the connection closes with no byte sent),
 * then the RTMP handshake, answered as it arrives. `rest` is what the client sent after C2 in the
 * same read. `closed`: the client went before the handshake ended; `ended`: the session stopped
 * meanwhile (handshake timeout).
 */
export async function readPreamble(s: PreambleSession, reader: Reader, proxyProtocol: boolean): Promise<Preamble> {
  let start: Uint8Array = EMPTY;
  if (proxyProtocol) {
    const r = await proxyHeader(s, reader);
    if (r === null) return { closed: "client closed the connection before its PROXY header" };
    start = r;
  }
  const hs = new HandshakeServer();
  let value: Uint8Array | null = start.byteLength ? start : null;
  for (;;) {
    if (!s.handshaking) return { ended: true };
    if (!value) {
      const r = await reader.read();
      if (r.done) return { closed: "client closed the connection during the handshake" };
      value = r.value;
    }
    const r = hs.push(value);
    // bytes past the handshake are counted when they pass the demuxer
    s.countIn(value.byteLength - (r.rest?.byteLength ?? 0));
    value = null;
    for (const b of r.send) s.send(b);
    if (r.done) return { rest: r.rest ?? EMPTY };
  }
}

/** The PROXY header within its size limit; the bytes after it, or null at EOF. */
async function proxyHeader(s: PreambleSession, reader: Reader): Promise<Uint8Array | null> {
  let buf: Uint8Array = EMPTY;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    if (!s.handshaking) return EMPTY;
    buf = buf.byteLength ? concat([buf, value]) : value;
    const h = parseProxyHeader(buf); // throws ProxyHeaderError (a coded error) when it cannot be one
    if (!h) continue;
    const via = s.remoteAddr;
    if (h.source) s.setPeer(h.source);
    s.log.debug(`accepted; PROXY v${h.version}: client ${s.remoteAddr} via ${via}`);
    s.countIn(h.length); // what follows is counted by the handshake
    return buf.subarray(h.length);
  }
}
