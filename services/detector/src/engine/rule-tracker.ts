/**
 * Runs one compiled rule: per key field an LRU map of key states, the firing set, the
 * lifecycle (fire once per episode, resolve after the quiet period) and idle sweeping.
 * Leaks are computed lazily from event time when a key is touched; `sweep` is the one place
 * that walks keys, and it only walks firing keys and the expired head of each LRU.
 */
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { buildAlert } from "./alert.js";
import type { KeyMeasures } from "./extension.js";
import { type EventContext, textValues } from "./fields.js";
import { KeyDetail, KeyState } from "./key-state.js";
import { KeyStore } from "./key-store.js";
import type { CompiledRule } from "./rule.js";

export interface RuleStats {
  trackedKeys: number;
  evictions: number;
  firing: number;
  alerts: { firing: number; resolved: number };
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
          if (this.rule.triggers === undefined) this.evaluate(store, state, atMs, alerts);
          continue;
        }
        const before = window.total(state.buckets, atMs);
        const buckets = window.add(state.buckets, atMs, weight);
        if (buckets === undefined) continue;
        state.buckets = buckets;
        if (!state.detail?.firing && (before === 0 || state.startSec < 0)) {
          state.startSec = toSeconds(atMs);
          state.detail?.startEpisode();
        }
        if (state.detail === undefined && before + weight >= this.rule.detailFrom)
          state.detail = new KeyDetail(this.rule);
        state.detail?.record(event, context, store.field, atMs);
        if (this.rule.triggers === undefined) this.evaluate(store, state, atMs, alerts);
      }
    }
  }

  /** A trigger event fires the rule for keys already past the threshold; it never creates keys. */
  trigger(event: PostfixEvent, atMs: number, alerts: Alert[]): void {
    for (const store of this.stores) {
      for (const value of textValues(store.field, event)) {
        const state = store.get(value);
        if (state?.detail === undefined || state.detail.firing) continue;
        const measures = this.measure(store, state, atMs);
        if (!this.fires(state, measures)) continue;
        state.detail.recordTrigger(event, store.field, atMs);
        this.fire(store, state, measures, alerts);
      }
    }
  }

  /** Resolves keys quiet for the quiet period and forgets idle keys. */
  sweep(nowMs: number, alerts: Alert[]): void {
    for (const store of this.stores) {
      for (const value of store.firing) {
        const state = store.get(value);
        const detail = state?.detail;
        if (!state || !detail || detail.lastCountedMs + this.rule.quietMs > nowMs) continue;
        this.resolve(store, state, alerts);
      }
      this.forgetIdle(store, nowMs);
    }
  }

  stats(): RuleStats {
    let trackedKeys = 0;
    let evictions = 0;
    let firing = 0;
    for (const store of this.stores) {
      trackedKeys += store.size;
      evictions += store.evictions;
      firing += store.firing.size;
    }
    return { trackedKeys, evictions, firing, alerts: { ...this.alertCounts } };
  }

  private touch(store: KeyStore, value: string, atMs: number, alerts: Alert[]): KeyState {
    let state = store.get(value);
    if (state) store.touch(state);
    else {
      this.evictFor(store, alerts);
      state = new KeyState(value, this.rule.extension?.newState());
      store.add(state);
    }
    state.touchedSec = Math.max(state.touchedSec, toSeconds(atMs));
    return state;
  }

  /** The least recently seen key makes room; a firing one is resolved on the way out, not lost. */
  private evictFor(store: KeyStore, alerts: Alert[]): void {
    const limit = this.rule.settings.maxKeys ?? this.maxKeys;
    for (let oldest = store.leastRecent(); oldest && store.size >= limit; oldest = store.leastRecent()) {
      if (store.firing.has(oldest.key)) this.resolve(store, oldest, alerts);
      store.delete(oldest);
      store.evictions += 1;
    }
  }

  private forgetIdle(store: KeyStore, nowMs: number): void {
    const idleBeforeSec = (nowMs - this.rule.retentionMs) / 1000;
    let firingSkipped = 0;
    for (
      let oldest = store.leastRecent();
      oldest && oldest.touchedSec <= idleBeforeSec;
      oldest = store.leastRecent()
    ) {
      if (!store.firing.has(oldest.key)) store.delete(oldest);
      // A firing key still inside its quiet period goes to the back of the line instead.
      else if (++firingSkipped > store.firing.size) break;
      else store.touch(oldest);
    }
  }

  private evaluate(store: KeyStore, state: KeyState, atMs: number, alerts: Alert[]): void {
    const detail = state.detail;
    if (detail === undefined) return;
    const measures = this.measure(store, state, atMs);
    detail.lastMeasure = this.rule.definition.thresholdOn === "distinct" ? measures.distinct : measures.count;
    if (!detail.firing && this.fires(state, measures)) this.fire(store, state, measures, alerts);
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

  private fire(store: KeyStore, state: KeyState, measures: KeyMeasures, alerts: Alert[]): void {
    const detail = state.detail as KeyDetail;
    detail.firing = true;
    store.firing.add(state.key);
    this.alertCounts.firing += 1;
    const key = { type: store.type, value: state.key };
    alerts.push(buildAlert({ rule: this.rule, key, state, detail, measures }, "firing"));
  }

  private resolve(store: KeyStore, state: KeyState, alerts: Alert[]): void {
    const detail = state.detail as KeyDetail;
    const measures = this.measure(store, state, detail.lastCountedMs);
    const key = { type: store.type, value: state.key };
    alerts.push(buildAlert({ rule: this.rule, key, state, detail, measures }, "resolved"));
    detail.firing = false;
    store.firing.delete(state.key);
    state.startSec = -1;
    this.alertCounts.resolved += 1;
  }
}

const toSeconds = (ms: number): number => Math.floor(ms / 1000);
