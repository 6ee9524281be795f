import { createHash } from "node:crypto";
import { ALERT_SCHEMA_VERSION, type Alert, type AlertKey } from "../../../../shared/src/contracts/alerts.js";
import type { Facts, KeyMeasures } from "./extension.js";
import { UNNAMED_HOST } from "./fields.js";
import type { KeyDetail, KeyState } from "./key-state.js";
import type { CompiledRule } from "./rule.js";
import { formatDuration } from "./template.js";

/** Stable across restarts and replays: the same rule and key always give the same fingerprint. */
export function fingerprint(ruleId: string, key: AlertKey): string {
  return createHash("sha256").update(`${ruleId}\n${key.type}\n${key.value}`).digest("hex").slice(0, 32);
}

export interface AlertInput {
  rule: CompiledRule;
  key: AlertKey;
  state: KeyState;
  detail: KeyDetail;
  measures: KeyMeasures;
}

export function buildAlert(
  { rule, key, state, detail, measures }: AlertInput,
  alertState: Alert["state"],
): Alert {
  const facts = factsOf(state, detail, measures);
  const measure = rule.definition.thresholdOn === "distinct" ? measures.distinct : measures.count;
  const count = alertState === "firing" ? measure : detail.lastMeasure;
  const settings = rule.settings;
  const summary = rule.summary({
    ...facts,
    key: key.value,
    count,
    threshold: measures.threshold,
    window: formatDuration(settings.windowSeconds),
    hosts: detail.hosts.length > 0 ? detail.hosts : [UNNAMED_HOST],
  });
  const startMs = state.startSec < 0 ? detail.lastCountedMs : state.startSec * 1000;
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

function factsOf(state: KeyState, detail: KeyDetail, measures: KeyMeasures): Facts {
  const facts: Facts = { ...detail.factValues(), ...state.extension?.facts(measures.atMs) };
  if (detail.distinct) {
    facts.distinct = detail.distinct.saturated(measures.atMs) ? `${measures.distinct}+` : measures.distinct;
    facts.events = measures.count;
  }
  return facts;
}
