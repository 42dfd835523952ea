/**
 * Churn soak of one server process (see `soak.ts`): per cycle RSS, heap used, open descriptors,
 * sessions and tracks left, callbacks; at the end the verdict — exact accounting in every cycle,
 * nothing left, the mean RSS of the last third of the cycles within 16 MB of the first third
 * (after cycle 1), and RSS after the last cycle's rest against RSS before the first publisher.
 *
 *   npx tsx bench/soak.bench.ts [node|deno|bun] [--cycles 40] [--n 100] [--cycle-s 20] [--fault-every 2]
 *   npx tsx bench/soak.bench.ts node --short     # 3 cycles × 10 publishers × 6 s (what CI runs)
 *
 * Exit status 1 when accounting fails or something is left (RSS growth is reported, not failed).
 */
import { parseArgs } from "node:util";
import { runSoak } from "./soak.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cycles: { type: "string" },
    n: { type: "string" },
    "cycle-s": { type: "string" },
    "fault-every": { type: "string", default: "2" },
    short: { type: "boolean", default: false },
  },
});
const server = (positionals[0] ?? "node") as "node" | "deno" | "bun";
const short = values.short;
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const o = {
  server,
  cycles: num(values.cycles, short ? 3 : 40),
  n: num(values.n, short ? 10 : 100),
  cycleS: num(values["cycle-s"], short ? 6 : 20),
  faultEvery: Number(values["fault-every"]),
  failEvery: 10,
  hangEvery: 20,
  settleS: 30,
  onCycle: (r: unknown) => console.log(JSON.stringify(r)),
};
const res = await runSoak(o);
const bad = res.rows.flatMap((r) => [
  ...r.accountingErrors.map((e) => `cycle ${r.cycle}: ${e}`),
  ...(r.sessions !== 0 || r.tracks !== 0 ? [`cycle ${r.cycle}: ${r.sessions} sessions and ${r.tracks} tracks left`] : []),
  ...(r.alive ? [] : [`cycle ${r.cycle}: server died`]),
]);
const sum = (k: "publish" | "unpublish" | "republish") => res.rows.reduce((a, r) => a + r[k], 0);
const grew = res.lateMb - res.earlyMb;
console.log(`soak[${server}]: ${bad.length ? "FAIL" : "PASS"} ${res.rows.length} cycles × ${o.n} publishers, ` +
  `${res.rows.filter((r) => r.fault).length} receiver kills; publish ${sum("publish")}, unpublish ${sum("unpublish")}, republish ${sum("republish")}; ` +
  `RSS early ${res.earlyMb.toFixed(1)} MB, late ${res.lateMb.toFixed(1)} MB (${grew >= 0 ? "+" : ""}${grew.toFixed(1)} MB${grew > 16 ? ", above the 16 MB bound" : ""}); ` +
  `idle ${res.idleMb.toFixed(1)} MB, after the last cycle's rest ${res.restMb.toFixed(1)} MB (×${(res.restMb / res.idleMb).toFixed(2)} idle); ` +
  `fds ${res.rows[0]?.fds}→${res.rows.at(-1)?.fds}; logs ${res.logDir}` + (bad.length ? `\n  ${bad.slice(0, 20).join("\n  ")}` : ""));
process.exit(bad.length ? 1 : 0);
