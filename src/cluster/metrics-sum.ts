/**
 * Sums Prometheus text expositions sample by sample (same name and labels): the counters and
 * gauges of several workers become one process's. HELP/TYPE lines are kept once, in the order
 * the families first appear; samples stay under their family.
 */
export function sumExpositions(texts: string[]): string {
  const families = new Map<string, { head: string[]; samples: Map<string, number> }>();
  for (const text of texts) {
    let family: { head: string[]; samples: Map<string, number> } | null = null;
    for (const line of text.split("\n")) {
      if (!line) continue;
      if (line.startsWith("#")) {
        const m = /^# (HELP|TYPE) (\S+)/.exec(line);
        if (!m) continue;
        family = families.get(m[2]) ?? null;
        if (!family) families.set(m[2], (family = { head: [], samples: new Map() }));
        if (family.head.length < 2 && !family.head.some((h) => h.startsWith(`# ${m[1]} `))) family.head.push(line);
        continue;
      }
      const sp = line.lastIndexOf(" ");
      if (sp <= 0) continue;
      const key = line.slice(0, sp);
      const value = Number(line.slice(sp + 1));
      if (!family) {
        const name = /^[^{\s]+/.exec(key)![0];
        family = families.get(name) ?? null;
        if (!family) families.set(name, (family = { head: [], samples: new Map() }));
      }
      family.samples.set(key, (family.samples.get(key) ?? 0) + (Number.isFinite(value) ? value : 0));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    out.push(...f.head);
    for (const [k, n] of f.samples) out.push(`${k} ${n}`);
  }
  return out.join("\n") + "\n";
}
