import { test } from "node:test";
import assert from "node:assert/strict";
import { mutableField } from "../src/mutable-field.ts";

test("mutableField: the field keeps its value and no field is added; a name the object lacks is a programming error", () => {
  const o = { closing: false, end: -1, list: [1] };
  const list = o.list;
  mutableField(o, "closing", true);
  mutableField(o, "end", 0);
  mutableField(o, "list", []);
  assert.deepEqual(o, { closing: false, end: -1, list: [1] });
  assert.equal(o.list, list);
  assert.throws(() => mutableField(o, "closed", true), /no field 'closed'/);
  assert.deepEqual(Object.keys(o), ["closing", "end", "list"]);
});
