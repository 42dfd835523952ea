/**
 * Process-wide counters and histograms for `GET /metrics` (Prometheus text format). Gauges that
 * mirror live state (sessions, tracks, memory) are read from the server when scraped.
 */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Labels = Record<string, string>;
const key = (name: string, labels: Labels) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`).join(",")}}`;

export class Metrics {
  readonly counters = new Map<string, { name: string; labels: Labels; value: number }>();
  readonly histograms = new Map<string, { name: string; labels: Labels; buckets: number[]; sum: number; count: number }>();

  inc(name: string, labels: Labels = {}, by = 1): void {
    this.counter(name, labels).value += by;
  }

  /** The counter itself (created at 0), for a caller that counts often: no key built per count. */
  counter(name: string, labels: Labels = {}): { value: number } {
    const k = key(name, labels);
    let c = this.counters.get(k);
    if (!c) this.counters.set(k, (c = { name, labels, value: 0 }));
    return c;
  }

  observe(name: string, labels: Labels, seconds: number): void {
    const k = key(name, labels);
    let h = this.histograms.get(k);
    if (!h) this.histograms.set(k, (h = { name, labels, buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.buckets[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** Counters and histograms as exposition lines (HELP/TYPE from `help`). */
  render(help: Record<string, [string, string]>): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const head = (name: string, type: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      out.push(`# HELP ${name} ${help[name]?.[1] ?? name}`, `# TYPE ${name} ${type}`);
    };
    for (const c of [...this.counters.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      head(c.name, "counter");
      out.push(`${key(c.name, c.labels).replace("{}", "")} ${c.value}`);
    }
    for (const h of this.histograms.values()) {
      head(h.name, "histogram");
      const l = (extra: Labels) => key(`${h.name}_bucket`, { ...h.labels, ...extra });
      BUCKETS.forEach((b, i) => out.push(`${l({ le: String(b) })} ${h.buckets[i]}`));
      out.push(`${l({ le: "+Inf" })} ${h.count}`);
      out.push(`${key(`${h.name}_sum`, h.labels).replace("{}", "")} ${h.sum}`);
      out.push(`${key(`${h.name}_count`, h.labels).replace("{}", "")} ${h.count}`);
    }
    return out;
  }
}
