/**
 * Sliding-window counting with a ring of time buckets, stored sparsely per key as a flat
 * `[bucketId, count, bucketId, count, ...]` array.
 *
 * Why buckets and not an exponentially decayed counter: thresholds are written the fail2ban way
 * ("5 failures in 10 minutes") and alerts report "N events in the window"; a decayed counter
 * gives a number that depends on how the events were spaced and cannot be reported as a count.
 * With BUCKETS_PER_WINDOW buckets the window is exact except at its old edge, where up to one
 * bucket (window / 10) may be forgotten early; it never counts an event older than the window.
 * Arrays are allocated at their exact size: a key that saw one event holds two small integers,
 * which is what makes a million idle attacker IPs affordable.
 */
export const BUCKETS_PER_WINDOW = 10;

export type BucketCounts = readonly number[];
export const NO_BUCKETS: BucketCounts = [];

export class SlidingWindow {
  readonly windowMs: number;
  readonly bucketMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
    this.bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS_PER_WINDOW));
  }

  /**
   * Returns the counts with `weight` added at `atMs`, dropping buckets that left the window; returns
   * undefined (nothing counted) when `atMs` itself is older than the window.
   */
  add(buckets: BucketCounts, atMs: number, weight: number): number[] | undefined {
    const bucketId = Math.floor(atMs / this.bucketMs);
    if (buckets.length === 0) return [bucketId, weight];
    const oldestKept = Math.max(bucketId, newestBucket(buckets)) - BUCKETS_PER_WINDOW + 1;
    if (bucketId < oldestKept) return undefined;
    let keptPairs = 0;
    let found = false;
    for (let i = 0; i < buckets.length; i += 2) {
      const id = buckets[i] as number;
      if (id >= oldestKept) keptPairs += 1;
      found ||= id === bucketId;
    }
    // Exact-size allocation: growing with push would reserve 17 slots per key.
    const kept = new Array<number>(2 * (keptPairs + (found ? 0 : 1)));
    let write = 0;
    for (let i = 0; i < buckets.length; i += 2) {
      const id = buckets[i] as number;
      if (id < oldestKept) continue;
      kept[write++] = id;
      kept[write++] = (buckets[i + 1] as number) + (id === bucketId ? weight : 0);
    }
    if (!found) {
      kept[write++] = bucketId;
      kept[write] = weight;
    }
    return kept;
  }

  /**
   * add() on counts the caller alone holds: when the event's bucket is held and none has left the
   * window, its count goes up in place and nothing is allocated. A busy key's facts count most of
   * their events into their newest bucket.
   */
  addInPlace(buckets: number[], atMs: number, weight: number): number[] | undefined {
    const bucketId = Math.floor(atMs / this.bucketMs);
    let held = -1;
    let oldest = Number.POSITIVE_INFINITY;
    let newest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < buckets.length; i += 2) {
      const id = buckets[i] as number;
      if (id === bucketId) held = i;
      oldest = Math.min(oldest, id);
      newest = Math.max(newest, id);
    }
    if (held < 0 || oldest < Math.max(bucketId, newest) - BUCKETS_PER_WINDOW + 1)
      return this.add(buckets, atMs, weight);
    buckets[held + 1] = (buckets[held + 1] as number) + weight;
    return buckets;
  }

  /** The oldest bucket id still inside the window ending at `atMs`. */
  oldestKept(atMs: number): number {
    return Math.floor(atMs / this.bucketMs) - BUCKETS_PER_WINDOW + 1;
  }

  /**
   * Takes back up to `amount` of weight, newest buckets first (what is retracted was just counted:
   * the failures of a session that then logged in). Returns the counts and how much was taken.
   */
  retract(buckets: BucketCounts, amount: number): { buckets: number[]; taken: number } {
    const kept = [...buckets];
    let left = amount;
    const order = [];
    for (let i = 0; i < kept.length; i += 2) order.push(i);
    order.sort((a, b) => (kept[b] as number) - (kept[a] as number));
    for (const i of order) {
      if (left <= 0) break;
      const take = Math.min(left, kept[i + 1] as number);
      kept[i + 1] = (kept[i + 1] as number) - take;
      left -= take;
    }
    const nonEmpty: number[] = [];
    for (let i = 0; i < kept.length; i += 2)
      if ((kept[i + 1] as number) > 0) nonEmpty.push(kept[i] as number, kept[i + 1] as number);
    return { buckets: nonEmpty, taken: amount - left };
  }

  /** The weight counted in the window ending at `atMs`. */
  total(buckets: BucketCounts, atMs: number): number {
    const oldestKept = this.oldestKept(atMs);
    let sum = 0;
    for (let i = 0; i < buckets.length; i += 2) {
      if ((buckets[i] as number) >= oldestKept) sum += buckets[i + 1] as number;
    }
    return sum;
  }
}

function newestBucket(buckets: BucketCounts): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < buckets.length; i += 2) newest = Math.max(newest, buckets[i] as number);
  return newest;
}
