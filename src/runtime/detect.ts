import type { Runtime } from "./types.ts";

/** Which runtime executes this process. */
export const runtimeName: Runtime["name"] = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/**
 * The native adapter of the running runtime (only that adapter's module is loaded). Each call
 * builds a new adapter object: the program asks once and passes it down.
 */
export async function getRuntime(): Promise<Runtime> {
  switch (runtimeName) {
    case "deno":
      return (await import("./deno.ts")).denoRuntime();
    case "bun":
      return (await import("./bun.ts")).bunRuntime();
    default:
      return (await import("./node.ts")).nodeRuntime();
  }
}
