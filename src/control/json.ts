import { CtrlError } from "./errors.ts";

/**
 * JSON string escaping as nginx's escaper does it: `"` and `\` backslash-escaped, control
 * characters escaped, everything else (non-ASCII included) passed through as is.
 */
export function jsonString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(start, i);
    start = i + 1;
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += "\\\\"; break;
      case 0x08: out += "\\b"; break;
      case 0x0c: out += "\\f"; break;
      case 0x0a: out += "\\n"; break;
      case 0x0d: out += "\\r"; break;
      case 0x09: out += "\\t"; break;
      default: out += "\\u00" + c.toString(16).padStart(2, "0");
    }
  }
  return out + s.slice(start) + '"';
}

/**
 * Strict JSON parse for controller answers (spec §6.1): syntax errors, duplicate keys in one
 * object, and arrays mixing element types are all invalid.
 */
export function parseControlJson(text: string): unknown {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new CtrlError("CTRL_ERR_BAD_JSON", `${msg} at offset ${i}`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  const value = (depth: number): unknown => {
    if (depth > 64) fail("nesting too deep");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const o: Record<string, unknown> = Object.create(null);
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const k = str();
        if (seen.has(k)) fail(`duplicate key "${k}"`);
        seen.add(k);
        ws();
        if (text[i++] !== ":") fail("expected ':'");
        o[k] = value(depth + 1);
        ws();
        const d = text[i++];
        if (d === "}") return o;
        if (d !== ",") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const a: unknown[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return a;
      }
      for (;;) {
        const v = value(depth + 1);
        if (a.length && kind(v) !== kind(a[0])) fail("array elements of different types");
        a.push(v);
        ws();
        const d = text[i++];
        if (d === "]") return a;
        if (d !== ",") fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (m && m[0].length) {
      i += m[0].length;
      return Number(m[0]);
    }
    for (const [lit, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    return fail("unexpected character");
  };
  const str = (): string => {
    const start = i;
    i++;
    let esc = false;
    while (i < n) {
      const c = text[i];
      if (c === "\\") {
        esc = true;
        i += 2;
        continue;
      }
      if (c === '"') break;
      if (c.charCodeAt(0) < 0x20) fail("control character in string");
      i++;
    }
    if (i >= n) fail("unterminated string");
    i++;
    const raw = text.slice(start, i);
    if (!esc) return raw.slice(1, -1);
    try {
      return JSON.parse(raw);
    } catch {
      return fail("bad escape in string");
    }
  };
  const v = value(0);
  ws();
  if (i !== n) fail("trailing characters");
  return v;
}
