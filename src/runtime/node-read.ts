import * as tls from "node:tls";
import type * as net from "node:net";

/** The socket handle's call that makes it read into a buffer of ours (node:net `onread`). */
type UserBufferHandle = { useUserBuffer?: (buf: Uint8Array) => void };

/** Bytes one read may take (what node:net reads at most by default). */
export const READ_SCRATCH_BYTES = 64 * 1024;

/**
 * Makes a plain node:net socket read into `scratch` and hand each read to `onChunk` from the
 * handle's read callback, as a copy of exactly the bytes read: what `net.connect({ onread })`
 * does, for sockets `net.Server` accepted too (it offers no `onread`). No `Buffer`, no
 * `Readable` queue, no `data` event and no `nextTick` per read, and no 64 KiB allocation
 * shrunk to size.
 *
 * Every socket of the process may share one scratch buffer: libuv reads a socket into it and
 * calls back before it reads the next one, and the callback copies the bytes out before it
 * returns, so the buffer never holds anything between two reads. `pause()` and `resume()` stop
 * and start the handle's reads; `end`, `error` and `close` stay events.
 *
 * Node keeps a socket's read buffer in three symbol-keyed fields (`kBuffer`, `kBufferCb`,
 * `kBufferGen`) and the handle's `useUserBuffer`; where a Node version lacks one of them, or for
 * TLS sockets, nothing is changed and false is returned (the caller listens for `data`).
 */
export function readIntoScratch(socket: net.Socket, scratch: Uint8Array, onChunk: (chunk: Uint8Array) => void): boolean {
  if (socket instanceof tls.TLSSocket) return false;
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (!handle || typeof handle.useUserBuffer !== "function") return false;
  const keys = Object.getOwnPropertySymbols(socket);
  const key = (name: string) => keys.find((k) => k.description === name);
  const kBuffer = key("kBuffer");
  const kBufferCb = key("kBufferCb");
  const kBufferGen = key("kBufferGen");
  if (!kBuffer || !kBufferCb || !kBufferGen) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  fields[kBuffer] = scratch;
  fields[kBufferCb] = (n: number): void => onChunk(scratch.slice(0, n));
  fields[kBufferGen] = null; // the same buffer for every read
  handle.useUserBuffer(scratch);
  return true;
}
