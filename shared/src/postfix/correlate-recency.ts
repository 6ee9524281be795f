const NONE: readonly never[] = Object.freeze([]);

/** One entry, linked to its neighbours in touch order. */
interface Node<K, V> {
  key: K;
  value: V;
  /** The next staler entry; undefined for the stalest. */
  older: Node<K, V> | undefined;
  /** The next fresher entry; undefined for the freshest. */
  newer: Node<K, V> | undefined;
}

/**
 * A map kept in least-recently-touched order, so the stalest entry is always first and bounding or
 * ageing out state costs O(evicted), never a scan of everything held.
 *
 * The order is a linked list through the entries rather than the Map's own insertion order: moving
 * an entry to the fresh end is then two pointer updates, where deleting and re-inserting the key
 * (two hash operations, and tombstones the Map must compact) was a tenth of the Correlator's time.
 */
export class RecencyMap<V, K extends string | number = string> {
  readonly #nodes = new Map<K, Node<K, V>>();
  #stalest: Node<K, V> | undefined;
  #freshest: Node<K, V> | undefined;

  get size(): number {
    return this.#nodes.size;
  }

  get(key: K): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  /** Stores `value` as the most recently touched entry. */
  touch(key: K, value: V): void {
    const node = this.#nodes.get(key);
    if (node === undefined) {
      const fresh: Node<K, V> = { key, value, older: this.#freshest, newer: undefined };
      this.#nodes.set(key, fresh);
      this.#append(fresh);
      return;
    }
    node.value = value;
    if (node === this.#freshest) return;
    this.#unlink(node);
    node.older = this.#freshest;
    node.newer = undefined;
    this.#append(node);
  }

  delete(key: K): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#nodes.delete(key);
    this.#unlink(node);
    return true;
  }

  /** Removes entries from the stalest end while `shouldEvict` holds; returns them stalest first. */
  evictWhile(shouldEvict: (value: V) => boolean): V[] {
    const evicted: V[] = [];
    for (let node = this.#stalest; node !== undefined && shouldEvict(node.value); node = this.#stalest) {
      this.#nodes.delete(node.key);
      this.#unlink(node);
      evicted.push(node.value);
    }
    return evicted;
  }

  /** Removes the stalest entries until at most `limit` are held; returns them stalest first. */
  evictBeyond(limit: number): readonly V[] {
    // Called on every insert: within the bound, nothing is allocated.
    return this.#nodes.size > limit ? this.evictWhile(() => this.#nodes.size > limit) : NONE;
  }

  /** Links `node` (its `older` already set to the freshest) at the fresh end. */
  #append(node: Node<K, V>): void {
    if (this.#freshest === undefined) this.#stalest = node;
    else this.#freshest.newer = node;
    this.#freshest = node;
  }

  #unlink(node: Node<K, V>): void {
    if (node.older === undefined) this.#stalest = node.newer;
    else node.older.newer = node.newer;
    if (node.newer === undefined) this.#freshest = node.older;
    else node.newer.older = node.older;
  }
}
