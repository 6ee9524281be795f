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
  type KeyField,
  NUMERIC_FIELDS,
  type NumericField,
  type TextField,
} from "./fields.js";
import { compileFilter, type EventFilter, type EventMatcher } from "./filters.js";
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
  /** The most frequent values of a field among counted events, as `value (n)`. */
  | { name: string; top: TextField; limit?: number }
  /** The sum of a numeric field over counted events of the episode. */
  | { name: string; sum: NumericField };

export interface RuleDefinition {
  id: string;
  description: string;
  /** Events that count. */
  reads: readonly EventFilter[];
  /** Events that only evaluate the condition for their keys (a success after failures); default: `reads`. */
  triggers?: readonly EventFilter[];
  /** Each event counts once under each key field it has a value for. */
  keys: readonly KeyField[];
  weight: NumericField;
  distinct?: TextField;
  thresholdOn?: "count" | "distinct";
  facts?: readonly FactSpec[];
  extension?: RuleExtension;
  /** Settings; extension params may be given here too and are validated with the rest. */
  defaults: RuleSettingsInput & Record<string, unknown>;
  /** Placeholders: {key} {count} {threshold} {window} {hosts} {distinct} and fact names. */
  summary: string;
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
  weight(event: PostfixEvent, context: EventContext): number;
  thresholdFor(keyType: AlertKey["type"]): number;
  /** Counted events a key needs before details (samples, hosts, facts) are kept: lone events stay cheap. */
  detailFrom: number;
  extension: BoundExtension | undefined;
  summary: Template;
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
  const schema = RuleSettings.extend(definition.extension?.params ?? {});
  const parsed = schema.safeParse({ ...definition.defaults, ...override });
  if (!parsed.success) {
    throw new RuleConfigError(
      parsed.error.issues.map((issue) => {
        const field = [...issue.path, ...("keys" in issue ? issue.keys : [])].join(".");
        return `${where}: ${field || "(settings)"}: ${issue.message}`;
      }),
    );
  }
  const settings = parsed.data as RuleSettings & Record<string, unknown>;
  const issues: string[] = [];
  const thresholdOn = definition.thresholdOn ?? "count";
  if (thresholdOn === "distinct") {
    if (definition.distinct === undefined)
      issues.push(`${where}: thresholdOn distinct needs a distinct field`);
    const highest = Math.max(settings.threshold, ...Object.values(settings.thresholdByKey));
    if (highest > settings.maxDistinct)
      issues.push(`${where}: threshold: ${highest} exceeds maxDistinct ${settings.maxDistinct}`);
  }
  const factNames = [
    ...(definition.facts ?? []).map((f) => f.name),
    ...(definition.extension?.factNames ?? []),
  ];
  const summary = compileTemplate(definition.summary, [...BASE_PLACEHOLDERS, ...factNames], (name) =>
    issues.push(`${where}: summary: unknown placeholder {${name}}`),
  );
  if (issues.length > 0) throw new RuleConfigError(issues);

  const windowMs = settings.windowSeconds * 1000;
  const extension = definition.extension?.bind(settings, windowMs);
  const weigh = NUMERIC_FIELDS[definition.weight];
  const hasDetailNeeds = definition.distinct !== undefined || extension !== undefined;
  return {
    id: definition.id,
    definition,
    settings,
    window: new SlidingWindow(windowMs),
    quietMs: settings.quietSeconds * 1000,
    retentionMs: Math.max(windowMs, extension?.retentionMs ?? 0),
    keyFields: definition.keys,
    counts: byKind(definition.reads),
    triggers: definition.triggers ? byKind(definition.triggers) : undefined,
    weight: (event, context) => weigh(event, context),
    thresholdFor: (keyType) => settings.thresholdByKey[keyType] ?? settings.threshold,
    detailFrom: hasDetailNeeds ? 1 : Math.min(2, settings.threshold),
    extension,
    summary,
  };
}

function byKind(filters: readonly EventFilter[]): Map<EventKind, EventMatcher[]> {
  const matchers = new Map<EventKind, EventMatcher[]>();
  for (const filter of filters) {
    const list = matchers.get(filter.kind) ?? [];
    list.push(compileFilter(filter));
    matchers.set(filter.kind, list);
  }
  return matchers;
}
