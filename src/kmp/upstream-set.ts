import type { KmpUpstream } from "./upstream.ts";
import { objectList } from "../object-list.ts";

/**
 * The upstreams of one track (replication, spec §5.3) and what they hold back together: the
 * slowest acknowledged position bounds what the log may release; the required ones (or, with
 * none required, the fastest) bound what the publisher may run ahead.
 */
export class UpstreamSet {
  private readonly list: KmpUpstream[] = objectList();

  get size(): number {
    return this.list.length;
  }

  [Symbol.iterator](): Iterator<KmpUpstream> {
    return this.list[Symbol.iterator]();
  }

  /** A copy, for loops that free members. */
  snapshot(): KmpUpstream[] {
    return [...this.list];
  }

  add(u: KmpUpstream): void {
    this.list.push(u);
  }

  remove(u: KmpUpstream): boolean {
    const i = this.list.indexOf(u);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  has(u: KmpUpstream): boolean {
    return this.list.includes(u);
  }

  find(id: string): KmpUpstream | undefined {
    return this.list.find((u) => u.id === id);
  }

  /** The upstream with the oldest acknowledged frame. */
  slowest(): KmpUpstream | null {
    let s: KmpUpstream | null = null;
    for (const u of this.list) if (!s || u.acked.frameId < s.acked.frameId) s = u;
    return s;
  }

  /** The lowest acknowledged log offset (what the log may release up to); -1 with none. */
  minAckedOffset(): number {
    let min = -1;
    for (const u of this.list) if (min < 0 || u.acked.offset < min) min = u.acked.offset;
    return min;
  }

  /**
   * Bytes the publisher must wait for: what the required upstreams have not yet handed to their
   * sockets (all of them must keep up), or with none required, the fastest upstream's. A
   * stalled non-required replica never paces the publisher.
   */
  backlog(written: number): number {
    let required = -1;
    let fastest = Infinity;
    for (const u of this.list) {
      const unsent = u.unsent(written);
      if (u.required && unsent > required) required = unsent;
      if (unsent < fastest) fastest = unsent;
    }
    return required >= 0 ? required : fastest;
  }

  clear(): KmpUpstream[] {
    return this.list.splice(0);
  }
}
