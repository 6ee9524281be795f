/**
 * The detection engine: pure and clock-free. Time is the events' own `ts` (and whatever the
 * caller passes to `advance`), so replaying a log gives the alerts a live run gave.
 *
 * It holds what rules count per key and the login history; what needs a host's lines in order
 * (SMTP sessions' SASL failures, auth-sessions.ts) is worked out before, by the correlation stage,
 * and handed in with each event. So an engine may see only the events of its own keys.
 */
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import { eventTimeMs } from "../../../../shared/src/contracts/event-time.js";
import type { EventKind, PostfixEvent } from "../../../../shared/src/contracts/events.js";
import type { AuthCounts } from "./auth-sessions.js";
import { EventScope } from "./event-scope.js";
import { type EventMatcher, matchesAny } from "./filters.js";
import { KeyTables } from "./key-store.js";
import { LoginHistory, type LoginHistoryOptions } from "./login-history.js";
import type { CompiledRule } from "./rule.js";
import { type KeyOwnership, type RuleStats, RuleTracker } from "./rule-tracker.js";

/** @default 250_000 keys per rule and key type; a rule's `maxKeys` setting overrides it. */
export const DEFAULT_MAX_KEYS_PER_RULE = 250_000;

export interface EngineOptions {
  rules: readonly CompiledRule[];
  maxKeysPerRule?: number;
  /** Keys this engine counts and alerts on; by default all. */
  ownsKey?: KeyOwnership;
  loginHistory?: Partial<LoginHistoryOptions>;
}

export interface EngineStats {
  eventsProcessed: number;
  /** Events whose `ts` did not parse; they are skipped. */
  eventsWithoutTime: number;
  /** SASL users whose login addresses are remembered (login-history.ts). */
  loginHistoryUsers: number;
  rules: Record<string, RuleStats>;
}

interface Route {
  tracker: RuleTracker;
  counts: EventMatcher[];
  /** Whether the rule has triggers for this kind; the tracker matches them per key field. */
  triggers: boolean;
  forgives: EventMatcher[];
}

export class DetectionEngine {
  private readonly trackers: RuleTracker[];
  private readonly routes = new Map<EventKind, Route[]>();
  private readonly logins: LoginHistory;
  /** The event being processed; one, reused, so an event costs no context object. */
  private readonly scope = new EventScope();
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
    this.logins = new LoginHistory(options.loginHistory);
    for (const tracker of this.trackers) {
      const { counts, forgives, keyFields } = tracker.rule;
      const triggerKinds = new Set(
        keyFields.flatMap((field) => [...(tracker.rule.triggersFor(field)?.keys() ?? [])]),
      );
      const kinds = new Set([...counts.keys(), ...triggerKinds, ...(forgives?.keys() ?? [])]);
      for (const kind of kinds) {
        const routes = this.routes.get(kind) ?? [];
        routes.push({
          tracker,
          counts: counts.get(kind) ?? [],
          triggers: triggerKinds.has(kind),
          forgives: forgives?.get(kind) ?? [],
        });
        this.routes.set(kind, routes);
      }
    }
  }

  /**
   * Feeds one event; returns the alerts that started firing (or were resolved by eviction) because of
   * it. `auth` is what the event adds to its session's SASL guesses (AuthSessions.observe); `atMs`
   * places it in the windows (`Date.parse(event.ts)` by default); `seenMs`, when it was received, is
   * the clock `advance` measures idle keys and quiet periods on (see DetectionPipeline).
   */
  process(
    event: PostfixEvent,
    auth: AuthCounts,
    atMs: number = eventTimeMs(event.ts),
    seenMs: number = atMs,
  ): Alert[] {
    const alerts: Alert[] = [];
    this.processInto(event, auth, atMs, seenMs, alerts);
    return alerts;
  }

  /** process(), appending the alerts to `alerts`. */
  processInto(event: PostfixEvent, auth: AuthCounts, atMs: number, seenMs: number, alerts: Alert[]): void {
    this.eventsProcessed += 1;
    if (Number.isNaN(atMs)) {
      this.eventsWithoutTime += 1;
      return;
    }
    // The login history must see every event, whichever rules are enabled.
    const login = this.logins.observe(event, atMs);
    const routes = this.routes.get(event.kind);
    if (routes === undefined) return;
    const scope = this.scope.reset(event, auth, login, atMs, seenMs);
    for (const route of routes) {
      if (matchesAny(route.counts, event, scope)) route.tracker.count(scope, alerts);
      if (route.triggers) route.tracker.trigger(scope, alerts);
      // After the trigger: a login still sees the failures before it, then takes back its own session's.
      if (matchesAny(route.forgives, event, scope)) route.tracker.forgive(scope);
    }
  }

  /**
   * Learns a successful login into the login history without counting it for any rule: how a
   * restarted detector rebuilds login history older than the rule windows (warmup.ts).
   */
  learnLogin(event: PostfixEvent, atMs: number = eventTimeMs(event.ts)): void {
    if (event.kind === "client" && !Number.isNaN(atMs)) this.logins.observe(event, atMs);
  }

  /**
   * Moves seen time to `nowMs` (the edge's clock live, the last event time in replay): returns
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
      loginHistoryUsers: this.logins.size,
      rules,
    };
  }
}
