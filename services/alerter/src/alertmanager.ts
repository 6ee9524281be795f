/**
 * Alert → Alertmanager's API v2 (`POST /api/v2/alerts`, a list of alerts). Pure.
 *
 * Labels name the alert, so they stay the same from firing to resolved: `alertname` (the rule),
 * `severity`, `key_type` and `key` (what the rule counted by: an address, a user, a host), and
 * `source="postwatch"` for routes to match on. Everything else is an annotation. Alertmanager ends
 * an alert at `endsAt`: a resolved notice sets it to the episode's end; a firing one sets it a day
 * ahead, since postwatch sends each state once rather than re-sending while an alert holds.
 */
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import { formatWindow } from "../../../shared/src/contracts/alerts.js";

/** How long Alertmanager keeps a firing alert active when no resolved notice comes. */
export const FIRING_HORIZON_MS = 24 * 3600 * 1000;

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export function toAlertmanager(alert: Alert, nowMs: number, generatorUrl?: string): AlertmanagerAlert {
  const annotations: Record<string, string> = {
    summary: alert.summary,
    count: `${alert.count} (threshold ${alert.threshold} in ${formatWindow(alert.windowSeconds)})`,
    hosts: alert.hosts.join(", "),
    fingerprint: alert.fingerprint,
  };
  if (alert.remediation) annotations.description = alert.remediation;
  if (alert.related.clientIps.length > 0) annotations.client_ips = alert.related.clientIps.join(", ");
  if (alert.related.saslUsers.length > 0) annotations.sasl_users = alert.related.saslUsers.join(", ");
  for (const [name, value] of Object.entries(alert.facts))
    annotations[`fact_${name.replace(/\W/g, "_")}`] = Array.isArray(value) ? value.join(", ") : String(value);
  if (alert.samples.length > 0) annotations.samples = alert.samples.join("\n");
  const endsAt =
    alert.state === "resolved"
      ? (alert.endsAt ?? new Date(nowMs).toISOString())
      : new Date(nowMs + FIRING_HORIZON_MS).toISOString();
  return {
    labels: {
      alertname: alert.rule,
      severity: alert.severity,
      key_type: alert.key.type,
      key: alert.key.value,
      source: "postwatch",
    },
    annotations,
    startsAt: alert.startsAt,
    endsAt,
    ...(generatorUrl ? { generatorURL: generatorUrl } : {}),
  };
}
