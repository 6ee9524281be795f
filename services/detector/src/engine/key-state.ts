/**
 * What the engine remembers per rule and key. Kept in two tiers because most keys are a lone
 * event (one failed login from one of a million scanning IPs): those hold only their counts;
 * samples, hosts, related keys and facts start once a key reaches the rule's `detailFrom`.
 */
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { DistinctSet } from "./distinct-set.js";
import type { ExtensionState, Facts } from "./extension.js";
import { type EventContext, type KeyField, NUMERIC_FIELDS, textValues } from "./fields.js";
import type { CompiledRule, FactSpec } from "./rule.js";
import { describeEvent } from "./samples.js";
import { type BucketCounts, NO_BUCKETS } from "./sliding-window.js";

export const MAX_SAMPLES = 3;
export const MAX_HOSTS = 5;
export const MAX_RELATED = 10;
const TOP_DEFAULT_LIMIT = 5;

/**
 * Times are whole seconds so they stay small integers in V8 (a millisecond epoch would be boxed
 * as a heap number, 16 bytes each); -1 means "none". Valid until 2038, like the logs' own clocks.
 */
export class KeyState {
  buckets: BucketCounts = NO_BUCKETS;
  /** First counted event of the current episode; -1 after a resolve until the next one. */
  startSec = -1;
  /** Last event seen for this key (counted or only observed). */
  touchedSec = 0;
  detail: KeyDetail | undefined = undefined;
  /** LRU links, kept on the state itself so touching a key never reorders the map. */
  newer: KeyState | undefined = undefined;
  older: KeyState | undefined = undefined;

  constructor(
    readonly key: string,
    readonly extension: ExtensionState | undefined,
  ) {}
}

export class KeyDetail {
  firing = false;
  /** The measure when the key was last evaluated, reported on resolve. */
  lastMeasure = 0;
  lastCountedMs = 0;
  hosts: string[] = [];
  clientIps: string[] = [];
  saslUsers: string[] = [];
  samples: string[] = [];
  facts: FactState[];
  readonly distinct: DistinctSet | undefined;

  constructor(private readonly rule: CompiledRule) {
    this.facts = newFacts(rule.definition.facts);
    this.distinct =
      rule.definition.distinct === undefined
        ? undefined
        : new DistinctSet(rule.window.windowMs, rule.settings.maxDistinct);
  }

  startEpisode(): void {
    this.hosts = [];
    this.clientIps = [];
    this.saslUsers = [];
    this.samples = [];
    this.facts = newFacts(this.rule.definition.facts);
  }

  /** Remembers what an alert will want to show about this event. */
  record(event: PostfixEvent, context: EventContext, keyField: KeyField, atMs: number): void {
    this.lastCountedMs = Math.max(this.lastCountedMs, atMs);
    if (event.host) addBounded(this.hosts, event.host, MAX_HOSTS);
    if (keyField !== "clientIp")
      for (const ip of textValues("clientIp", event)) addBounded(this.clientIps, ip, MAX_RELATED);
    if (keyField !== "saslUsername")
      for (const user of textValues("saslUsername", event)) addBounded(this.saslUsers, user, MAX_RELATED);
    if (this.samples.length < MAX_SAMPLES) this.samples.push(describeEvent(event));
    for (const fact of this.facts) fact.add(event, context);
    const distinctField = this.rule.definition.distinct;
    if (this.distinct && distinctField)
      for (const value of textValues(distinctField, event)) this.distinct.add(value, atMs);
  }

  /** A trigger's own line matters most (the successful login): it replaces the last sample if full. */
  recordTrigger(event: PostfixEvent, keyField: KeyField, atMs: number): void {
    this.lastCountedMs = Math.max(this.lastCountedMs, atMs);
    if (this.samples.length >= MAX_SAMPLES) this.samples.pop();
    this.samples.push(describeEvent(event));
    if (keyField !== "clientIp")
      for (const ip of textValues("clientIp", event)) addBounded(this.clientIps, ip, MAX_RELATED);
    if (keyField !== "saslUsername")
      for (const user of textValues("saslUsername", event)) addBounded(this.saslUsers, user, MAX_RELATED);
  }

  factValues(): Facts {
    const facts: Facts = {};
    for (const fact of this.facts) facts[fact.name] = fact.value();
    return facts;
  }
}

interface FactState {
  readonly name: string;
  add(event: PostfixEvent, context: EventContext): void;
  value(): string | number | string[];
}

function newFacts(specs: readonly FactSpec[] | undefined): FactState[] {
  return (specs ?? []).map((spec) => ("top" in spec ? new TopValues(spec) : new SumOf(spec)));
}

/** Most frequent values, approximately: once `capacity` values are held, new ones only count as "other". */
class TopValues implements FactState {
  readonly name: string;
  private readonly counts = new Map<string, number>();
  private readonly limit: number;
  private other = 0;

  constructor(private readonly spec: Extract<FactSpec, { top: unknown }>) {
    this.name = spec.name;
    this.limit = spec.limit ?? TOP_DEFAULT_LIMIT;
  }

  add(event: PostfixEvent): void {
    for (const value of textValues(this.spec.top, event)) {
      const seen = this.counts.get(value);
      if (seen !== undefined) this.counts.set(value, seen + 1);
      else if (this.counts.size < this.limit * 4) this.counts.set(value, 1);
      else this.other += 1;
    }
  }

  value(): string[] {
    const top = [...this.counts]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, this.limit)
      .map(([value, n]) => (n > 1 ? `${value} (${n})` : value));
    return this.other > 0 ? [...top, `other (${this.other})`] : top;
  }
}

class SumOf implements FactState {
  readonly name: string;
  private total = 0;

  constructor(private readonly spec: Extract<FactSpec, { sum: unknown }>) {
    this.name = spec.name;
  }

  add(event: PostfixEvent, context: EventContext): void {
    this.total += NUMERIC_FIELDS[this.spec.sum](event, context);
  }

  value(): number {
    return this.total;
  }
}

function addBounded(list: string[], value: string, max: number): void {
  if (list.length < max && !list.includes(value)) list.push(value);
}
