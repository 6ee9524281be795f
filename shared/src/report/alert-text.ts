/** An alert as a person reads it: what `postwatch replay` prints, and the terminal's alert log without a webhook. */
import { type Alert, formatWindow } from "../contracts/alerts.js";

export function formatAlert(alert: Alert): string {
  const when = alert.state === "resolved" ? (alert.endsAt ?? alert.startsAt) : alert.startsAt;
  const lines = [
    `${when}  ${alert.state.toUpperCase().padEnd(8)} ${alert.severity.padEnd(8)} ${alert.rule}  ${alert.key.type}=${alert.key.value}`,
    `    ${alert.summary}`,
    `    count ${alert.count} (threshold ${alert.threshold} in ${formatWindow(alert.windowSeconds)}), hosts: ${alert.hosts.join(", ") || "-"}`,
  ];
  if (alert.related.clientIps.length > 0) lines.push(`    client IPs: ${alert.related.clientIps.join(", ")}`);
  if (alert.related.saslUsers.length > 0) lines.push(`    SASL users: ${alert.related.saslUsers.join(", ")}`);
  for (const [name, value] of Object.entries(alert.facts))
    lines.push(`    ${name}: ${Array.isArray(value) ? value.join(", ") : value}`);
  if (alert.state === "firing" && alert.remediation) lines.push(`    what to do: ${alert.remediation}`);
  return lines.join("\n");
}
