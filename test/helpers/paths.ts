import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The shared folder beside the repo (spec, fixtures, conformance runner); SHARED_DIR overrides. */
export const SHARED = process.env.SHARED_DIR ?? resolve(ROOT, "..", "shared");
export const FIXTURES = join(SHARED, "fixtures");
export const SCENARIOS = join(FIXTURES, "scenarios");
export const INPUTS = join(FIXTURES, "inputs");
export const hasShared = existsSync(SCENARIOS);

/** Which runtime runs this test file. */
export const RUNTIME: "deno" | "bun" | "node" = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** The command that starts our server under the same runtime as the test. */
export function serverCommand(runtime = RUNTIME): string[] {
  const bin = (n: string) => join(ROOT, "node_modules", ".bin", n);
  const cli = join(ROOT, "src", "cli.ts");
  switch (runtime) {
    case "deno":
      return [bin("deno"), "run", "-A", "--no-check", cli];
    case "bun":
      return [bin("bun"), "run", cli];
    default:
      return [process.execPath, "--import", pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href, cli];
  }
}

/** Fails (never skips) when ../shared is missing: a test that needs the fixtures cannot pass without them. */
export function requireShared(): void {
  if (!hasShared) throw new Error(`the shared fixtures are missing: ${SCENARIOS} (set SHARED_DIR)`);
}
