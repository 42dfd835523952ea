import { Buffer } from "node:buffer";

/**
 * `Runtime.allocUnfilled` where `node:buffer` leaves memory uncleared (Node, Bun): an unpooled
 * unsafe `Buffer` (never a slice of the shared pool: its own memory), as a plain `Uint8Array`
 * so the frame path sees one shape.
 */
export function allocUnfilled(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}
