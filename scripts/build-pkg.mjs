#!/usr/bin/env node
// The npm package's entries (`npm pack` runs this as `prepack`): src/cli.ts and mod.ts bundled
// by esbuild into dist/pkg/ as plain ESM JavaScript with hono and valibot inside, so the
// installed package runs on Node 24 with neither tsx nor the TypeScript source (Node does not
// strip types under node_modules). The program's shebang carries the young-generation setting
// that keeps Node's memory flat (README, "Memory after the publishers leave") and glibc's one
// malloc arena (README, "Memory per publisher on Node").
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, "dist", "pkg");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const esbuild = join(root, "node_modules", ".bin", "esbuild");
const common = ["--bundle", "--platform=node", "--target=node24", "--format=esm", "--log-level=warning"];
const cli = join(out, "cli.mjs");
execFileSync(esbuild, ["src/cli.ts", ...common, `--outfile=${cli}`], { cwd: root, stdio: "inherit" });
// the source's own `#!… tsx` line is replaced
const code = readFileSync(cli, "utf8").replace(/^#!.*\n/, "");
writeFileSync(cli, `#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=8\n${code}`);
execFileSync(esbuild, ["mod.ts", ...common, `--outfile=${join(out, "mod.mjs")}`], { cwd: root, stdio: "inherit" });
chmodSync(cli, 0o755);
console.log(`built ${out}/cli.mjs and mod.mjs`);
