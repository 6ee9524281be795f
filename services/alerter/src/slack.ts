/**
 * Alert → Slack incoming-webhook payload (Block Kit). Pure. Slack's limits are respected here
 * (header 150 chars, section text 3000, at most 10 fields of 2000) so a large alert cannot be
 * rejected by Slack with `invalid_blocks`.
 */
import { type Alert, formatWindow } from "../../../shared/src/contracts/alerts.js";

const SEVERITY_ICON: Record<Alert["severity"], string> = {
  critical: ":red_circle:",
  warning: ":large_orange_circle:",
  info: ":large_blue_circle:",
};

/** Slack mrkdwn treats &, < and > as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export function alertTitle(alert: Alert): string {
  const state = alert.state === "resolved" ? "RESOLVED" : alert.severity.toUpperCase();
  return `[${state}] ${alert.rule}: ${keyLabel(alert.key)}`;
}

/** The key as a reader takes it: an address, a user, a host; a bare uid would read as a count. */
function keyLabel(key: Alert["key"]): string {
  return key.type === "local_uid" ? `uid ${key.value}` : key.value;
}

function listField(label: string, values: readonly string[]): { type: "mrkdwn"; text: string } | null {
  if (values.length === 0) return null;
  return { type: "mrkdwn", text: clip(`*${label}*\n${escapeMrkdwn(values.join(", "))}`, 2000) };
}

function factText(value: string | number | readonly string[]): string {
  return Array.isArray(value) ? value.join(", ") : String(value);
}

export function formatSlackMessage(alert: Alert): Record<string, unknown> {
  const icon = alert.state === "resolved" ? ":white_check_mark:" : SEVERITY_ICON[alert.severity];
  const title = alertTitle(alert);
  const fields = [
    {
      type: "mrkdwn",
      text: `*Count*\n${alert.count} (threshold ${alert.threshold} in ${formatWindow(alert.windowSeconds)})`,
    },
    { type: "mrkdwn", text: `*Since*\n${alert.startsAt}${alert.endsAt ? `\n*Until*\n${alert.endsAt}` : ""}` },
    listField("Mail servers", alert.hosts),
    listField("Client IPs", alert.related.clientIps),
    listField("SASL users", alert.related.saslUsers),
  ].filter((f) => f !== null);
  const facts = Object.entries(alert.facts)
    .map(([name, value]) => `• *${escapeMrkdwn(name)}*: ${escapeMrkdwn(factText(value))}`)
    .join("\n");
  const blocks: Record<string, unknown>[] = [
    {
      type: "header",
      text: { type: "plain_text", text: clip(`${alert.state === "resolved" ? "✅" : "🚨"} ${title}`, 150) },
    },
    { type: "section", text: { type: "mrkdwn", text: clip(`${icon} ${escapeMrkdwn(alert.summary)}`, 3000) } },
    { type: "section", fields: fields.slice(0, 10) },
  ];
  if (facts) blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(facts, 3000) } });
  if (alert.state === "firing" && alert.remediation) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*What to do*\n${escapeMrkdwn(alert.remediation)}`, 3000) },
    });
  }
  if (alert.samples.length > 0) {
    const samples = alert.samples.map((s) => escapeMrkdwn(s)).join("\n");
    blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(`\`\`\`${samples}\`\`\``, 3000) } });
  }
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: `postwatch · fingerprint \`${alert.fingerprint}\`` }],
  });
  // `text` is the notification and screen-reader fallback; Slack parses it as mrkdwn too, so a
  // log-derived `<!channel>` in a summary must not become a mention.
  return { text: escapeMrkdwn(`${title}: ${alert.summary}`), blocks };
}

/** Slack allows 50 blocks a message; a grouped message lists this many alerts in full lines. */
const MAX_LISTED = 40;

/**
 * One message for a batch: a single alert as formatSlackMessage renders it, several as a digest
 * (one line each, grouped by rule and state) so a wave of alerts stays one notification.
 */
export function formatSlackBatch(alerts: readonly Alert[]): Record<string, unknown> {
  const [only] = alerts;
  if (alerts.length === 1 && only) return formatSlackMessage(only);
  const critical = alerts.some((a) => a.state === "firing" && a.severity === "critical");
  const byRule = new Map<string, Alert[]>();
  for (const alert of alerts) {
    const group = `${alert.rule} ${alert.state}`;
    byRule.set(group, [...(byRule.get(group) ?? []), alert]);
  }
  const counts = [...byRule].map(([group, members]) => `${members.length} ${group}`).join(", ");
  const title = `${alerts.length} postwatch alerts: ${counts}`;
  const lines = alerts.slice(0, MAX_LISTED).map((alert) => {
    const icon = alert.state === "resolved" ? ":white_check_mark:" : SEVERITY_ICON[alert.severity];
    return clip(
      `${icon} *${alert.rule}* \`${escapeMrkdwn(keyLabel(alert.key))}\` ${escapeMrkdwn(alert.summary)}`,
      2900,
    );
  });
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: { type: "plain_text", text: clip(`${critical ? "🚨" : "🔔"} ${title}`, 150) } },
    ...lines.map((text) => ({ type: "section", text: { type: "mrkdwn", text } })),
  ];
  if (alerts.length > MAX_LISTED) {
    blocks.push({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `…and ${alerts.length - MAX_LISTED} more: see the webhook or \`postwatch_detector_alerts_total\``,
        },
      ],
    });
  }
  return { text: escapeMrkdwn(title), blocks };
}
