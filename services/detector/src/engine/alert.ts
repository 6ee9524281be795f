import { createHash } from "node:crypto";
import {
  ALERT_SCHEMA_VERSION,
  type Alert,
  type AlertKey,
  formatWindow,
} from "../../../../shared/src/contracts/alerts.js";
import type { ExtensionState, Facts, KeyMeasures } from "./extension.js";
import { UNNAMED_HOST } from "./fields.js";
import type { KeyDetail } from "./key-state.js";
import type { CompiledRule } from "./rule.js";

/** Stable across restarts and replays: the same rule and key always give the same fingerprint. */
export function fingerprint(ruleId: string, key: AlertKey): string {
  return createHash("sha256").update(`${ruleId}\n${key.type}\n${key.value}`).digest("hex").slice(0, 32);
}

export interface AlertInput {
  rule: CompiledRule;
  key: AlertKey;
  /** First counted event of the episode, whole seconds; -1 when unknown (after a resolve). */
  startSec: number;
  extension: ExtensionState | undefined;
  detail: KeyDetail;
  measures: KeyMeasures;
}

export function buildAlert(
  { rule, key, startSec, extension, detail, measures }: AlertInput,
  alertState: Alert["state"],
): Alert {
  const facts = factsOf(extension, detail, measures);
  const measure = rule.measuredBy(key.type) === "distinct" ? measures.distinct : measures.count;
  const count = alertState === "firing" ? measure : detail.peakMeasure;
  const settings = rule.settings;
  const summary = rule.summaryFor(key.type)({
    ...facts,
    key: key.value,
    count,
    threshold: measures.threshold,
    window: formatWindow(settings.windowSeconds),
    hosts: detail.hosts.length > 0 ? detail.hosts : [UNNAMED_HOST],
  });
  const startMs = startSec < 0 ? detail.lastCountedMs : startSec * 1000;
  return {
    v: ALERT_SCHEMA_VERSION,
    fingerprint: fingerprint(rule.id, key),
    rule: rule.id,
    state: alertState,
    severity: settings.severity,
    key,
    summary,
    remediation: rule.definition.remediation,
    startsAt: new Date(startMs).toISOString(),
    ...(alertState === "resolved" ? { endsAt: new Date(detail.lastCountedMs).toISOString() } : {}),
    count,
    threshold: measures.threshold,
    windowSeconds: settings.windowSeconds,
    hosts: [...detail.hosts],
    related: { clientIps: [...detail.clientIps], saslUsers: [...detail.saslUsers] },
    facts,
    samples: [...detail.samples],
  };
}

function factsOf(extension: ExtensionState | undefined, detail: KeyDetail, measures: KeyMeasures): Facts {
  const facts: Facts = { ...detail.factValues(measures.atMs), ...extension?.facts(measures.atMs) };
  if (detail.distinct) {
    facts.distinct = detail.distinct.saturated(measures.atMs) ? `${measures.distinct}+` : measures.distinct;
    facts.events = measures.count;
  }
  return facts;
}
