/**
 * The keys of one rule and key type, least recently seen first. A Map gives lookup; the order
 * lives in links on the states, because reordering a Map (delete + set) leaves tombstones that
 * make "find the oldest" walk over every deleted entry: quadratic under a flood of new keys.
 */
import type { AlertKey } from "../../../../shared/src/contracts/alerts.js";
import { KEY_FIELDS, type KeyField } from "./fields.js";
import type { KeyState } from "./key-state.js";

export class KeyStore {
  readonly type: AlertKey["type"];
  readonly firing = new Set<string>();
  evictions = 0;
  private readonly states = new Map<string, KeyState>();
  private newest: KeyState | undefined;
  private oldest: KeyState | undefined;

  constructor(readonly field: KeyField) {
    this.type = KEY_FIELDS[field];
  }

  get size(): number {
    return this.states.size;
  }

  get(key: string): KeyState | undefined {
    return this.states.get(key);
  }

  /** Adds a state as the newest. */
  add(state: KeyState): void {
    this.states.set(state.key, state);
    this.link(state);
  }

  /** Marks a state as the most recently seen. */
  touch(state: KeyState): void {
    if (this.newest === state) return;
    this.unlink(state);
    this.link(state);
  }

  delete(state: KeyState): void {
    this.states.delete(state.key);
    this.unlink(state);
  }

  leastRecent(): KeyState | undefined {
    return this.oldest;
  }

  private link(state: KeyState): void {
    state.older = this.newest;
    state.newer = undefined;
    if (this.newest) this.newest.newer = state;
    this.newest = state;
    this.oldest ??= state;
  }

  private unlink(state: KeyState): void {
    if (state.older) state.older.newer = state.newer;
    else this.oldest = state.newer;
    if (state.newer) state.newer.older = state.older;
    else this.newest = state.older;
    state.newer = undefined;
    state.older = undefined;
  }
}
