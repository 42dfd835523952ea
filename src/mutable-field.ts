/**
 * Marks a field of `o` as one that changes: writes `other` into it and its own value back. V8
 * treats a field that only its constructor wrote as a constant, and optimized code that reads it
 * depends on that: the first later write to that field of any object of the class throws the
 * code away. A field a class writes only late in its life — a closing flag, an end offset, state
 * dropped at teardown — was first written when the first session ended, and the frame path of
 * every session, compiled by then, was compiled again (37 pieces of optimized code at the end of
 * one trace's first publish, `bench/RESULTS.md`, session 20). A constructor calls this for such
 * a field, before anything is compiled. Elsewhere (JavaScriptCore) it is two plain writes.
 *
 * `other` must be a value of the kind the field later holds (a small integer for a counter, an
 * object for a reference), so the write changes no field's representation.
 */
export function mutableField(o: object, key: string, other: unknown): void {
  const fields = o as Record<string, unknown>;
  if (!Object.hasOwn(fields, key)) throw new TypeError(`mutableField: no field '${key}'`);
  const v = fields[key];
  fields[key] = other;
  fields[key] = v;
}
