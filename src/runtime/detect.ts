import type { Runtime } from "./types.ts";

/** Which runtime executes this process. */
export const runtimeName: Runtime["name"] = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

let cached: Promise<Runtime> | null = null;

/** The native adapter of the running runtime (only that adapter's module is loaded). */
export function getRuntime(): Promise<Runtime> {
  cached ??= (async () => {
    switch (runtimeName) {
      default:
        return (await import("./node.ts")).nodeRuntime();
    }
  })();
  return cached;
}
