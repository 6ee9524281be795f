/**
 * Runs one compiled rule: per key field a KeyStore (compact columns, LRU), the firing set, the
 * lifecycle (fire once per episode, resolve after the quiet period) and idle sweeping.
 * Windows are computed lazily from event time when a key is touched; `sweep` is the one place
 * that walks keys, and it only walks firing keys and the expired head of each LRU.
 */
import type { Alert, AlertKey } from "../../../../shared/src/contracts/alerts.js";
import { buildAlert } from "./alert.js";
import type { EventScope } from "./event-scope.js";
import type { KeyMeasures } from "./extension.js";
import type { KeyField } from "./fields.js";
import { matchesAny } from "./filters.js";
import { FactTuples, KeyDetail } from "./key-state.js";
import { KeyStore, KeyTables, SEGMENTS } from "./key-store.js";
import type { CompiledRule } from "./rule.js";

export interface RuleStats {
  trackedKeys: number;
  /** Keys holding a detail (close to firing, or firing): the ones that cost more than a few bytes. */
  detailedKeys: number;
  evictions: number;
  firing: number;
  alerts: { firing: number; resolved: number };
}

const NO_TUPLE = -1;

/** Whether this engine counts a key; replicas of the detector each own a share of the keys. */
export type KeyOwnership = (type: AlertKey["type"], value: string) => boolean;
export const ownsEveryKey: KeyOwnership = () => true;

export class RuleTracker {
  private readonly stores: KeyStore[];
  private readonly alertCounts = { firing: 0, resolved: 0 };
  private readonly tuples: FactTuples;
  /** Rules that yield to this one (RuleDefinition.yieldsTo): told when this rule covers a key. */
  readonly yielders: RuleTracker[] = [];

  constructor(
    readonly rule: CompiledRule,
    private readonly maxKeys: number,
    tables: KeyTables = new KeyTables(),
    private readonly owns: KeyOwnership = ownsEveryKey,
  ) {
    this.stores = rule.keyFields.map(
      (field) => new KeyStore(field, tables.for(field), rule.definition.yieldsTo !== undefined),
    );
    this.tuples = new FactTuples(rule.definition.facts ?? []);
  }

  count(scope: EventScope, alerts: Alert[]): void {
    const { event, atMs, seenMs } = scope;
    const weight = this.rule.weight(event, scope);
    if (weight <= 0 && this.rule.extension === undefined) return;
    const window = this.rule.window;
    let tuple: number | undefined;
    for (const store of this.stores) {
      for (const value of this.ownedKeys(store, scope)) {
        const slot = this.touch(store, value, seenMs, alerts);
        if (this.rule.extension !== undefined) store.extension(slot)?.observe(event, scope, atMs);
        if (weight <= 0) {
          if (this.rule.triggers === undefined) this.evaluate(store, slot, store.detail(slot), atMs, alerts);
          continue;
        }
        const before = store.total(slot, window.oldestKept(atMs));
        const buckets = window.addInPlace(store.ownBuckets(slot), atMs, weight);
        if (buckets === undefined) continue;
        let detail = store.detail(slot);
        if (!detail?.firing && (before === 0 || store.startSec(slot) < 0)) {
          store.setStartSec(slot, toSeconds(atMs));
          if (before === 0) {
            // A fresh episode with an empty window: nothing to remember but this event.
            store.setTuple(slot, NO_TUPLE);
            store.setFirstRelated(slot, undefined);
            store.setDetail(slot, undefined);
            detail = undefined;
          } else detail?.startEpisode();
        }
        if (detail === undefined) {
          tuple ??= this.rule.tupleFacts(store.type) ? this.tuples.intern(scope) : NO_TUPLE;
          detail = this.detailFor(store, slot, before + weight, tuple);
          if (detail === undefined) store.setFirstRelated(slot, relatedOf(store.field, scope));
        }
        store.setBuckets(slot, buckets);
        store.setRepeated(slot, before > 0);
        detail?.record(scope, weight, store.field);
        if (detail?.firing) this.cover(store.type, value, atMs);
        if (this.rule.triggers === undefined) this.evaluate(store, slot, detail, atMs, alerts);
      }
    }
  }

  /** The event's keys for this store that this engine owns (all of them unless replicas share keys). */
  private ownedKeys(store: KeyStore, scope: EventScope): readonly string[] {
    const values = scope.values(store.field);
    return this.owns === ownsEveryKey ? values : values.filter((value) => this.owns(store.type, value));
  }

  /** A trigger event fires the rule for keys already past the threshold; it never creates keys. */
  trigger(scope: EventScope, alerts: Alert[]): void {
    const { event, atMs } = scope;
    for (const store of this.stores) {
      const matchers = this.rule.triggersFor(store.field)?.get(event.kind);
      if (matchers === undefined || !matchesAny(matchers, event, scope)) continue;
      for (const value of this.ownedKeys(store, scope)) {
        const slot = store.slotOf(value);
        if (slot === undefined) continue;
        const detail = store.detail(slot);
        if (detail === undefined || detail.firing) continue;
        const measures = this.measure(store, slot, detail, atMs);
        if (!this.fires(store, slot, measures)) continue;
        detail.recordTrigger(scope, store.field);
        this.fire(store, slot, measures, alerts);
      }
    }
  }

  /** Takes back weight a forgiving event shows was no attack (see RuleDefinition.forgiveOn). */
  forgive(scope: EventScope): void {
    const { event } = scope;
    const amount = this.rule.forgiveWeight(event, scope);
    if (amount <= 0) return;
    for (const store of this.stores) {
      for (const value of this.ownedKeys(store, scope)) {
        const slot = store.slotOf(value);
        if (slot === undefined) continue;
        const { buckets, taken } = this.rule.window.retract(store.buckets(slot), amount);
        store.setBuckets(slot, buckets);
        if (taken > 0) store.detail(slot)?.forgive(event, taken);
      }
    }
  }

  /**
   * Another rule this one yields to has fired for the key, or counted for it while firing: this
   * rule stays quiet for it for one of its own windows.
   */
  coverKey(keyType: AlertKey["type"], key: string, atMs: number): void {
    for (const store of this.stores) {
      if (store.type !== keyType) continue;
      const slot = store.slotOf(key);
      if (slot !== undefined)
        store.setCoveredUntilSec(slot, toSeconds(atMs) + this.rule.settings.windowSeconds);
    }
  }

  /** Resolves keys quiet for the quiet period and forgets idle keys. */
  sweep(nowMs: number, alerts: Alert[]): void {
    for (const store of this.stores) {
      if (nowMs >= store.quietCheckFromMs) this.resolveQuiet(store, nowMs, alerts);
      this.forgetIdle(store, nowMs);
    }
  }

  private resolveQuiet(store: KeyStore, nowMs: number, alerts: Alert[]): void {
    let nextCheckMs = Number.POSITIVE_INFINITY;
    for (const key of store.firing) {
      const slot = store.slotOf(key);
      if (slot === undefined) continue;
      const detail = store.detail(slot);
      if (!detail) continue;
      const quietAtMs = detail.lastSeenMs + this.rule.quietMs;
      if (quietAtMs > nowMs) nextCheckMs = Math.min(nextCheckMs, quietAtMs);
      else this.resolve(store, slot, alerts);
    }
    store.quietCheckFromMs = nextCheckMs;
  }

  stats(): RuleStats {
    let trackedKeys = 0;
    let detailedKeys = 0;
    let evictions = 0;
    let firing = 0;
    for (const store of this.stores) {
      trackedKeys += store.size;
      detailedKeys += store.detailed;
      evictions += store.evictions;
      firing += store.firing.size;
    }
    return { trackedKeys, detailedKeys, evictions, firing, alerts: { ...this.alertCounts } };
  }

  /**
   * A key gets its detail once close to firing, or once its events stop sharing one fact tuple;
   * the detail is seeded with everything counted before it, so its facts add up to the count.
   */
  private detailFor(
    store: KeyStore,
    slot: number,
    weightAfter: number,
    tuple: number,
  ): KeyDetail | undefined {
    const held = store.tupleOf(slot);
    const needed =
      !this.rule.tupleFacts(store.type) ||
      weightAfter >= this.rule.detailFrom(store.type) ||
      tuple === NO_TUPLE ||
      (held !== NO_TUPLE && held !== tuple);
    if (!needed) {
      store.setTuple(slot, tuple);
      return undefined;
    }
    const detail = new KeyDetail(this.rule, store.field);
    const seed = held === NO_TUPLE ? undefined : this.tuples.get(held);
    // The store still holds the window before this event: what the tuple's values were counted in.
    if (seed !== undefined) detail.seed(seed, store.buckets(slot));
    const related = store.firstRelated(slot);
    if (related !== undefined) detail.addRelatedValue(store.field, related);
    store.setFirstRelated(slot, undefined);
    store.setTuple(slot, NO_TUPLE);
    store.setDetail(slot, detail);
    return detail;
  }

  private touch(store: KeyStore, value: string, seenMs: number, alerts: Alert[]): number {
    const sec = toSeconds(seenMs);
    let slot = store.slotOf(value);
    if (slot !== undefined) store.touch(slot);
    else {
      this.evictFor(store, alerts);
      slot = store.add(value, sec);
      const extension = this.rule.extension;
      if (extension) store.setExtension(slot, extension.newState());
    }
    store.setTouchedSec(slot, sec);
    return slot;
  }

  /**
   * The least recently seen key makes room, those counted only once first (see KeyStore); a
   * firing one is resolved on the way out, not lost.
   */
  private evictFor(store: KeyStore, alerts: Alert[]): void {
    const limit = this.rule.settings.maxKeys ?? this.maxKeys;
    for (let oldest = store.leastRecent(); oldest !== undefined && store.size >= limit; ) {
      if (store.firing.has(store.keyOf(oldest))) this.resolve(store, oldest, alerts);
      store.delete(oldest);
      store.evictions += 1;
      oldest = store.leastRecent();
    }
  }

  private forgetIdle(store: KeyStore, nowMs: number): void {
    const idleBeforeSec = (nowMs - this.rule.retentionMs) / 1000;
    for (const segment of SEGMENTS) {
      let firingSkipped = 0;
      for (
        let oldest = store.leastRecentIn(segment);
        oldest !== undefined && store.touchedSec(oldest) <= idleBeforeSec;
        oldest = store.leastRecentIn(segment)
      ) {
        if (!store.firing.has(store.keyOf(oldest))) store.delete(oldest);
        // A firing key still inside its quiet period goes to the back of the line instead.
        else if (++firingSkipped > store.firing.size) break;
        else store.touch(oldest);
      }
    }
  }

  private evaluate(
    store: KeyStore,
    slot: number,
    detail: KeyDetail | undefined,
    atMs: number,
    alerts: Alert[],
  ): void {
    if (detail === undefined) return;
    if (detail.firing) {
      // Most evaluations are of a key already firing: only its peak to keep, no measures object.
      const count = store.total(slot, this.rule.window.oldestKept(atMs));
      // Asked even when unused: size() also ages values out, which the set's cap relies on.
      const distinct = detail.distinct?.size(atMs) ?? 0;
      const measure = this.rule.measuredBy(store.type) === "distinct" ? distinct : count;
      detail.peakMeasure = Math.max(detail.peakMeasure, measure);
      return;
    }
    const measures = this.measure(store, slot, detail, atMs);
    detail.peakMeasure = this.rule.measuredBy(store.type) === "distinct" ? measures.distinct : measures.count;
    if (this.fires(store, slot, measures)) this.fire(store, slot, measures, alerts);
  }

  private measure(store: KeyStore, slot: number, detail: KeyDetail, atMs: number): KeyMeasures {
    return {
      atMs,
      count: store.total(slot, this.rule.window.oldestKept(atMs)),
      distinct: detail.distinct?.size(atMs) ?? 0,
      threshold: this.rule.thresholdFor(store.type),
    };
  }

  private fires(store: KeyStore, slot: number, measures: KeyMeasures): boolean {
    if (
      this.rule.definition.yieldsTo !== undefined &&
      store.coveredUntilSec(slot) >= toSeconds(measures.atMs)
    )
      return false;
    const extension = this.rule.extension === undefined ? undefined : store.extension(slot);
    if (extension) return extension.fires(measures);
    const measure = this.rule.measuredBy(store.type) === "distinct" ? measures.distinct : measures.count;
    return measure >= measures.threshold;
  }

  private fire(store: KeyStore, slot: number, measures: KeyMeasures, alerts: Alert[]): void {
    const detail = store.detail(slot) as KeyDetail;
    const key = { type: store.type, value: store.keyOf(slot) };
    detail.firing = true;
    store.firing.add(key.value);
    store.quietCheckFromMs = Math.min(store.quietCheckFromMs, detail.lastSeenMs + this.rule.quietMs);
    this.alertCounts.firing += 1;
    alerts.push(buildAlert(this.alertInput(store, slot, detail, measures, key), "firing"));
    this.cover(key.type, key.value, measures.atMs);
  }

  private resolve(store: KeyStore, slot: number, alerts: Alert[]): void {
    const detail = store.detail(slot) as KeyDetail;
    const measures = this.measure(store, slot, detail, detail.lastCountedMs);
    const key = { type: store.type, value: store.keyOf(slot) };
    alerts.push(buildAlert(this.alertInput(store, slot, detail, measures, key), "resolved"));
    detail.firing = false;
    store.firing.delete(key.value);
    store.setStartSec(slot, -1);
    this.alertCounts.resolved += 1;
  }

  private alertInput(store: KeyStore, slot: number, detail: KeyDetail, measures: KeyMeasures, key: AlertKey) {
    return {
      rule: this.rule,
      key,
      startSec: store.startSec(slot),
      extension: store.extension(slot),
      detail,
      measures,
    };
  }

  private cover(keyType: AlertKey["type"], key: string, atMs: number): void {
    for (const yielder of this.yielders) yielder.coverKey(keyType, key, atMs);
  }
}

const toSeconds = (ms: number): number => Math.floor(ms / 1000);

/** What an alert on this key most wants to name besides the key: the user for an address, else the address. */
function relatedOf(field: KeyField, scope: EventScope): string | undefined {
  return scope.values(field === "clientIp" ? "saslUsername" : "clientIp")[0];
}
