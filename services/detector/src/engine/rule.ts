/**
 * A rule is a document (RuleDefinition: what it reads, how it groups and counts, its texts) plus
 * settings that config may override (RuleSettings). Both are compiled once at load into a
 * CompiledRule; any mistake fails the load with a message naming the rule and the field.
 */
import { z } from "zod";
import { AlertKey, Severity } from "../../../../shared/src/contracts/alerts.js";
import type { EventKind, PostfixEvent } from "../../../../shared/src/contracts/events.js";
import type { BoundExtension, RuleExtension } from "./extension.js";
import {
  type EventContext,
  KEY_FIELDS,
  type KeyField,
  NUMERIC_FIELDS,
  type NumericField,
  type TextField,
} from "./fields.js";
import { compileFilter, type EventFilter, type EventMatcher } from "./filters.js";
import { MAX_SAMPLES } from "./key-state.js";
import { SlidingWindow } from "./sliding-window.js";
import { compileTemplate, type Template } from "./template.js";

const positiveInt = z.int().positive();

export const RuleSettings = z.strictObject({
  enabled: z.boolean().default(true),
  severity: Severity,
  windowSeconds: positiveInt,
  /** Compared with the event count, or with the distinct count for rules with `thresholdOn: "distinct"`. */
  threshold: positiveInt,
  /** Per key type thresholds for rules that group by several keys (sasl_spray: global vs one user). */
  thresholdByKey: z.partialRecord(AlertKey.shape.type, positiveInt).default({}),
  /** A firing key resolves after this long without a counted event. */
  quietSeconds: positiveInt,
  /** Keys tracked per key type before the least recently seen is evicted; defaults to the engine's. */
  maxKeys: positiveInt.optional(),
  /** Distinct values remembered per key; distinct thresholds must not exceed it. */
  maxDistinct: positiveInt.default(256),
});
export type RuleSettings = z.infer<typeof RuleSettings>;
export type RuleSettingsInput = z.input<typeof RuleSettings>;

export type FactSpec =
  /**
   * The most frequent values of a field among the counted events in the window, as `value (n)`.
   * `weighted`: each event adds its weight (a disconnect showing 3 failed AUTHs adds 3), so the
   * values add up to the count; `missing` names the value of events without the field.
   */
  | { name: string; top: TextField; limit?: number; weighted?: boolean; missing?: string }
  /** The sum of a numeric field over counted events of the episode. */
  | { name: string; sum: NumericField };

export interface RuleDefinition {
  id: string;
  description: string;
  /** Events that count. */
  reads: readonly EventFilter[];
  /** Events that only evaluate the condition for their keys (a success after failures); default: `reads`. */
  triggers?: readonly EventFilter[];
  /**
   * Per key field, triggers that replace `triggers` for that key (auth_after_failures fires for a
   * user only on a login from an address new to that user).
   */
  keyTriggers?: Partial<Record<KeyField, readonly EventFilter[]>>;
  /** Facts taken from the trigger event itself (the login's address against the user's history). */
  triggerFacts?: readonly { name: string; field: TextField }[];
  /**
   * Events that take back weight already counted under their keys (a login that succeeds in the
   * session whose failures were counted: a typo, not a guess), by the `forgiveWeight` field.
   * Triggers are evaluated before forgiving, so the success still sees the failures before it.
   */
  forgiveOn?: readonly EventFilter[];
  forgiveWeight?: NumericField;
  /**
   * Another rule that reads the same events for the same keys and says the same thing sooner
   * (sasl_slow_bruteforce yields to sasl_bruteforce): this rule does not fire for a key that rule
   * fired for, or counted while firing, within this rule's window. One attack, one alert.
   */
  yieldsTo?: string;
  /** Each event counts once under each key field it has a value for. */
  keys: readonly KeyField[];
  weight: NumericField;
  distinct?: TextField;
  /**
   * Per key type, a distinct field that replaces `distinct`; keys of that type are measured by it
   * whatever `thresholdOn` says (sasl_spray: user names per network; client abuse: offending
   * addresses per network, so one address never makes a network alert on its own).
   */
  distinctByKey?: Partial<Record<AlertKey["type"], TextField>>;
  thresholdOn?: "count" | "distinct";
  facts?: readonly FactSpec[];
  extension?: RuleExtension;
  /**
   * How many of the events before firing an alert shows (at most 3, the default). Keys hold no
   * detail until that many events before the threshold: a low-threshold rule over a flood of
   * addresses stays cheap with fewer.
   */
  samples?: number;
  /** Extra settings with defaults, for the rule's filters (`listed`); overridable like the common ones. */
  params?: z.ZodRawShape;
  /** Settings; extension params may be given here too and are validated with the rest. */
  defaults: RuleSettingsInput & Record<string, unknown>;
  /** Placeholders: {key} {count} {threshold} {window} {hosts} {distinct} and fact names. */
  summary: string;
  /** Per key type, a summary that replaces `summary` (a spray per network counts accounts, not addresses). */
  summaryByKey?: Partial<Record<AlertKey["type"], string>>;
  remediation: string;
}

export interface CompiledRule {
  id: string;
  definition: RuleDefinition;
  settings: RuleSettings;
  window: SlidingWindow;
  quietMs: number;
  retentionMs: number;
  keyFields: readonly KeyField[];
  counts: ReadonlyMap<EventKind, EventMatcher[]>;
  triggers: ReadonlyMap<EventKind, EventMatcher[]> | undefined;
  /** Trigger matchers per key field (RuleDefinition.keyTriggers over `triggers`). */
  triggersFor(field: KeyField): ReadonlyMap<EventKind, EventMatcher[]> | undefined;
  /** The distinct field keys of this type count, if any. */
  distinctFor(keyType: AlertKey["type"]): TextField | undefined;
  /** What keys of this type compare with their threshold. */
  measuredBy(keyType: AlertKey["type"]): "count" | "distinct";
  forgives: ReadonlyMap<EventKind, EventMatcher[]> | undefined;
  weight(event: PostfixEvent, context: EventContext): number;
  forgiveWeight(event: PostfixEvent, context: EventContext): number;
  thresholdFor(keyType: AlertKey["type"]): number;
  /**
   * Counted weight a key needs before a detail (samples, hosts, facts) is kept: lone events stay
   * a few bytes. Up to then its facts are one interned tuple (`tupleFacts`), so they stay exact.
   */
  detailFrom(keyType: AlertKey["type"]): number;
  /** Whether keys of this type may go without a detail: facts are all `top` and count what the window counts. */
  tupleFacts(keyType: AlertKey["type"]): boolean;
  extension: BoundExtension | undefined;
  summaryFor(keyType: AlertKey["type"]): Template;
}

export class RuleConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid rule configuration:\n  ${issues.join("\n  ")}`);
    this.name = "RuleConfigError";
  }
}

const BASE_PLACEHOLDERS = ["key", "count", "threshold", "window", "hosts", "distinct", "events"];

/** Validates defaults merged with `override` and compiles; throws RuleConfigError listing every problem. */
export function compileRule(
  definition: RuleDefinition,
  override: Record<string, unknown> = {},
): CompiledRule {
  const where = `rule ${definition.id}`;
  const schema = RuleSettings.extend({ ...definition.params, ...definition.extension?.params });
  const parsed = schema.safeParse({ ...definition.defaults, ...override });
  if (!parsed.success) {
    throw new RuleConfigError(
      parsed.error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys" && issue.path.length === 0)
          return `${where}: unknown setting ${issue.keys.map((key) => JSON.stringify(key)).join(", ")} (settings: ${Object.keys(schema.shape).join(", ")})`;
        const field = [...issue.path, ...("keys" in issue ? issue.keys : [])].join(".");
        return `${where}: ${field || "(settings)"}: ${issue.message}`;
      }),
    );
  }
  const settings = parsed.data as RuleSettings & Record<string, unknown>;
  const issues: string[] = [];
  for (const keyType of definition.keys.map((field) => KEY_FIELDS[field])) {
    const distinctField = definition.distinctByKey?.[keyType] ?? definition.distinct;
    if (definition.distinctByKey?.[keyType] === undefined && definition.thresholdOn !== "distinct") continue;
    if (distinctField === undefined) issues.push(`${where}: thresholdOn distinct needs a distinct field`);
    const threshold = settings.thresholdByKey[keyType] ?? settings.threshold;
    if (threshold > settings.maxDistinct)
      issues.push(`${where}: threshold: ${threshold} exceeds maxDistinct ${settings.maxDistinct}`);
  }
  if ((definition.forgiveOn === undefined) !== (definition.forgiveWeight === undefined))
    issues.push(`${where}: forgiveOn and forgiveWeight go together`);
  const factNames = [
    ...(definition.facts ?? []).map((f) => f.name),
    ...(definition.triggerFacts ?? []).map((f) => f.name),
    ...(definition.extension?.factNames ?? []),
  ];
  const placeholders = [...BASE_PLACEHOLDERS, ...factNames];
  const summary = compileTemplate(definition.summary, placeholders, (name) =>
    issues.push(`${where}: summary: unknown placeholder {${name}}`),
  );
  const summaries = new Map(
    Object.entries(definition.summaryByKey ?? {}).map(([type, text]) => [
      type,
      compileTemplate(text, placeholders, (name) =>
        issues.push(`${where}: summaryByKey.${type}: unknown placeholder {${name}}`),
      ),
    ]),
  );
  if (issues.length > 0) throw new RuleConfigError(issues);

  const windowMs = settings.windowSeconds * 1000;
  const extension = definition.extension?.bind(settings, windowMs);
  const weigh = NUMERIC_FIELDS[definition.weight];
  const thresholdFor = (keyType: AlertKey["type"]) => settings.thresholdByKey[keyType] ?? settings.threshold;
  const distinctFor = (keyType: AlertKey["type"]) =>
    definition.distinctByKey?.[keyType] ?? definition.distinct;
  const measuredBy = (keyType: AlertKey["type"]) =>
    definition.distinctByKey?.[keyType] !== undefined ? "distinct" : (definition.thresholdOn ?? "count");
  const plainFacts =
    extension === undefined &&
    (definition.facts ?? []).every((f) => "top" in f && (f.weighted === true || definition.weight === "one"));
  const triggers = definition.triggers ? byKind(definition.triggers, settings) : undefined;
  const keyTriggers = new Map(
    Object.entries(definition.keyTriggers ?? {}).map(([field, filters]) => [
      field as KeyField,
      byKind(filters, settings),
    ]),
  );
  const tupleFacts = (keyType: AlertKey["type"]) => plainFacts && distinctFor(keyType) === undefined;
  const weighForgiven = definition.forgiveWeight ? NUMERIC_FIELDS[definition.forgiveWeight] : () => 0;
  return {
    id: definition.id,
    definition,
    settings,
    window: new SlidingWindow(windowMs),
    quietMs: settings.quietSeconds * 1000,
    retentionMs: Math.max(windowMs, extension?.retentionMs ?? 0),
    keyFields: definition.keys,
    counts: byKind(definition.reads, settings),
    triggers,
    triggersFor: (field) => keyTriggers.get(field) ?? triggers,
    distinctFor,
    measuredBy,
    forgives: definition.forgiveOn ? byKind(definition.forgiveOn, settings) : undefined,
    weight: (event, context) => weigh(event, context),
    forgiveWeight: (event, context) => weighForgiven(event, context),
    thresholdFor,
    // The last MAX_SAMPLES counted events before firing are the samples, so details start there.
    detailFrom: (keyType) => {
      const threshold = thresholdFor(keyType);
      const samples = Math.min(MAX_SAMPLES, definition.samples ?? MAX_SAMPLES);
      return tupleFacts(keyType) ? Math.min(threshold, Math.max(2, threshold - samples + 1)) : 1;
    },
    tupleFacts,
    extension,
    summaryFor: (keyType) => summaries.get(keyType) ?? summary,
  };
}

function byKind(
  filters: readonly EventFilter[],
  settings: Record<string, unknown>,
): Map<EventKind, EventMatcher[]> {
  const matchers = new Map<EventKind, EventMatcher[]>();
  for (const filter of filters) {
    const list = matchers.get(filter.kind) ?? [];
    list.push(compileFilter(filter, settings));
    matchers.set(filter.kind, list);
  }
  return matchers;
}
