import type { MemoryUsage } from "./types.ts";

/** What `process.memoryUsage()` (Node, Bun) and `Deno.memoryUsage()` return. */
export type RuntimeMemory = { rss: number; heapUsed: number; heapTotal: number; external: number };

export function memoryOf(m: RuntimeMemory): MemoryUsage {
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}
