/**
 * Distinct values seen in a sliding window, capped. Each value remembers when it was last seen,
 * so values age out with the window. When the cap is reached the stalest value makes room and
 * the count is reported as "at least cap" (`saturated`): rules only compare against thresholds
 * that compile-time checks keep at or below the cap, so the decision stays exact.
 */
export class DistinctSet {
  private readonly lastSeen = new Map<string, number>();
  private saturatedUntilMs = Number.NEGATIVE_INFINITY;
  /** The value added last: the map's last entry, unless since deleted. */
  private newest: string | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly cap: number,
  ) {}

  add(value: string, atMs: number): void {
    // A repeat of the newest value (one address guessing on) stays last with `set` alone: a delete
    // would leave the map a tombstone to rehash away. Deleted since, `set` appends it, as wanted.
    if (value !== this.newest) this.lastSeen.delete(value);
    this.lastSeen.set(value, atMs);
    this.newest = value;
    if (this.lastSeen.size > this.cap) {
      const stalest = this.lastSeen.keys().next().value as string;
      this.lastSeen.delete(stalest);
      this.saturatedUntilMs = atMs + this.windowMs;
    }
  }

  /** Forgets a value (its events were forgiven). */
  delete(value: string): void {
    this.lastSeen.delete(value);
  }

  /** Distinct values seen in the window ending at `atMs`. */
  size(atMs: number): number {
    const oldest = atMs - this.windowMs;
    // By key: iterating entries allocated a [value, seenAt] pair per step, on every evaluation.
    for (const value of this.lastSeen.keys()) {
      if ((this.lastSeen.get(value) as number) > oldest) break;
      this.lastSeen.delete(value);
    }
    return this.lastSeen.size;
  }

  saturated(atMs: number): boolean {
    return atMs < this.saturatedUntilMs && this.lastSeen.size >= this.cap;
  }

  /** Up to `limit` of the most recently seen values, newest first. */
  recent(limit: number): string[] {
    return [...this.lastSeen.keys()].slice(-limit).reverse();
  }
}
