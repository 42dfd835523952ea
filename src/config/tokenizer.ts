import { ConfigError } from "./errors.ts";

/** One nginx directive: its words and, for block directives, the children. */
export type Directive = { name: string; args: string[]; line: number; block: Directive[] | null };

/**
 * Parses nginx configuration syntax: words, single/double quoted strings with `\` escapes,
 * `#` comments, `;` ends a directive, `{ … }` a block. Line numbers are kept for messages.
 */
export function parseNginxSyntax(text: string, file: string): Directive[] {
  let i = 0;
  let line = 1;
  const n = text.length;

  type Tok = { kind: "word" | ";" | "{" | "}" | "eof"; value: string; line: number };

  const next = (): Tok => {
    for (;;) {
      while (i < n && /\s/.test(text[i])) {
        if (text[i] === "\n") line++;
        i++;
      }
      if (i < n && text[i] === "#") {
        while (i < n && text[i] !== "\n") i++;
        continue;
      }
      break;
    }
    if (i >= n) return { kind: "eof", value: "", line };
    const c = text[i];
    if (c === ";" || c === "{" || c === "}") {
      i++;
      return { kind: c, value: c, line };
    }
    const start = line;
    if (c === '"' || c === "'") {
      i++;
      let v = "";
      while (i < n && text[i] !== c) {
        if (text[i] === "\\" && i + 1 < n) {
          const e = text[i + 1];
          v += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
          i += 2;
          continue;
        }
        if (text[i] === "\n") line++;
        v += text[i++];
      }
      if (i >= n) throw new ConfigError("CONFIG_ERR_SYNTAX", "unterminated quoted string", { file, line: start, directive: "" });
      i++;
      return { kind: "word", value: v, line: start };
    }
    let v = "";
    while (i < n && !/[\s;{}]/.test(text[i])) {
      if (text[i] === "\\" && i + 1 < n) {
        v += text[i + 1];
        i += 2;
        continue;
      }
      v += text[i++];
    }
    return { kind: "word", value: v, line: start };
  };

  const parseBlock = (depth: number): Directive[] => {
    const out: Directive[] = [];
    for (;;) {
      const t = next();
      if (t.kind === "eof") {
        if (depth > 0) throw new ConfigError("CONFIG_ERR_SYNTAX", "unexpected end of file, expecting \"}\"", { file, line: t.line, directive: "" });
        return out;
      }
      if (t.kind === "}") {
        if (depth === 0) throw new ConfigError("CONFIG_ERR_SYNTAX", "unexpected \"}\"", { file, line: t.line, directive: "" });
        return out;
      }
      if (t.kind !== "word") throw new ConfigError("CONFIG_ERR_SYNTAX", `unexpected "${t.value}"`, { file, line: t.line, directive: "" });
      const d: Directive = { name: t.value, args: [], line: t.line, block: null };
      for (;;) {
        const a = next();
        if (a.kind === "word") {
          d.args.push(a.value);
          continue;
        }
        if (a.kind === ";") break;
        if (a.kind === "{") {
          d.block = parseBlock(depth + 1);
          break;
        }
        throw new ConfigError("CONFIG_ERR_SYNTAX", a.kind === "eof" ? "unexpected end of file, expecting \";\" or \"}\"" : `unexpected "${a.value}", expecting ";"`, { file, line: a.line, directive: d.name });
      }
      out.push(d);
    }
  };

  return parseBlock(0);
}
