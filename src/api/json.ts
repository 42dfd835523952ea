/**
 * Compact JSON in a fixed key order with the reference's number formats: objects render their
 * keys in insertion order, `Raw` values are emitted verbatim (e.g. `25.00`, a pre-rendered block).
 */
export class Raw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** `n/d` printed with two truncated decimals like the reference's `%d.%02d` (spec §6.4). */
export function fixed2(value: number): Raw {
  if (!Number.isFinite(value) || value <= 0) return new Raw("0.00");
  const hundredths = Math.floor(value * 100 + 1e-9);
  const int = Math.floor(hundredths / 100);
  const frac = hundredths % 100;
  return new Raw(`${int}.${frac < 10 ? "0" : ""}${frac}`);
}

/** Object key whose `Raw` value is spliced in as key/value pairs. */
export const SPLICE = "\u0000rtmp_info";

export function renderJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "0";
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
  }
  if (Array.isArray(value)) return `[${value.map(renderJson).join(",")}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (k === SPLICE && v instanceof Raw) {
      // a pre-rendered `"key":value,…` fragment
      parts.push(v.text);
      continue;
    }
    parts.push(`${JSON.stringify(k)}:${renderJson(v)}`);
  }
  return `{${parts.join(",")}}`;
}
