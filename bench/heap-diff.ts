/**
 * Two V8 heap snapshots (.heapsnapshot, e.g. from `node --heapsnapshot-signal=SIGUSR2`, or the
 * inspector of Deno and Node) compared by constructor: objects and self bytes in each, and the
 * change, largest growth first. With one file: its top constructors.
 *
 *   npx tsx bench/heap-diff.ts BEFORE.heapsnapshot [AFTER.heapsnapshot] [--top 25]
 */
import { readFileSync } from "node:fs";

type Snapshot = {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
};
type Row = { count: number; bytes: number };

function byConstructor(path: string): Map<string, Row> {
  const s = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = [f.indexOf("type"), f.indexOf("name"), f.indexOf("self_size")];
  const out = new Map<string, Row>();
  for (let i = 0; i < s.nodes.length; i += f.length) {
    const type = types[s.nodes[i + iType]];
    const name = s.strings[s.nodes[i + iName]];
    // objects by constructor; strings, arrays, code and the rest by their type
    const key = type === "object" || type === "closure" || type === "native" ? `${type === "closure" ? "closure " : ""}${name}` : `(${type})`;
    const r = out.get(key) ?? { count: 0, bytes: 0 };
    r.count++;
    r.bytes += s.nodes[i + iSize];
    out.set(key, r);
  }
  return out;
}

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const files = args.filter((a, i) => !a.startsWith("--") && (topAt < 0 || i !== topAt + 1));
const a = byConstructor(files[0]);
const b = files[1] ? byConstructor(files[1]) : null;
const total = (m: Map<string, Row>) => [...m.values()].reduce((x, r) => x + r.bytes, 0);
const kb = (n: number) => (n / 1024).toFixed(0).padStart(8);
if (!b) {
  console.log(`total ${kb(total(a))} KB`);
  for (const [k, r] of [...a].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, top)) console.log(`${kb(r.bytes)} KB ${String(r.count).padStart(8)}  ${k}`);
} else {
  console.log(`total ${kb(total(a))} KB → ${kb(total(b))} KB`);
  const keys = new Set([...a.keys(), ...b.keys()]);
  const rows = [...keys].map((k) => {
    const x = a.get(k) ?? { count: 0, bytes: 0 };
    const y = b.get(k) ?? { count: 0, bytes: 0 };
    return { k, x, y, d: y.bytes - x.bytes };
  }).sort((p, q) => q.d - p.d);
  console.log("   before KB    after KB    Δ KB   objects before → after  constructor");
  for (const r of rows.slice(0, top)) {
    console.log(`${kb(r.x.bytes)}    ${kb(r.y.bytes)} ${kb(r.d)}   ${String(r.x.count).padStart(8)} → ${String(r.y.count).padEnd(8)} ${r.k}`);
  }
}
