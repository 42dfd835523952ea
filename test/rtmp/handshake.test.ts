import { test } from "node:test";
import assert from "node:assert/strict";
import { RtmpError } from "../../src/rtmp/errors.ts";
import {
  C1_SIZE, CLIENT_KEY_PARTIAL, computeDigest, digestOffset, findDigest, HandshakeServer, hmacSha256, SERVER_KEY_FULL, SERVER_KEY_PARTIAL,
} from "../../src/rtmp/handshake.ts";
import { rawRtmpScenarios, readBin } from "../helpers/fixtures.ts";
import { requireShared } from "../helpers/paths.ts";

function c0c1(version: number[], base?: number): Uint8Array {
  const b = new Uint8Array(1 + C1_SIZE);
  b[0] = 3;
  for (let i = 1; i < b.length; i++) b[i] = (i * 31 + 7) & 0xff;
  b.set([0, 0, 0, 0], 1);
  b.set(version, 5);
  if (base !== undefined) {
    const c1 = b.subarray(1);
    const pos = digestOffset(c1, base);
    c1.set(computeDigest(c1, pos, CLIENT_KEY_PARTIAL), pos);
  }
  return b;
}

function runAt(hs: HandshakeServer, input: Uint8Array, step: number) {
  const sent: Uint8Array[] = [];
  let done = false;
  let rest: Uint8Array | null = null;
  for (let i = 0; i < input.length; i += step) {
    const r = hs.push(input.subarray(i, i + step));
    sent.push(...r.send);
    if (r.done) {
      done = true;
      rest = r.rest;
      break;
    }
  }
  return { sent, done, rest };
}

test("simple handshake: S0+S1 echo C0+C1, S2 echoes C1, for any split", () => {
  const c = c0c1([0, 0, 0, 0]);
  const c2 = new Uint8Array(C1_SIZE).fill(5);
  const tail = Uint8Array.of(0x03, 0x00);
  const input = new Uint8Array([...c, ...c2, ...tail]);
  for (const step of [1, 7, 1537, input.length]) {
    const hs = new HandshakeServer();
    const r = runAt(hs, input, step);
    assert.equal(hs.variant, "simple");
    assert.deepEqual(r.sent[0], c);
    assert.deepEqual(r.sent[1], c.subarray(1));
    assert.ok(r.done);
    if (step <= input.length - tail.length) {
      // bytes after C2 are kept (only when they arrive in the same piece as the end of C2)
    }
  }
  const hs = new HandshakeServer();
  const whole = hs.push(input);
  assert.deepEqual(whole.rest, tail, "bytes after C2 are not lost");
});

for (const base of [772, 8]) {
  test(`digest handshake, client digest at base ${base}: S1 and S2 digests verify`, () => {
    const c = c0c1([9, 0, 0x7c, 2], base);
    const hs = new HandshakeServer();
    const r = hs.push(c);
    assert.equal(hs.variant, "digest");
    const s1 = r.send[0].subarray(1);
    assert.deepEqual([...s1.subarray(4, 8)], [0x0d, 0x0e, 0x0a, 0x0d]);
    const pos = digestOffset(s1, 8);
    assert.deepEqual(s1.subarray(pos, pos + 32), computeDigest(s1, pos, SERVER_KEY_PARTIAL));
    const cpos = findDigest(c.subarray(1), CLIENT_KEY_PARTIAL);
    const key = hmacSha256(SERVER_KEY_FULL, c.subarray(1 + cpos, 1 + cpos + 32));
    const s2 = r.send[1];
    assert.deepEqual(s2.subarray(C1_SIZE - 32), hmacSha256(key, s2.subarray(0, C1_SIZE - 32)));
  });
}

test("non-zero version without a valid digest falls back to the simple echo", () => {
  const hs = new HandshakeServer();
  const c = c0c1([9, 0, 0x7c, 2]);
  const r = hs.push(c);
  assert.equal(hs.variant, "simple");
  assert.deepEqual(r.send[0], c);
});

test("captured bytes of two other implementations verify with our digest functions (ffmpeg's C1/C2, the reference's S1/S2)", () => {
  requireShared();
  const scenarios = rawRtmpScenarios();
  assert.ok(scenarios.length > 0, "no capture with raw RTMP bytes");
  for (const s of scenarios) {
    const c2s = readBin(s, "conn1_c2s.bin");
    const s2c = readBin(s, "conn1_s2c.bin");
    const c1 = c2s.subarray(1, 1 + C1_SIZE);
    const c2 = c2s.subarray(1 + C1_SIZE, 1 + 2 * C1_SIZE);
    const s1 = s2c.subarray(1, 1 + C1_SIZE);
    const s2 = s2c.subarray(1 + C1_SIZE, 1 + 2 * C1_SIZE);
    // ffmpeg's C1 digest (client partial key) and the reference's S1 digest (server partial key)
    const cpos = findDigest(c1, CLIENT_KEY_PARTIAL);
    assert.ok(cpos > 0, `${s}: no valid digest in ffmpeg's C1`);
    const spos = findDigest(s1, SERVER_KEY_PARTIAL);
    assert.ok(spos > 0, `${s}: no valid digest in the reference's S1`);
    // the reference's S2 is signed with the key derived from ffmpeg's C1 digest
    const s2key = hmacSha256(SERVER_KEY_FULL, c1.subarray(cpos, cpos + 32));
    assert.deepEqual(s2.subarray(C1_SIZE - 32), hmacSha256(s2key, s2.subarray(0, C1_SIZE - 32)), `${s}: reference S2 signature`);
    // a publishing ffmpeg does not sign C2: it echoes S1 (a signed C2 would use the full client key)
    assert.deepEqual(c2, s1, `${s}: ffmpeg's C2 echoes S1`);
    const ours = new HandshakeServer();
    const r = ours.push(c2s.subarray(0, 1 + 2 * C1_SIZE));
    assert.equal(ours.variant, "digest");
    assert.ok(r.done, `${s}: our server completes the handshake on ffmpeg's bytes`);
  }
});

test("fixtures: ffmpeg's C1 carries a digest, and the reference answered with the digest variant", () => {
  requireShared();
  const scenarios = rawRtmpScenarios();
  assert.ok(scenarios.length >= 6, `${scenarios.length} scenarios`);
  for (const s of scenarios) {
    const c2s = readBin(s, "conn1_c2s.bin");
    const s2c = readBin(s, "conn1_s2c.bin");
    const hs = new HandshakeServer();
    hs.push(c2s.subarray(0, 1537));
    assert.equal(hs.variant, "digest", s);
    assert.deepEqual([...s2c.subarray(5, 9)], [0x0d, 0x0e, 0x0a, 0x0d], `${s}: reference S1 version`);
  }
});

test("C0 other than 3 is refused with a coded error", () => {
  const hs = new HandshakeServer();
  assert.throws(() => hs.push(Uint8Array.of(0x06, 1, 2)), (e: RtmpError) => e.code === "RTMP_ERR_HANDSHAKE_VERSION");
});
