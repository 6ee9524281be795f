/**
 * What the engine remembers per rule and key beyond its counts. Most keys are a lone event or two
 * (one of a million scanning IPs): those hold only their columns in the KeyStore and, for facts,
 * the number of an interned "fact tuple" (the fact values their events shared, e.g. PLAIN on
 * submission on mx1). A KeyDetail (samples, hosts, related keys, facts) starts once a key is close
 * to firing (the rule's `detailFrom`), or as soon as its events stop sharing one tuple; it is
 * seeded from the tuple and the key's window, so facts always agree with the count.
 */
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { DistinctSet } from "./distinct-set.js";
import type { EventScope } from "./event-scope.js";
import type { Facts } from "./extension.js";
import { KEY_FIELDS, type KeyField, NUMERIC_FIELDS, type TextField, textValues } from "./fields.js";
import type { CompiledRule, FactSpec } from "./rule.js";
import { describeEvent } from "./samples.js";
import type { BucketCounts, SlidingWindow } from "./sliding-window.js";

export const MAX_SAMPLES = 3;
export const MAX_HOSTS = 5;
export const MAX_RELATED = 10;
const TOP_DEFAULT_LIMIT = 5;
/** Distinct fact tuples a rule interns; past it, new keys get a detail at their first event. */
export const MAX_TUPLES = 4096;

export class KeyDetail {
  firing = false;
  /**
   * The measure at the last evaluation before firing; while firing, the episode's highest, which
   * the resolved alert reports (the last evaluation's can be a lone straggler's 1).
   */
  peakMeasure = 0;
  lastCountedMs = 0;
  /** Seen time (see DetectionPipeline) of the last counted event: the quiet period runs from it. */
  lastSeenMs = 0;
  hosts: string[] = [];
  clientIps: string[] = [];
  saslUsers: string[] = [];
  /**
   * The most recent events: at firing, the ones that crossed the threshold. Kept as events and
   * written out only when an alert asks (`samples`): most keys never fire. Once full, a ring whose
   * oldest is at `oldestRecent` (shift() moved the array on every counted event).
   */
  private recent: PostfixEvent[] = [];
  private oldestRecent = 0;
  readonly facts: FactState[];
  readonly distinct: DistinctSet | undefined;
  private readonly distinctField: TextField | undefined;
  /** Facts of the event that triggered the alert (RuleDefinition.triggerFacts). */
  private triggerFacts: Facts = {};

  constructor(
    private readonly rule: CompiledRule,
    keyField: KeyField,
  ) {
    this.facts = (rule.definition.facts ?? []).map((spec) =>
      "top" in spec ? new TopValues(spec, rule) : new SumOf(spec, rule.window),
    );
    const keyType = KEY_FIELDS[keyField];
    this.distinctField = rule.distinctFor(keyType);
    // Twice the key's threshold keeps every decision exact (see DistinctSet) and a /24 of
    // attackers from holding 256 addresses per rule.
    const cap = Math.min(rule.settings.maxDistinct, 2 * rule.thresholdFor(keyType));
    this.distinct = this.distinctField === undefined ? undefined : new DistinctSet(rule.window.windowMs, cap);
  }

  /** Starts from what the key counted before it had a detail: all of it had the tuple's values. */
  seed(tuple: FactTuple, buckets: BucketCounts): void {
    if (tuple.host) this.hosts.push(tuple.host);
    this.facts.forEach((fact, i) => {
      fact.seed(tuple.values[i] ?? [], buckets);
    });
  }

  /** A new episode: what an alert lists starts over; windowed facts age out on their own. */
  startEpisode(): void {
    this.hosts = [];
    this.clientIps = [];
    this.saslUsers = [];
    this.recent = [];
    this.oldestRecent = 0;
  }

  /** Remembers what an alert will want to show about this counted event. */
  record(scope: EventScope, weight: number, keyField: KeyField): void {
    const { event, atMs } = scope;
    this.lastCountedMs = Math.max(this.lastCountedMs, atMs);
    this.lastSeenMs = Math.max(this.lastSeenMs, scope.seenMs);
    if (event.host) addBounded(this.hosts, event.host, MAX_HOSTS);
    this.addRelated(scope, keyField);
    this.addSample(event);
    for (const fact of this.facts) fact.add(scope, weight);
    if (this.distinct && this.distinctField)
      for (const value of scope.values(this.distinctField)) this.distinct.add(value, atMs);
  }

  /** A trigger's own line matters most (the successful login): it becomes the newest sample. */
  recordTrigger(scope: EventScope, keyField: KeyField): void {
    this.lastCountedMs = Math.max(this.lastCountedMs, scope.atMs);
    this.lastSeenMs = Math.max(this.lastSeenMs, scope.seenMs);
    this.addSample(scope.event);
    this.addRelated(scope, keyField);
    for (const { name, field } of this.rule.definition.triggerFacts ?? [])
      this.triggerFacts[name] = [...scope.values(field)];
  }

  /** Takes back `amount` counted weight on the forgiving event's own values (see RuleDefinition.forgiveOn). */
  forgive(event: PostfixEvent, amount: number): void {
    for (const fact of this.facts) fact.retract(event, amount);
    if (this.distinct && this.distinctField)
      for (const value of textValues(this.distinctField, event)) this.distinct.delete(value);
  }

  /** A related value remembered before the detail existed (see KeyStore.firstRelated). */
  addRelatedValue(keyField: KeyField, value: string): void {
    if (keyField === "clientIp") addBounded(this.saslUsers, value, MAX_RELATED);
    else addBounded(this.clientIps, value, MAX_RELATED);
  }

  get samples(): string[] {
    const oldestFirst = [...this.recent.slice(this.oldestRecent), ...this.recent.slice(0, this.oldestRecent)];
    return oldestFirst.map(describeEvent);
  }

  factValues(atMs: number): Facts {
    const facts: Facts = { ...this.triggerFacts };
    for (const fact of this.facts) facts[fact.name] = fact.value(atMs);
    return facts;
  }

  private addRelated(scope: EventScope, keyField: KeyField): void {
    if (keyField !== "clientIp")
      for (const ip of scope.values("clientIp")) addBounded(this.clientIps, ip, MAX_RELATED);
    if (keyField !== "saslUsername")
      for (const user of scope.values("saslUsername")) addBounded(this.saslUsers, user, MAX_RELATED);
  }

  private addSample(event: PostfixEvent): void {
    if (this.recent.length < MAX_SAMPLES) this.recent.push(event);
    else {
      this.recent[this.oldestRecent] = event;
      this.oldestRecent = (this.oldestRecent + 1) % MAX_SAMPLES;
    }
  }
}

/** The fact values (one list per fact spec) and host shared by a key's events before its detail. */
export interface FactTuple {
  host: string;
  values: readonly (readonly string[])[];
}

/** Interned fact tuples of one rule: a handful in practice (mechanism × service × host). */
export class FactTuples {
  private readonly ids = new Map<string, number>();
  private readonly tuples: FactTuple[] = [];

  constructor(private readonly specs: readonly FactSpec[]) {}

  /** The tuple number of an event, or -1 once the table is full. */
  intern(scope: EventScope): number {
    const { host } = scope.event;
    // Built by hand: most events are a known tuple, and need no array of their values.
    let signature = `${host}\u0001`;
    for (let i = 0; i < this.specs.length; i++)
      signature += `${i > 0 ? "\u0001" : ""}${tupleValues(this.specs[i] as FactSpec, scope).join("\u0002")}`;
    const known = this.ids.get(signature);
    if (known !== undefined) return known;
    if (this.tuples.length >= MAX_TUPLES) return -1;
    this.tuples.push({ host, values: this.specs.map((spec) => tupleValues(spec, scope)) });
    this.ids.set(signature, this.tuples.length - 1);
    return this.tuples.length - 1;
  }

  get(id: number): FactTuple | undefined {
    return this.tuples[id];
  }
}

/** What a tuple holds of a fact: a `top` fact's values (a sum is not interned). */
function tupleValues(spec: FactSpec, scope: EventScope): readonly string[] {
  return "top" in spec ? factValuesOf(spec, scope.values(spec.top)) : [];
}

/** The values a `top` fact counts for an event: its field's, or the `missing` label when it has none. */
function factValuesOf(
  spec: Extract<FactSpec, { top: unknown }>,
  values: readonly string[],
): readonly string[] {
  return values.length === 0 && spec.missing !== undefined ? [spec.missing] : values;
}

interface FactState {
  readonly name: string;
  seed(values: readonly string[], buckets: BucketCounts): void;
  add(scope: EventScope, weight: number): void;
  retract(event: PostfixEvent, amount: number): void;
  value(atMs: number): string | number | string[];
}

/**
 * Most frequent values in the window, each with its own bucket counts so the fact covers exactly
 * the events the count covers. Once `4 × limit` values are held, new ones count as "other".
 */
class TopValues implements FactState {
  readonly name: string;
  /** Arrays this fact alone holds, so counting into them in place is safe. */
  private readonly counts = new Map<string, number[]>();
  private other: number[] = [];
  private readonly limit: number;
  private readonly window: SlidingWindow;
  private readonly weighted: boolean;

  constructor(
    private readonly spec: Extract<FactSpec, { top: unknown }>,
    rule: CompiledRule,
  ) {
    this.name = spec.name;
    this.limit = spec.limit ?? TOP_DEFAULT_LIMIT;
    this.window = rule.window;
    this.weighted = spec.weighted === true;
  }

  seed(values: readonly string[], buckets: BucketCounts): void {
    for (const value of values) this.counts.set(value, [...buckets]);
  }

  add(scope: EventScope, weight: number): void {
    const { atMs } = scope;
    const amount = this.weighted ? weight : 1;
    for (const value of factValuesOf(this.spec, scope.values(this.spec.top))) {
      const seen = this.counts.get(value);
      if (seen === undefined && this.counts.size >= this.limit * 4) {
        this.other = this.window.addInPlace(this.other, atMs, amount) ?? this.other;
        continue;
      }
      const next = this.window.addInPlace(seen ?? [], atMs, amount);
      if (next !== undefined && next !== seen) this.counts.set(value, next);
    }
  }

  retract(event: PostfixEvent, amount: number): void {
    for (const value of factValuesOf(this.spec, textValues(this.spec.top, event))) {
      const seen = this.counts.get(value);
      if (seen !== undefined) this.counts.set(value, this.window.retract(seen, amount).buckets);
    }
  }

  value(atMs: number): string[] {
    const totals: [string, number][] = [];
    for (const [value, buckets] of this.counts) {
      const n = this.window.total(buckets, atMs);
      if (n > 0) totals.push([value, n]);
      else this.counts.delete(value);
    }
    const top = totals
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, this.limit)
      .map(([value, n]) => (n > 1 ? `${value} (${n})` : value));
    const other =
      this.window.total(this.other, atMs) + totals.slice(this.limit).reduce((sum, [, n]) => sum + n, 0);
    return other > 0 ? [...top, `other (${other})`] : top;
  }
}

/** The sum of a numeric field over the counted events in the window. */
class SumOf implements FactState {
  readonly name: string;
  private buckets: BucketCounts = [];

  constructor(
    private readonly spec: Extract<FactSpec, { sum: unknown }>,
    private readonly window: SlidingWindow,
  ) {
    this.name = spec.name;
  }

  seed(): void {}

  add(scope: EventScope): void {
    const amount = NUMERIC_FIELDS[this.spec.sum](scope.event, scope);
    if (amount > 0) this.buckets = this.window.add(this.buckets, scope.atMs, amount) ?? this.buckets;
  }

  retract(): void {}

  value(atMs: number): number {
    return this.window.total(this.buckets, atMs);
  }
}

function addBounded(list: string[], value: string, max: number): void {
  if (list.length < max && !list.includes(value)) list.push(value);
}
