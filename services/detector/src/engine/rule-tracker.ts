/**
 * Runs one compiled rule: per key field an LRU map of key states, the firing set, the
 * lifecycle (fire once per episode, resolve after the quiet period) and idle sweeping.
 * Leaks are computed lazily from event time when a key is touched; `sweep` is the one place
 * that walks keys, and it only walks firing keys and the expired head of each LRU.
 */
import type { Alert, AlertKey } from "../../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { buildAlert } from "./alert.js";
import type { KeyMeasures } from "./extension.js";
import { type EventContext, KEY_FIELDS, type KeyField, textValues } from "./fields.js";
import { KeyDetail, KeyState } from "./key-state.js";
import type { CompiledRule } from "./rule.js";

export interface RuleStats {
  trackedKeys: number;
  evictions: number;
  firing: number;
  alerts: { firing: number; resolved: number };
}

class KeyStore {
  readonly type: AlertKey["type"];
  readonly states = new Map<string, KeyState>();
  readonly firing = new Set<string>();
  evictions = 0;

  constructor(readonly field: KeyField) {
    this.type = KEY_FIELDS[field];
  }
}

export class RuleTracker {
  private readonly stores: KeyStore[];
  private readonly alertCounts = { firing: 0, resolved: 0 };

  constructor(
    readonly rule: CompiledRule,
    private readonly maxKeys: number,
  ) {
    this.stores = rule.keyFields.map((field) => new KeyStore(field));
  }

  count(event: PostfixEvent, context: EventContext, atMs: number, alerts: Alert[]): void {
    const weight = this.rule.weight(event, context);
    const extension = this.rule.extension;
    if (weight <= 0 && extension === undefined) return;
    const window = this.rule.window;
    for (const store of this.stores) {
      for (const value of textValues(store.field, event)) {
        const state = this.touch(store, value, atMs, alerts);
        state.extension?.observe(event, context, atMs);
        if (weight <= 0) {
          if (this.rule.triggers === undefined) this.evaluate(store, value, state, atMs, alerts);
          continue;
        }
        const before = window.total(state.buckets, atMs);
        if (!window.add(state.buckets, atMs, weight)) continue;
        const firing = state.detail?.firing ?? false;
        if (!firing && (before === 0 || Number.isNaN(state.startMs))) {
          state.startMs = atMs;
          state.detail?.startEpisode();
        }
        if (state.detail === undefined && before + weight >= this.rule.detailFrom)
          state.detail = new KeyDetail(this.rule);
        state.detail?.record(event, context, store.field, atMs);
        if (this.rule.triggers === undefined) this.evaluate(store, value, state, atMs, alerts);
      }
    }
  }

  /** A trigger event fires the rule for keys already past the threshold; it never creates keys. */
  trigger(event: PostfixEvent, atMs: number, alerts: Alert[]): void {
    for (const store of this.stores) {
      for (const value of textValues(store.field, event)) {
        const state = store.states.get(value);
        if (state?.detail === undefined || state.detail.firing) continue;
        const measures = this.measure(store, state, atMs);
        if (!this.fires(state, measures)) continue;
        state.detail.recordTrigger(event, store.field, atMs);
        this.fire(store, value, state, measures, alerts);
      }
    }
  }

  /** Resolves keys quiet for the quiet period and forgets idle keys. */
  sweep(nowMs: number, alerts: Alert[]): void {
    for (const store of this.stores) {
      for (const value of store.firing) {
        const state = store.states.get(value);
        const detail = state?.detail;
        if (!state || !detail || detail.lastCountedMs + this.rule.quietMs > nowMs) continue;
        this.resolve(store, value, state, alerts);
      }
      this.forgetIdle(store, nowMs);
    }
  }

  stats(): RuleStats {
    let trackedKeys = 0;
    let evictions = 0;
    let firing = 0;
    for (const store of this.stores) {
      trackedKeys += store.states.size;
      evictions += store.evictions;
      firing += store.firing.size;
    }
    return { trackedKeys, evictions, firing, alerts: { ...this.alertCounts } };
  }

  private touch(store: KeyStore, value: string, atMs: number, alerts: Alert[]): KeyState {
    let state = store.states.get(value);
    if (state) store.states.delete(value);
    else {
      state = new KeyState(this.rule);
      this.evictFor(store, alerts);
    }
    store.states.set(value, state);
    state.touchedMs = Math.max(state.touchedMs, atMs);
    return state;
  }

  /** The least recently seen key makes room; a firing one is resolved on the way out, not lost. */
  private evictFor(store: KeyStore, alerts: Alert[]): void {
    const limit = this.rule.settings.maxKeys ?? this.maxKeys;
    while (store.states.size >= limit) {
      const [oldest, state] = store.states.entries().next().value as [string, KeyState];
      if (store.firing.has(oldest)) this.resolve(store, oldest, state, alerts);
      store.states.delete(oldest);
      store.evictions += 1;
    }
  }

  private forgetIdle(store: KeyStore, nowMs: number): void {
    let firingSkipped = 0;
    for (const [value, state] of store.states) {
      if (state.touchedMs + this.rule.retentionMs > nowMs) break;
      store.states.delete(value);
      if (!store.firing.has(value)) continue;
      // A firing key still inside its quiet period goes to the back of the line instead.
      store.states.set(value, state);
      if (++firingSkipped >= store.firing.size) break;
    }
  }

  private evaluate(store: KeyStore, value: string, state: KeyState, atMs: number, alerts: Alert[]): void {
    const detail = state.detail;
    if (detail === undefined) return;
    const measures = this.measure(store, state, atMs);
    detail.lastMeasure = this.rule.definition.thresholdOn === "distinct" ? measures.distinct : measures.count;
    if (!detail.firing && this.fires(state, measures)) this.fire(store, value, state, measures, alerts);
  }

  private measure(store: KeyStore, state: KeyState, atMs: number): KeyMeasures {
    return {
      atMs,
      count: this.rule.window.total(state.buckets, atMs),
      distinct: state.detail?.distinct?.size(atMs) ?? 0,
      threshold: this.rule.thresholdFor(store.type),
    };
  }

  private fires(state: KeyState, measures: KeyMeasures): boolean {
    if (state.extension) return state.extension.fires(measures);
    const measure = this.rule.definition.thresholdOn === "distinct" ? measures.distinct : measures.count;
    return measure >= measures.threshold;
  }

  private fire(
    store: KeyStore,
    value: string,
    state: KeyState,
    measures: KeyMeasures,
    alerts: Alert[],
  ): void {
    const detail = state.detail as KeyDetail;
    detail.firing = true;
    store.firing.add(value);
    this.alertCounts.firing += 1;
    alerts.push(
      buildAlert({ rule: this.rule, key: { type: store.type, value }, state, detail, measures }, "firing"),
    );
  }

  private resolve(store: KeyStore, value: string, state: KeyState, alerts: Alert[]): void {
    const detail = state.detail as KeyDetail;
    const measures = this.measure(store, state, detail.lastCountedMs);
    alerts.push(
      buildAlert({ rule: this.rule, key: { type: store.type, value }, state, detail, measures }, "resolved"),
    );
    detail.firing = false;
    store.firing.delete(value);
    state.startMs = Number.NaN;
    this.alertCounts.resolved += 1;
  }
}
