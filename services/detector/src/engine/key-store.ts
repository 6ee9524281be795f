/**
 * The keys of one rule and key type, stored as columns (struct of arrays) so that a key costs a
 * few dozen bytes. Key → slot lives in a KeyTable shared by every rule of the engine that groups
 * by the same field (sasl_bruteforce, sasl_slow_bruteforce and auth_after_failures all key by
 * client address): one Map entry and one string per address, however many rules track it. Each
 * rule's store then holds typed-array columns per slot: its own LRU links, times and up to two
 * sliding-window buckets inline. Keys with more buckets spill to a small array; keys close to
 * firing get a KeyDetail; both live in sparse maps beside the columns.
 *
 * The order lives in links on the slots, not in a Map: reordering a Map (delete + set) leaves
 * tombstones that make "find the oldest" walk over every deleted entry, quadratic under a flood.
 *
 * Two recency lists (a segmented LRU): keys counted once sit in the first, keys counted again
 * within their window are moved to the second, and eviction empties the first before it touches
 * the second. A flood of spoofed addresses, one event each, can therefore only evict its own kind:
 * an attacker's address with recent failures stays counted however many others are sent between
 * its guesses.
 *
 * Measured (bench/engine-keys.ts, 1,000,000 IPv4 addresses in three rules): about 45 bytes per
 * key per rule plus about 40 per address, against about 200 per key per rule for one object and
 * one bucket array each.
 */
import type { AlertKey } from "../../../../shared/src/contracts/alerts.js";
import type { ExtensionState } from "./extension.js";
import { KEY_FIELDS, type KeyField } from "./fields.js";
import type { KeyDetail } from "./key-state.js";
import type { BucketCounts } from "./sliding-window.js";

const NONE = -1;
const ONCE = 0;
const REPEATED = 1;
export type Segment = typeof ONCE | typeof REPEATED;
export const SEGMENTS: readonly Segment[] = [ONCE, REPEATED];
const INITIAL_CAPACITY = 1024;
/** In a slot's first count column: its buckets spilled to `spill` (a count is never negative). */
const SPILLED = -1;

/** Key → slot for one key field, shared by the stores of every rule grouping by it. */
export class KeyTable {
  private readonly slots = new Map<string, number>();
  private readonly keys: (string | undefined)[] = [];
  private readonly free: number[] = [];
  /** How many stores hold each slot (at most one per rule). */
  private holders: Uint16Array<ArrayBuffer> = new Uint16Array(0);
  /** The last lookup: every rule keyed by this field looks up the same event's key in turn. */
  private lastKey: string | undefined;
  private lastSlot: number | undefined;

  get size(): number {
    return this.slots.size;
  }

  slotOf(key: string): number | undefined {
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastSlot = this.slots.get(key);
    }
    return this.lastSlot;
  }

  keyOf(slot: number): string {
    return this.keys[slot] as string;
  }

  acquire(key: string): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.keys.length;
      if (slot === this.keys.length) this.keys.push(undefined);
      if (slot >= this.holders.length) {
        const holders = new Uint16Array(Math.max(INITIAL_CAPACITY, this.holders.length * 2));
        holders.set(this.holders);
        this.holders = holders;
      }
      // Keys cut from a log line may be slices that keep the whole line alive: store a copy.
      const own = detach(key);
      this.slots.set(own, slot);
      this.keys[slot] = own;
      this.lastKey = undefined;
    }
    this.holders[slot] = (this.holders[slot] as number) + 1;
    return slot;
  }

  release(slot: number): void {
    const holders = (this.holders[slot] as number) - 1;
    this.holders[slot] = holders;
    if (holders > 0) return;
    this.slots.delete(this.keys[slot] as string);
    this.keys[slot] = undefined;
    this.lastKey = undefined;
    this.free.push(slot);
  }
}

/** One KeyTable per key field, for the rules of one engine. */
export class KeyTables {
  private readonly tables = new Map<KeyField, KeyTable>();

  for(field: KeyField): KeyTable {
    let table = this.tables.get(field);
    if (table === undefined) {
      table = new KeyTable();
      this.tables.set(field, table);
    }
    return table;
  }
}

export class KeyStore {
  readonly type: AlertKey["type"];
  readonly firing = new Set<string>();
  /**
   * A time before which none of the firing keys can have gone quiet, kept by the rule (the earliest
   * `lastSeenMs + quietMs` when last looked at; a key's lastSeenMs only grows): a replay sweeps once
   * per second of event time, and walking every firing key each time was a tenth of it.
   */
  quietCheckFromMs = Number.POSITIVE_INFINITY;
  evictions = 0;
  private count = 0;
  private capacity = 0;
  private present: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  /** Each slot's recency list: ONCE, or REPEATED once counted again within its window. */
  private segment: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  private readonly newest = [NONE, NONE];
  private readonly oldest = [NONE, NONE];
  /** Bucket ids are stored relative to the first one seen, so they fit an Int32 whatever the bucket length. */
  private bucketBase = Number.NaN;

  private newer: Int32Array<ArrayBuffer> = new Int32Array(0);
  private older: Int32Array<ArrayBuffer> = new Int32Array(0);
  /** First counted event of the current episode, whole seconds; -1 after a resolve until the next one. */
  private start: Int32Array<ArrayBuffer> = new Int32Array(0);
  /** Seen time (see DetectionPipeline) of the key's last event, counted or only observed, whole seconds. */
  private touched: Int32Array<ArrayBuffer> = new Int32Array(0);
  /** Until when (whole seconds) another rule has this key covered (see RuleDefinition.yieldsTo). */
  private covered: Int32Array<ArrayBuffer> = new Int32Array(0);
  /** Interned fact values of the key's events before it has a detail (see RuleTracker); -1 none. */
  private tuple: Int32Array<ArrayBuffer> = new Int32Array(0);
  private id0: Int32Array<ArrayBuffer> = new Int32Array(0);
  private n0: Int32Array<ArrayBuffer> = new Int32Array(0);
  private id1: Int32Array<ArrayBuffer> = new Int32Array(0);
  private n1: Int32Array<ArrayBuffer> = new Int32Array(0);
  private readonly spill = new Map<number, BucketCounts>();
  private readonly details = new Map<number, KeyDetail>();
  /** The first related value (a user name for an address, an address otherwise) of a key without detail. */
  private readonly related = new Map<number, string>();
  private readonly extensions = new Map<number, ExtensionState>();

  constructor(
    readonly field: KeyField,
    private readonly table: KeyTable = new KeyTable(),
    /** Whether the rule yields to another (the `covered` column is only kept then). */
    private readonly yields = false,
  ) {
    this.type = KEY_FIELDS[field];
  }

  get size(): number {
    return this.count;
  }

  /** Slots with a detail: keys close to firing or firing. */
  get detailed(): number {
    return this.details.size;
  }

  slotOf(key: string): number | undefined {
    const slot = this.table.slotOf(key);
    return slot !== undefined && slot < this.capacity && this.present[slot] === 1 ? slot : undefined;
  }

  keyOf(slot: number): string {
    return this.table.keyOf(slot);
  }

  /** Adds a key as the most recently seen and returns its slot. */
  add(key: string, touchedSec: number): number {
    const slot = this.table.acquire(key);
    if (slot >= this.capacity) this.grow(slot);
    this.present[slot] = 1;
    this.segment[slot] = ONCE;
    this.count += 1;
    this.start[slot] = NONE;
    this.touched[slot] = touchedSec;
    if (this.yields) this.covered[slot] = NONE;
    this.tuple[slot] = NONE;
    this.n0[slot] = 0;
    this.n1[slot] = 0;
    this.link(slot);
    return slot;
  }

  /** Marks a slot as the most recently seen. */
  touch(slot: number): void {
    if (this.newest[this.segment[slot] as number] === slot) return;
    this.unlink(slot);
    this.link(slot);
  }

  /** Moves a slot to the list evicted last (counted again within its window), or back. */
  setRepeated(slot: number, repeated: boolean): void {
    const segment = repeated ? REPEATED : ONCE;
    if (this.segment[slot] === segment) return;
    this.unlink(slot);
    this.segment[slot] = segment;
    this.link(slot);
  }

  delete(slot: number): void {
    this.present[slot] = 0;
    this.count -= 1;
    this.table.release(slot);
    this.spill.delete(slot);
    this.details.delete(slot);
    this.related.delete(slot);
    this.extensions.delete(slot);
    this.unlink(slot);
  }

  /** The next key to evict: the least recently seen of those counted once, else of the others. */
  leastRecent(): number | undefined {
    return this.leastRecentIn(ONCE) ?? this.leastRecentIn(REPEATED);
  }

  /** The least recently seen key of one list (idle keys are swept from both). */
  leastRecentIn(segment: Segment): number | undefined {
    const oldest = this.oldest[segment] as number;
    return oldest === NONE ? undefined : oldest;
  }

  startSec(slot: number): number {
    return this.start[slot] as number;
  }

  setStartSec(slot: number, sec: number): void {
    this.start[slot] = sec;
  }

  touchedSec(slot: number): number {
    return this.touched[slot] as number;
  }

  setTouchedSec(slot: number, sec: number): void {
    if (sec > (this.touched[slot] as number)) this.touched[slot] = sec;
  }

  coveredUntilSec(slot: number): number {
    return this.yields ? (this.covered[slot] as number) : NONE;
  }

  setCoveredUntilSec(slot: number, sec: number): void {
    if (this.yields && sec > (this.covered[slot] as number)) this.covered[slot] = sec;
  }

  tupleOf(slot: number): number {
    return this.tuple[slot] as number;
  }

  setTuple(slot: number, tuple: number): void {
    this.tuple[slot] = tuple;
  }

  detail(slot: number): KeyDetail | undefined {
    return this.details.get(slot);
  }

  setDetail(slot: number, detail: KeyDetail | undefined): void {
    if (detail === undefined) this.details.delete(slot);
    else this.details.set(slot, detail);
  }

  firstRelated(slot: number): string | undefined {
    return this.related.get(slot);
  }

  setFirstRelated(slot: number, value: string | undefined): void {
    if (value === undefined) this.related.delete(slot);
    else if (!this.related.has(slot)) this.related.set(slot, value);
  }

  extension(slot: number): ExtensionState | undefined {
    return this.extensions.get(slot);
  }

  setExtension(slot: number, state: ExtensionState): void {
    this.extensions.set(slot, state);
  }

  /** The key's window as a flat `[bucketId, count, ...]` array (a fresh one unless spilled). */
  buckets(slot: number): BucketCounts {
    const n0 = this.n0[slot] as number;
    if (n0 === SPILLED) return this.spill.get(slot) as BucketCounts;
    const n1 = this.n1[slot] as number;
    if (n0 === 0 && n1 === 0) return [];
    const base = this.bucketBase;
    if (n1 === 0) return [base + (this.id0[slot] as number), n0];
    const id0 = base + (this.id0[slot] as number);
    if (n0 === 0) return [id0 + (this.id1[slot] as number), n1];
    return [id0, n0, id0 + (this.id1[slot] as number), n1];
  }

  /** buckets(), as an array the caller may change: a copy when spilled, else the fresh one. */
  ownBuckets(slot: number): number[] {
    const buckets = this.buckets(slot);
    return this.n0[slot] === SPILLED ? [...buckets] : (buckets as number[]);
  }

  setBuckets(slot: number, buckets: BucketCounts): void {
    if (buckets.length > 4) {
      this.spill.set(slot, buckets);
      this.n0[slot] = SPILLED;
      this.n1[slot] = 0;
      return;
    }
    if (this.n0[slot] === SPILLED) this.spill.delete(slot);
    if (buckets.length > 0 && Number.isNaN(this.bucketBase)) this.bucketBase = buckets[0] as number;
    const base = this.bucketBase;
    this.id0[slot] = buckets.length >= 2 ? (buckets[0] as number) - base : 0;
    this.n0[slot] = buckets.length >= 2 ? (buckets[1] as number) : 0;
    this.id1[slot] = buckets.length >= 4 ? (buckets[2] as number) - (buckets[0] as number) : 0;
    this.n1[slot] = buckets.length >= 4 ? (buckets[3] as number) : 0;
  }

  /** The weight counted in buckets from `oldestKeptId` on, without building an array. */
  total(slot: number, oldestKeptId: number): number {
    if (this.n0[slot] === SPILLED) {
      const spilled = this.spill.get(slot) as BucketCounts;
      let sum = 0;
      for (let i = 0; i < spilled.length; i += 2)
        if ((spilled[i] as number) >= oldestKeptId) sum += spilled[i + 1] as number;
      return sum;
    }
    const oldest = oldestKeptId - this.bucketBase;
    const id0 = this.id0[slot] as number;
    let sum = 0;
    if ((this.n0[slot] as number) !== 0 && id0 >= oldest) sum += this.n0[slot] as number;
    if ((this.n1[slot] as number) !== 0 && id0 + (this.id1[slot] as number) >= oldest)
      sum += this.n1[slot] as number;
    return sum;
  }

  /** Columns are indexed by the shared table's slots: grown to cover `slot`, doubling. */
  private grow(slot: number): void {
    let capacity = Math.max(INITIAL_CAPACITY, this.capacity);
    while (capacity <= slot) capacity *= 2;
    this.present = resized(this.present, capacity);
    this.segment = resized(this.segment, capacity);
    this.newer = resized(this.newer, capacity);
    this.older = resized(this.older, capacity);
    this.start = resized(this.start, capacity);
    this.touched = resized(this.touched, capacity);
    if (this.yields) this.covered = resized(this.covered, capacity);
    this.tuple = resized(this.tuple, capacity);
    this.id0 = resized(this.id0, capacity);
    this.n0 = resized(this.n0, capacity);
    this.id1 = resized(this.id1, capacity);
    this.n1 = resized(this.n1, capacity);
    this.capacity = capacity;
  }

  private link(slot: number): void {
    const segment = this.segment[slot] as number;
    const newest = this.newest[segment] as number;
    this.older[slot] = newest;
    this.newer[slot] = NONE;
    if (newest !== NONE) this.newer[newest] = slot;
    this.newest[segment] = slot;
    if (this.oldest[segment] === NONE) this.oldest[segment] = slot;
  }

  private unlink(slot: number): void {
    const segment = this.segment[slot] as number;
    const older = this.older[slot] as number;
    const newer = this.newer[slot] as number;
    if (older !== NONE) this.newer[older] = newer;
    else this.oldest[segment] = newer;
    if (newer !== NONE) this.older[newer] = older;
    else this.newest[segment] = older;
    this.newer[slot] = NONE;
    this.older[slot] = NONE;
  }
}

/** A flat copy of a short string, so a substring no longer holds on to its parent. */
function detach(text: string): string {
  return ` ${text}`.slice(1);
}

type Column =
  | Int32Array<ArrayBuffer>
  | Int16Array<ArrayBuffer>
  | Int8Array<ArrayBuffer>
  | Uint8Array<ArrayBuffer>;

function resized<C extends Column>(column: C, capacity: number): C {
  const next = new (column.constructor as new (length: number) => C)(capacity);
  next.set(column);
  return next;
}
