import * as tls from "node:tls";
import type * as net from "node:net";
import type { ReadSlab } from "../bytes/slab.ts";

/** The socket handle's call that makes it read into a buffer of ours (node:net `onread`), and its read callback. */
type UserBufferHandle = { useUserBuffer?: (buf: Uint8Array) => void; onread?: (this: unknown, ab: unknown) => unknown };

/**
 * Where Node's stream handles put the result of a read before they call `onread`: the byte count
 * (or error) is a slot of a shared `Int32Array` (`internalBinding('stream_wrap').streamBaseState`,
 * also reachable as `process.binding('stream_wrap')`), not an argument.
 */
export type ReadResultSlot = { state: Int32Array; index: number };

/**
 * The read buffer every plain socket of a runtime shares, the read-result slot (null: node:net's
 * callback), and the slab the copies of lent reads come from (what a reader keeps).
 */
export type ReadScratch = { buf: Uint8Array; slot: ReadResultSlot | null; slab: ReadSlab };

/** The read-result slot of this Node, or null where it is not reachable. */
export function readResultSlot(): ReadResultSlot | null {
  try {
    const binding = (process as unknown as { binding(name: string): { streamBaseState?: unknown; kReadBytesOrError?: unknown } }).binding("stream_wrap");
    const { streamBaseState: state, kReadBytesOrError: index } = binding;
    if (state instanceof Int32Array && typeof index === "number" && index >= 0 && index < state.length) return { state, index };
  } catch { /* no process.binding, or not this module */ }
  return null;
}

/** Bytes one read may take (what node:net reads at most by default). */
export const READ_SCRATCH_BYTES = 64 * 1024;

/**
 * Makes a plain node:net socket read into `scratch` and hand each read to `onChunk` from the
 * handle's read callback, lent: a view of exactly the bytes read in the scratch buffer, valid
 * until `onChunk` returns (whoever keeps it copies it, `PushReadSide`): what `net.connect({ onread })`
 * does, for sockets `net.Server` accepted too (it offers no `onread`). No `Buffer`, no
 * `Readable` queue, no `data` event and no `nextTick` per read, no 64 KiB allocation
 * shrunk to size, and no copy or allocation of its own per read.
 *
 * Every socket of the process may share one scratch buffer: libuv reads a socket into it and
 * calls back before it reads the next one, and the callback is done with the bytes before it
 * returns, so the buffer never holds anything between two reads. `pause()` and `resume()` stop
 * and start the handle's reads; `end`, `error` and `close` stay events.
 *
 * Node keeps a socket's read buffer in three symbol-keyed fields (`kBuffer`, `kBufferCb`,
 * `kBufferGen`) and the handle's `useUserBuffer`; where a Node version lacks one of them, or for
 * TLS sockets, nothing is changed and false is returned (the caller listens for `data`). With
 * the read-result slot the handle's `onread` is ours for reads with data (sockets here never
 * set a timeout, which is what node:net's callback would refresh per read).
 */
export function readIntoScratch(socket: net.Socket, shared: ReadScratch, onChunk: (chunk: Uint8Array) => void): boolean {
  const { buf: scratch, slot } = shared;
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
  const deliver = (n: number): void => onChunk(scratch.subarray(0, n));
  fields[kBufferCb] = deliver;
  fields[kBufferGen] = null; // the same buffer for every read
  handle.useUserBuffer(scratch);
  const nodeOnRead = handle.onread;
  if (slot && typeof nodeOnRead === "function") {
    // a read with data comes to us without node:net's callback in between (its owner lookup,
    // timer refresh and checks per read); the end and errors still go to it (it ends or
    // destroys the socket)
    const { state, index } = slot;
    handle.onread = function (this: unknown, ab: unknown): unknown {
      const n = state[index];
      if (n > 0) {
        deliver(n);
        return undefined;
      }
      return nodeOnRead.call(this, ab);
    };
  }
  return true;
}
