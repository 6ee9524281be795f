/**
 * Sliding-window counting with a ring of time buckets, stored sparsely per key as a flat
 * `[bucketId, count, bucketId, count, ...]` array.
 *
 * Why buckets and not an exponentially decayed counter: thresholds are written the fail2ban way
 * ("5 failures in 10 minutes") and alerts report "N events in the window"; a decayed counter
 * gives a number that depends on how the events were spaced and cannot be reported as a count.
 * With BUCKETS_PER_WINDOW buckets the window is exact except at its old edge, where up to one
 * bucket (window / 10) may be forgotten early; it never counts an event older than the window.
 * A key that saw one event holds a two-element array, which is what makes a million idle
 * attacker IPs affordable.
 */
export const BUCKETS_PER_WINDOW = 10;

export type BucketCounts = number[];

export class SlidingWindow {
  readonly windowMs: number;
  readonly bucketMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
    this.bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS_PER_WINDOW));
  }

  /** Adds `weight` at `atMs`; returns false (and counts nothing) when `atMs` is already outside the window. */
  add(buckets: BucketCounts, atMs: number, weight: number): boolean {
    const bucketId = Math.floor(atMs / this.bucketMs);
    const newest = Math.max(bucketId, newestBucket(buckets));
    const oldestKept = newest - BUCKETS_PER_WINDOW + 1;
    if (bucketId < oldestKept) return false;
    let write = 0;
    let found = false;
    for (let read = 0; read < buckets.length; read += 2) {
      const id = buckets[read] as number;
      if (id < oldestKept) continue;
      let count = buckets[read + 1] as number;
      if (id === bucketId) {
        count += weight;
        found = true;
      }
      buckets[write] = id;
      buckets[write + 1] = count;
      write += 2;
    }
    buckets.length = write;
    if (!found) buckets.push(bucketId, weight);
    return true;
  }

  /** The weight counted in the window ending at `atMs`. */
  total(buckets: BucketCounts, atMs: number): number {
    const oldestKept = Math.floor(atMs / this.bucketMs) - BUCKETS_PER_WINDOW + 1;
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
