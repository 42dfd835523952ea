import * as tls from "node:tls";
import type * as net from "node:net";
import { ReadBuffer } from "./read-buffer.ts";

/** The socket handle's call that makes it read into a buffer of ours (node:net `onread`). */
type UserBufferHandle = { useUserBuffer?: (buf: Uint8Array) => void };

/**
 * Makes a plain node:net socket read straight into a `ReadBuffer` and hand each read to
 * `onChunk` from the handle's read callback: what `net.connect({ onread })` does, for sockets
 * `net.Server` accepted too (it offers no `onread`). No `Buffer`, no `Readable` queue, no
 * `data` event and no `nextTick` per read, and no 64 KiB allocation shrunk to size. `pause()`
 * and `resume()` stop and start the handle's reads; `end`, `error` and `close` stay events.
 *
 * Node keeps the buffer of a socket in three symbol-keyed fields (`kBuffer`, `kBufferCb`,
 * `kBufferGen`) and the handle's `useUserBuffer`; where a Node version lacks one of them, or for
 * TLS sockets, nothing is changed and false is returned (the caller listens for `data`).
 */
export function readIntoOwnBuffer(socket: net.Socket, onChunk: (chunk: Uint8Array) => void): boolean {
  if (socket instanceof tls.TLSSocket) return false;
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (!handle || typeof handle.useUserBuffer !== "function") return false;
  const keys = Object.getOwnPropertySymbols(socket);
  const key = (name: string) => keys.find((k) => k.description === name);
  const kBuffer = key("kBuffer");
  const kBufferCb = key("kBufferCb");
  const kBufferGen = key("kBufferGen");
  if (!kBuffer || !kBufferCb || !kBufferGen) return false;
  const rb = new ReadBuffer();
  const first = rb.next();
  const fields = socket as unknown as Record<symbol, unknown>;
  fields[kBuffer] = first;
  fields[kBufferCb] = (n: number): void => onChunk(rb.take(n));
  fields[kBufferGen] = (): Uint8Array => rb.next();
  handle.useUserBuffer(first);
  return true;
}
