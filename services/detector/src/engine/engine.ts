/**
 * The detection engine: pure and clock-free. Time is the events' own `ts` (and whatever the
 * caller passes to `advance`), so replaying a log gives the alerts a live run gave.
 */
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { EventKind, PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { AuthSessions } from "./auth-sessions.js";
import type { EventContext } from "./fields.js";
import { KeyTables } from "./key-store.js";
import type { CompiledRule } from "./rule.js";
import { type KeyOwnership, type RuleStats, RuleTracker } from "./rule-tracker.js";

/** @default 250_000 keys per rule and key type; a rule's `maxKeys` setting overrides it. */
export const DEFAULT_MAX_KEYS_PER_RULE = 250_000;

export interface EngineOptions {
  rules: readonly CompiledRule[];
  maxKeysPerRule?: number;
  maxAuthSessions?: number;
  /** Keys this engine counts and alerts on; by default all. */
  ownsKey?: KeyOwnership;
}

export interface EngineStats {
  eventsProcessed: number;
  /** Events whose `ts` did not parse; they are skipped. */
  eventsWithoutTime: number;
  trackedAuthSessions: number;
  rules: Record<string, RuleStats>;
}

interface Route {
  tracker: RuleTracker;
  counts: ((event: PostfixEvent) => boolean)[];
  triggers: ((event: PostfixEvent) => boolean)[];
  forgives: ((event: PostfixEvent) => boolean)[];
}

export class DetectionEngine {
  private readonly trackers: RuleTracker[];
  private readonly routes = new Map<EventKind, Route[]>();
  private readonly authSessions: AuthSessions;
  private eventsProcessed = 0;
  private eventsWithoutTime = 0;

  constructor(options: EngineOptions) {
    const maxKeys = options.maxKeysPerRule ?? DEFAULT_MAX_KEYS_PER_RULE;
    // Rules grouping by the same field share one key → slot table (one string per address).
    const tables = new KeyTables();
    // A rule that yields to another runs after it, so it learns of that rule's alert on the same event.
    this.trackers = options.rules
      .filter((r) => r.settings.enabled)
      .map((r) => new RuleTracker(r, maxKeys, tables, options.ownsKey))
      .sort(
        (a, b) =>
          Number(a.rule.definition.yieldsTo !== undefined) - Number(b.rule.definition.yieldsTo !== undefined),
      );
    for (const tracker of this.trackers) {
      const target = this.trackers.find((t) => t.rule.id === tracker.rule.definition.yieldsTo);
      target?.yielders.push(tracker);
    }
    this.authSessions = new AuthSessions(options.maxAuthSessions);
    for (const tracker of this.trackers) {
      const { counts, triggers, forgives } = tracker.rule;
      const kinds = new Set([...counts.keys(), ...(triggers?.keys() ?? []), ...(forgives?.keys() ?? [])]);
      for (const kind of kinds) {
        const routes = this.routes.get(kind) ?? [];
        routes.push({
          tracker,
          counts: counts.get(kind) ?? [],
          triggers: triggers?.get(kind) ?? [],
          forgives: forgives?.get(kind) ?? [],
        });
        this.routes.set(kind, routes);
      }
    }
  }

  /**
   * Feeds one event; returns the alerts that started firing (or were resolved by eviction) because of
   * it. `atMs` is `Date.parse(event.ts)`, for callers that parsed it already.
   */
  process(event: PostfixEvent, atMs: number = Date.parse(event.ts)): Alert[] {
    this.eventsProcessed += 1;
    if (Number.isNaN(atMs)) {
      this.eventsWithoutTime += 1;
      return [];
    }
    // Session bookkeeping must see every connect/disconnect, whichever rules are enabled.
    const context: EventContext = this.authSessions.observe(event);
    const alerts: Alert[] = [];
    for (const route of this.routes.get(event.kind) ?? []) {
      if (route.counts.some((matches) => matches(event))) route.tracker.count(event, context, atMs, alerts);
      if (route.triggers.some((matches) => matches(event))) route.tracker.trigger(event, atMs, alerts);
      // After the trigger: a login still sees the failures before it, then takes back its own session's.
      if (route.forgives.some((matches) => matches(event))) route.tracker.forgive(event, context);
    }
    return alerts;
  }

  /**
   * Moves engine time to `nowMs` (the edge's clock live, the last event time in replay): returns
   * `resolved` alerts for keys quiet long enough and forgets idle keys. Call it on one timer.
   */
  advance(nowMs: number): Alert[] {
    const alerts: Alert[] = [];
    for (const tracker of this.trackers) tracker.sweep(nowMs, alerts);
    return alerts;
  }

  stats(): EngineStats {
    const rules: Record<string, RuleStats> = {};
    for (const tracker of this.trackers) rules[tracker.rule.id] = tracker.stats();
    return {
      eventsProcessed: this.eventsProcessed,
      eventsWithoutTime: this.eventsWithoutTime,
      trackedAuthSessions: this.authSessions.size,
      rules,
    };
  }
}
