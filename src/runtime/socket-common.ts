/** What every runtime adapter's sockets share. */

/** Bytes a socket's readable queue holds before the adapter stops reading (pause / no read). */
export const READ_HIGH_WATER = 256 * 1024;

/** Bytes a queued chunk is counted beyond its length (the view object itself). */
export const CHUNK_OVERHEAD = 64;

/** The queuing strategy of a socket's readable: bytes, each chunk with its overhead. */
export const readQueue: QueuingStrategy<Uint8Array> = { highWaterMark: READ_HIGH_WATER, size: (c) => c.byteLength + CHUNK_OVERHEAD };

/** `::ffff:1.2.3.4` → `1.2.3.4`; IPv6 stays without brackets. */
export function plainIp(ip: string | undefined): string {
  if (!ip) return "";
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}
