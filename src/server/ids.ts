/** A range of ids handed to one process: `start` up to, not including, `end`. */
export type IdRange = { start: number; end: number };

/** Ids a worker takes when its blocks ran out before the primary answered: above every block. */
const SPARE_BASE = 2 ** 40;
const SPARE_PER_INSTANCE = 2 ** 24;

/** The worker instance that took a spare id, or -1 for an id from a block. */
export function spareInstance(id: number): number {
  return id > SPARE_BASE ? Math.floor((id - SPARE_BASE - 1) / SPARE_PER_INSTANCE) : -1;
}

/**
 * Connection and track ids unique across worker processes: each worker takes ids from blocks the
 * primary grants (so the primary knows which worker owns an id) and asks for the next block while
 * it still holds one whole block in reserve. One process alone has a single endless block.
 */
export class IdSource {
  private current: IdRange;
  private readonly reserve: IdRange[] = [];
  private asking = false;
  private spare = 0;
  private readonly refill?: () => Promise<IdRange>;
  private readonly instance: number;

  /** `instance`: this worker's unique number, for the spare range when every block is used up. */
  constructor(first: IdRange, opts: { refill?: () => Promise<IdRange>; instance?: number; reserve?: IdRange } = {}) {
    this.current = { ...first };
    if (opts.reserve) this.reserve.push({ ...opts.reserve });
    this.refill = opts.refill;
    this.instance = opts.instance ?? 0;
    this.ask();
  }

  static endless(start = 1): IdSource {
    return new IdSource({ start, end: Infinity });
  }

  next(): number {
    if (this.current.start >= this.current.end) {
      const r = this.reserve.shift();
      if (!r) {
        this.ask();
        return SPARE_BASE + this.instance * SPARE_PER_INSTANCE + ++this.spare;
      }
      this.current = r;
      this.ask();
    }
    return this.current.start++;
  }

  private ask(): void {
    if (!this.refill || this.asking || this.reserve.length || this.current.end === Infinity) return;
    this.asking = true;
    this.refill().then((r) => {
      this.asking = false;
      this.reserve.push(r);
    }, () => {
      this.asking = false; // the primary is gone or slow: the next block switch asks again
    });
  }
}
