#!/usr/bin/env node
// Node single executable: esbuild CJS bundle → SEA blob → copy of node with the blob injected.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (n) => join(root, "node_modules", ".bin", n);
const out = join(root, "dist");
mkdirSync(join(out, "sea"), { recursive: true });
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });
run(bin("esbuild"), ["src/cli.ts", "--bundle", "--platform=node", "--target=node20", "--format=cjs", "--log-level=warning", `--outfile=${join(out, "sea", "app.cjs")}`]);
writeFileSync(join(out, "sea", "sea-config.json"), JSON.stringify({ main: join(out, "sea", "app.cjs"), output: join(out, "sea", "sea-prep.blob"), disableExperimentalSEAWarning: true, useCodeCache: true, execArgv: ["--max-semi-space-size=8"] }));
run(process.execPath, ["--experimental-sea-config", join(out, "sea", "sea-config.json")]);
const exe = join(out, "rtmp-kmp-node");
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
run(bin("postject"), [exe, "NODE_SEA_BLOB", join(out, "sea", "sea-prep.blob"), "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"]);
console.log(`built ${exe}`);
