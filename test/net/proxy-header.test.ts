import { test } from "node:test";
import assert from "node:assert/strict";
import { fromHex } from "../../src/bytes/bytes.ts";
import { parseProxyHeader, ProxyHeaderError } from "../../src/net/proxy-header.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
const SIG = "0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a";

/** Feeds `b` a byte at a time: null until the last byte, then the header. */
function byteByByte(b: Uint8Array) {
  for (let i = 1; i < b.length; i++) assert.equal(parseProxyHeader(b.subarray(0, i)), null, `complete after ${i} of ${b.length} bytes`);
  return parseProxyHeader(b);
}

test("PROXY v1 (HAProxy spec §2.1 examples): TCP4, TCP6, UNKNOWN, any split, bytes after it untouched", () => {
  const v4 = ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /");
  assert.deepEqual(parseProxyHeader(v4), { length: 47, source: { hostname: "192.168.0.1", port: 56324 }, version: 1 });
  assert.deepEqual(byteByByte(v4.subarray(0, 47)), { length: 47, source: { hostname: "192.168.0.1", port: 56324 }, version: 1 });
  const v6 = ascii("PROXY TCP6 ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n".replace("ffff:f...f:ffff ffff:f...f:ffff", "2001:db8::1 2001:db8::2"));
  assert.deepEqual(parseProxyHeader(v6)?.source, { hostname: "2001:db8::1", port: 65535 });
  assert.deepEqual(parseProxyHeader(ascii("PROXY UNKNOWN\r\n")), { length: 15, source: null, version: 1 });
  assert.deepEqual(parseProxyHeader(ascii("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"))?.source, null);
});

test("PROXY v2: TCP4, TCP6 (v4-mapped too), LOCAL, TLVs skipped, any split", () => {
  const v4 = fromHex(`${SIG} 21 11 00 0c 7f 00 00 01 7f 00 00 02 d4 31 07 8f 03 00`);
  assert.deepEqual(byteByByte(v4.subarray(0, 28)), { length: 28, source: { hostname: "127.0.0.1", port: 54321 }, version: 2 });
  const withTlv = fromHex(`${SIG} 21 11 00 11 0a 00 00 05 0a 00 00 06 00 50 01 bb 04 00 02 68 32`);
  assert.deepEqual(parseProxyHeader(withTlv), { length: 33, source: { hostname: "10.0.0.5", port: 80 }, version: 2 });
  const v6 = fromHex(`${SIG} 21 21 00 24 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02 04 d2 00 50`);
  assert.deepEqual(parseProxyHeader(v6)?.source, { hostname: "2001:db8::1", port: 1234 });
  const mapped = fromHex(`${SIG} 21 21 00 24 00 00 00 00 00 00 00 00 00 00 ff ff c0 a8 01 02 00 00 00 00 00 00 00 00 00 00 ff ff c0 a8 01 03 04 d2 00 50`);
  assert.deepEqual(parseProxyHeader(mapped)?.source, { hostname: "192.168.1.2", port: 1234 });
  assert.deepEqual(parseProxyHeader(fromHex(`${SIG} 20 00 00 00`)), { length: 16, source: null, version: 2 });
});

test("PROXY: a missing or malformed header is refused at once with a coded error", () => {
  const bad = (b: Uint8Array, code: string) =>
    assert.throws(() => parseProxyHeader(b), (e: ProxyHeaderError) => e instanceof ProxyHeaderError && e.code === code, `${code}`);
  bad(Uint8Array.of(0x03, 0, 0, 0), "PROXY_ERR_MISSING"); // an RTMP C0 straight to a proxy_protocol port
  bad(ascii("PRONTO"), "PROXY_ERR_MISSING");
  bad(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "PROXY_ERR_BAD_V1");
  bad(ascii("PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n"), "PROXY_ERR_BAD_V1");
  bad(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n"), "PROXY_ERR_BAD_V1");
  bad(ascii("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), "PROXY_ERR_BAD_V1");
  bad(ascii(`PROXY TCP4 ${"1".repeat(120)}`), "PROXY_ERR_TOO_LONG");
  bad(fromHex(`${SIG} 31 11 00 0c`), "PROXY_ERR_BAD_V2");
  bad(fromHex(`${SIG} 22 11 00 0c`), "PROXY_ERR_BAD_V2");
  bad(fromHex(`${SIG} 21 11 ff ff`), "PROXY_ERR_TOO_LONG");
  bad(fromHex(`${SIG} 21 11 00 04 7f 00 00 01`), "PROXY_ERR_BAD_V2");
  bad(fromHex("0d 0a 0d 0a 00 0d 0a 51 55 49 54 0b"), "PROXY_ERR_MISSING");
});
