import { test } from "node:test";
import assert from "node:assert/strict";
import { fromHex } from "../../src/bytes/bytes.ts";
import { RtmpError } from "../../src/rtmp/errors.ts";
import { decodeAmf0, EcmaArray, encodeAmf0 } from "../../src/rtmp/amf0.ts";
import { normalizeApp, splitNameArgs, truncateBytes } from "../../src/rtmp/commands.ts";

test("AMF0 round trip of every encodable type", () => {
  const values = [1.5, true, "héllo", null, undefined, { a: 1, b: "x", c: { d: false } }, [1, "two", null], new EcmaArray({ k: 3 })];
  const decoded = decodeAmf0(encodeAmf0(...values));
  assert.deepEqual(JSON.parse(JSON.stringify(decoded.slice(0, 5))), [1.5, true, "héllo", null, null]);
  assert.equal(decoded[4], undefined);
  assert.deepEqual({ ...(decoded[5] as object) }, { a: 1, b: "x", c: decoded[5] && (decoded[5] as Record<string, unknown>).c });
  assert.deepEqual({ ...((decoded[5] as Record<string, object>).c) }, { d: false });
  assert.deepEqual(decoded[6], [1, "two", null]);
  assert.deepEqual({ ...(decoded[7] as object) }, { k: 3 });
});

test("AMF0 byte vector: the reference's connect _result body (spec §1.7)", () => {
  const body = fromHex(`02 00 07 5f 72 65 73 75 6c 74 00 3f f0 00 00 00 00 00 00 03
    00 06 66 6d 73 56 65 72 02 00 0d 46 4d 53 2f 33 2c 30 2c 31 2c 31 32 33 00 0c 63 61 70 61 62 69
    6c 69 74 69 65 73 00 40 3f 00 00 00 00 00 00 00 00 09 03 00 05 6c 65 76 65 6c 02 00 06 73 74 61
    74 75 73 00 04 63 6f 64 65 02 00 1d 4e 65 74 43 6f 6e 6e 65 63 74 69 6f 6e 2e 43 6f 6e 6e 65 63
    74 2e 53 75 63 63 65 73 73 00 0b 64 65 73 63 72 69 70 74 69 6f 6e 02 00 15 43 6f 6e 6e 65 63 74
    69 6f 6e 20 73 75 63 63 65 65 64 65 64 2e 00 0e 6f 62 6a 65 63 74 45 6e 63 6f 64 69 6e 67 00 00
    00 00 00 00 00 00 00 00 00 09`);
  assert.equal(body.length, 190);
  const v = decodeAmf0(body);
  assert.equal(v[0], "_result");
  assert.equal((v[3] as Record<string, unknown>).code, "NetConnection.Connect.Success");
  assert.deepEqual(encodeAmf0(...v.map((x) => (x && typeof x === "object" ? { ...x } : x))), body);
});

test("AMF0: other markers (date, long string, typed object, AMF3 switch) decode", () => {
  const date = fromHex("0b 42 78 00 00 00 00 00 00 00 00");
  assert.ok(decodeAmf0(date)[0] instanceof Date);
  assert.equal(decodeAmf0(fromHex("0c 00 00 00 02 68 69"))[0], "hi");
  const typed = decodeAmf0(fromHex("10 00 01 54 00 01 61 00 3f f0 00 00 00 00 00 00 00 00 09"))[0] as Record<string, unknown>;
  assert.equal(typed.a, 1);
  // AMF3: integer 5, string "ok", dynamic anonymous object {x: true}
  assert.equal(decodeAmf0(fromHex("11 04 05"))[0], 5);
  assert.equal(decodeAmf0(fromHex("11 06 05 6f 6b"))[0], "ok");
  const o = decodeAmf0(fromHex("11 0a 0b 01 03 78 03 01"))[0] as Record<string, unknown>;
  assert.equal(o.x, true);
});

test("AMF0: an object without its end marker at the end of the payload is accepted (spec §1.6)", () => {
  const v = decodeAmf0(fromHex("03 00 01 61 00 3f f0 00 00 00 00 00 00"));
  assert.equal((v[0] as Record<string, unknown>).a, 1);
});

test("AMF bombs fail fast with RTMP_ERR_AMF", () => {
  const deep = new Uint8Array(4 * 10000);
  for (let i = 0; i < 10000; i++) deep.set([0x03, 0x00, 0x01, 0x61], i * 4);
  assert.throws(() => decodeAmf0(deep), (e: RtmpError) => e.code === "RTMP_ERR_AMF" && /nesting/.test(e.message));
  assert.throws(() => decodeAmf0(fromHex("0a ff ff ff ff 05")), (e: RtmpError) => e.code === "RTMP_ERR_AMF");
  assert.throws(() => decodeAmf0(fromHex("02 ff ff 41")), (e: RtmpError) => e.code === "RTMP_ERR_AMF");
  assert.throws(() => decodeAmf0(fromHex("11 09 ff ff ff 7f 01")), (e: RtmpError) => e.code === "RTMP_ERR_AMF");
  assert.throws(() => decodeAmf0(fromHex("0d")), (e: RtmpError) => e.code === "RTMP_ERR_AMF");
});

test("connect app normalisation, name/args split and byte truncation (spec §1.7-1.9)", () => {
  assert.equal(normalizeApp("live"), "live");
  assert.equal(normalizeApp("live/"), "live");
  assert.equal(normalizeApp("live?arg=1"), "live");
  assert.equal(normalizeApp("myapp/_definst_"), "myapp");
  assert.equal(normalizeApp("a/_definst_"), "a", "longer than 10 characters: suffix removed");
  assert.equal(normalizeApp("/_definst_"), "/_definst_", "exactly 10 characters: kept");
  assert.deepEqual(splitNameArgs("streamname_1?arg=value?x"), { name: "streamname_1", args: "arg=value?x" });
  assert.deepEqual(splitNameArgs("plain"), { name: "plain", args: "" });
  assert.equal(new TextEncoder().encode(truncateBytes("é".repeat(200), 255)).length <= 255, true);
});
