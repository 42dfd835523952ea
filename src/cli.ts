#!/usr/bin/env -S npx tsx
/** Program entry, identical on Deno, Bun and Node (tsx): `… src/cli.ts [flags]`. */
import { main } from "./main.ts";
import { getRuntime } from "./runtime/detect.ts";

getRuntime().then(async (rt) => {
  const code = await main(rt.args(), rt);
  rt.exit(code);
}).catch((err) => {
  console.error(`fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  // deno-lint-ignore no-process-global
  (globalThis as { process?: { exit(c: number): never } }).process?.exit(1);
});
