import type { Runtime } from "./types.ts";

/** Which runtime executes this process. */
export const runtimeName: Runtime["name"] = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

let cached: Promise<Runtime> | null = null;

/** The native adapter of the running runtime (only that adapter's module is loaded). */
export function getRuntime(): Promise<Runtime> {
  cached ??= (async () => {
    switch (runtimeName) {
      case "deno":
        return (await import("./deno.ts")).denoRuntime();
      case "bun":
        return (await import("./bun.ts")).bunRuntime();
      default:
        return (await import("./node.ts")).nodeRuntime();
    }
  })();
  return cached;
}
