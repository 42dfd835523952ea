import assert from "node:assert/strict";

/**
 * A controller event body as a strict parser sees it: valid JSON, and every number finite
 * (`JSON.parse("1e400")` is Infinity, which no u32/i64 field can hold).
 */
export function assertStrictJson(raw: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    assert.fail(`not valid JSON (${(err as Error).message}): ${raw.slice(0, 300)}`);
  }
  const walk = (x: unknown, path: string): void => {
    if (typeof x === "number") assert.ok(Number.isFinite(x), `${path} is ${x} in ${raw.slice(0, 300)}`);
    else if (Array.isArray(x)) x.forEach((y, i) => walk(y, `${path}[${i}]`));
    else if (x && typeof x === "object") for (const [k, y] of Object.entries(x)) walk(y, `${path}.${k}`);
  };
  walk(v, "$");
  return v;
}
