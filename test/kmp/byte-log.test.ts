/** The track's byte log (spec §5.1) with byte vectors: buffers, offsets, packet index, memory, release. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fromHex } from "../../src/bytes/bytes.ts";
import { BufferPool } from "../../src/bytes/buffer-pool.ts";
import { ByteLog, PACKET_FRAME, PACKET_MEDIA_INFO, PACKET_OTHER } from "../../src/kmp/byte-log.ts";
import type { KmpError } from "../../src/kmp/errors.ts";

const join = (views: Uint8Array[]) => Uint8Array.from(views.flatMap((v) => [...v]));

test("packets span fixed buffers (8 bytes of each lost to the header); reads give one view per buffer crossed", () => {
  // 24-byte buffers: 16 usable
  const log = new ByteLog({ bufferSize: 24, memLimit: 24 * 4, maxFreeBuffers: 1, pool: new BufferPool() });
  assert.equal(log.writePacket(PACKET_MEDIA_INFO, fromHex("01 02 03 04 05 06 07 08 09 0a"), null), false, "10 bytes: the first buffer is not full");
  assert.equal(log.appended, 0, "nothing visible before a buffer fills or is flushed");
  assert.equal(log.writePacket(PACKET_FRAME, fromHex("11 12 13 14"), fromHex("21 22 23 24 25 26 27 28")), true, "22 bytes: the first buffer filled");
  assert.equal(log.written, 22);
  assert.equal(log.appended, 16, "the full buffer is visible");
  const views = log.read(4, 22);
  assert.deepEqual(views.map((v) => v.byteLength), [12, 6], "one view per buffer crossed");
  assert.deepEqual(join(views), fromHex("05 06 07 08 09 0a 11 12 13 14 21 22 23 24 25 26 27 28"));
  assert.deepEqual(log.copy(10, 16), fromHex("11 12 13 14 21 22"));
  assert.deepEqual([log.firstPacket, log.packetCount], [0, 2]);
  assert.deepEqual(log.packet(0), { off: 0, len: 10, kind: PACKET_MEDIA_INFO });
  assert.deepEqual(log.packet(1), { off: 10, len: 12, kind: PACKET_FRAME });
  log.appendAll();
  assert.equal(log.appended, 22);
  assert.equal(log.memLeft, 96 - 2 * 24, "two buffers charged");
});

test("memory: the limit is checked when a buffer is needed; extra data doubles like the reference's", () => {
  const log = new ByteLog({ bufferSize: 24, memLimit: 24 * 2 + 64, maxFreeBuffers: 0, pool: new BufferPool() });
  log.chargeExtra(10);
  assert.equal(log.memLeft, 48, "extra data charged at least 64");
  log.chargeExtra(64);
  assert.equal(log.memLeft, 48, "64 still fits the charge");
  assert.throws(() => log.chargeExtra(65), (e: KmpError) => e.code === "KMP_ERR_MEM_LIMIT", "128 does not fit");
  log.writePacket(PACKET_FRAME, new Uint8Array(32), null);
  assert.equal(log.memLeft, 0);
  assert.throws(() => log.writePacket(PACKET_FRAME, new Uint8Array(1), null), (e: KmpError) => e.code === "KMP_ERR_MEM_LIMIT");
});

test("release frees whole buffers below the slowest ack; the free list charges them, the shared pool holds them", () => {
  const pool = new BufferPool();
  const log = new ByteLog({ bufferSize: 24, memLimit: 24 * 8, maxFreeBuffers: 1, pool });
  for (let i = 0; i < 4; i++) log.writePacket(PACKET_FRAME, Uint8Array.of(i, i, i, i, i, i, i, i, i, i, i, i), null); // 12 bytes each
  log.writePacket(PACKET_OTHER, fromHex("ee ee ee ee"), null);
  assert.equal(log.written, 52);
  log.release(15);
  assert.equal(log.memLeft, 24 * 8 - 4 * 24, "nothing released below one whole buffer");
  log.release(40);
  assert.equal(log.firstPacket, 2, "packets ending before the released base leave the index");
  assert.equal(log.memLeft, 24 * 8 - 3 * 24, "two in use, the first freed one on the free list (charged)");
  assert.equal(pool.held, 2 * 24, "both went to the shared pool: the free list is a charge, its storage is shared");
  assert.throws(() => log.read(10, 20), (e: KmpError) => e.code === "KMP_ERR_RELEASED");
  assert.deepEqual(log.copy(48, 52), fromHex("ee ee ee ee"));
  log.clear();
  assert.equal(log.memLeft, 24 * 8, "clear gives everything back");
  assert.equal(pool.held, 4 * 24);
});

test("a free-list charge is taken back by the track's next buffer, whoever holds the storage", () => {
  const pool = new BufferPool();
  const a = new ByteLog({ bufferSize: 24, memLimit: 24 * 3, maxFreeBuffers: 1, pool });
  const b = new ByteLog({ bufferSize: 24, memLimit: 24 * 3, maxFreeBuffers: 1, pool });
  a.writePacket(PACKET_FRAME, new Uint8Array(16), null); // one full buffer
  a.writePacket(PACKET_FRAME, new Uint8Array(4), null); // and a second
  a.release(16);
  assert.equal(a.memLeft, 24 * 3 - 2 * 24, "one in use, one charged on the free list");
  assert.equal(pool.held, 24, "its storage in the pool");
  b.writePacket(PACKET_FRAME, new Uint8Array(4), null);
  assert.equal(pool.held, 0, "another track's new buffer came from the pool");
  a.writePacket(PACKET_FRAME, new Uint8Array(12), null); // fills a's second buffer
  a.writePacket(PACKET_FRAME, new Uint8Array(16), null); // a third buffer: against the charge, newly made
  assert.equal(a.memLeft, 24 * 3 - 2 * 24, "two in use, the free-list charge taken back: nothing charged twice");
  assert.deepEqual(a.copy(20, 48), new Uint8Array(28), "the new buffer holds what was written");
  a.writePacket(PACKET_FRAME, new Uint8Array(16), null);
  assert.equal(a.memLeft, 0, "a fourth buffer is charged anew");
  assert.throws(() => a.writePacket(PACKET_FRAME, new Uint8Array(16), null), (e: KmpError) => e.code === "KMP_ERR_MEM_LIMIT", "the limit still holds");
});

test("the packet index is a ring: absolute packet numbers hold as buffers are released, and it stays near the live packets", () => {
  // 24-byte buffers (16 usable), 8-byte packets: two per buffer
  const log = new ByteLog({ bufferSize: 24, memLimit: 24 * 8, maxFreeBuffers: 2, pool: new BufferPool() });
  for (let i = 0; i < 1000; i++) {
    log.writePacket(i % 7 === 0 ? PACKET_MEDIA_INFO : PACKET_FRAME, Uint8Array.of(i & 0xff, 1, 2, 3, 4, 5, 6, 7), null);
    log.release(log.written - 16); // the slowest ack trails by two packets
    const first = log.firstPacket;
    assert.deepEqual(log.packet(first), { off: first * 8, len: 8, kind: first % 7 === 0 ? PACKET_MEDIA_INFO : PACKET_FRAME }, `packet ${first} after write ${i}`);
    const last = log.packetCount - 1;
    assert.deepEqual([log.packetOff(last), log.packetLen(last), log.packetKind(last)], [last * 8, 8, i % 7 === 0 ? PACKET_MEDIA_INFO : PACKET_FRAME]);
  }
  assert.equal(log.packetCount, 1000);
  assert.ok(log.firstPacket >= 996, `released packets leave the index (first ${log.firstPacket})`);
  assert.equal(log.indexCapacity, 16, "a handful of live packets never grows the ring");
  assert.equal(log.packet(log.firstPacket - 1), null, "a released packet is gone");
  assert.equal(log.packet(log.packetCount), null, "and one not yet written");
  // a slow ack: the ring (wrapped many times above) grows and keeps every packet in order
  const slow = new ByteLog({ bufferSize: 24, memLimit: 24 * 200, maxFreeBuffers: 2, pool: new BufferPool() });
  for (let i = 0; i < 10; i++) slow.writePacket(PACKET_FRAME, new Uint8Array(8), null);
  slow.release(80); // the ring's head moves to slot 10
  for (let i = 0; i < 100; i++) slow.writePacket(PACKET_FRAME, new Uint8Array(8), i % 2 ? new Uint8Array(4) : null);
  assert.equal(slow.indexCapacity, 128);
  assert.ok(slow.firstPacket > 0);
  for (let p = slow.firstPacket; p < slow.packetCount; p++) {
    assert.equal(slow.packetOff(p) + slow.packetLen(p), p + 1 < slow.packetCount ? slow.packetOff(p + 1) : slow.written, `packet ${p} ends where the next starts`);
  }
});
