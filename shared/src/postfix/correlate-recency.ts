/** Nothing evicted. Not frozen: a frozen array's other elements kind makes for-of over results allocate. */
const NONE: readonly never[] = [];

/**
 * A Map kept in least-recently-touched order, so the stalest entry is always first and bounding or
 * ageing out state costs O(evicted), never a scan of everything held.
 */
export class RecencyMap<V, K extends string | number = string> {
  readonly #entries = new Map<K, V>();
  /** The key touched last: the map's last entry, unless since deleted. */
  #newest: K | undefined;

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  /** Stores `value` as the most recently touched entry. */
  touch(key: K, value: V): void {
    // Touching the newest again (a session's or a message's lines in a row) keeps its place with
    // `set` alone: a delete would leave a tombstone to rehash away. Deleted since, `set` appends it.
    if (key !== this.#newest) this.#entries.delete(key);
    this.#entries.set(key, value);
    this.#newest = key;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  /** Removes entries from the stalest end while `shouldEvict` holds; returns them stalest first. */
  evictWhile(shouldEvict: (value: V) => boolean): V[] {
    const evicted: V[] = [];
    for (const [key, value] of this.#entries) {
      if (!shouldEvict(value)) break;
      this.#entries.delete(key);
      evicted.push(value);
    }
    return evicted;
  }

  /** Removes the stalest entries until at most `limit` are held; returns them stalest first. */
  evictBeyond(limit: number): readonly V[] {
    // Called on every insert: within the bound, nothing is allocated.
    return this.#entries.size > limit ? this.evictWhile(() => this.#entries.size > limit) : NONE;
  }
}
