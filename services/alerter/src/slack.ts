/**
 * Alert → Slack incoming-webhook payload (Block Kit). Pure.
 *
 * Everything an alert quotes from the logs (keys, summaries, users, samples) goes into `plain_text`
 * objects, which Slack shows as written: a user name holding ``` or `*RESOLVED*` cannot close a
 * code block or print bold text. `mrkdwn` carries only postwatch's own labels. Slack's limits are
 * kept (50 blocks, header 150 characters, section text 3,000, 10 fields of 2,000) so that no alert
 * is refused with `invalid_blocks`.
 */
import { type Alert, formatWindow } from "../../../shared/src/contracts/alerts.js";

const SEVERITY_ICON: Record<Alert["severity"], string> = { critical: "🔴", warning: "🟠", info: "🔵" };
const SEVERITY_ORDER: Record<Alert["severity"], number> = { critical: 0, warning: 1, info: 2 };
const RESOLVED_ICON = "✅";

const MAX_BLOCKS = 50;
const MAX_SECTION = 3000;
const MAX_FIELD = 2000;
const MAX_HEADER = 150;
/** Kept under Slack's 40,000 characters a message, whatever the number of alerts in a digest. */
const MAX_DIGEST_TEXT = 36_000;

/** Slack reads &, < and > as the start of an entity, a link or a mention, in every text object. */
export function escapeEntities(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Cut to `max` without leaving half an entity behind. */
const cut = (escaped: string, max: number) =>
  escaped.length <= max ? escaped : `${escaped.slice(0, max - 1).replace(/&[a-z]{0,3}$/, "")}…`;

const clipEscaped = (text: string, max: number) => cut(escapeEntities(text), max);

/**
 * Lines joined within `budget` characters: short lines whole, the longest cut to an equal share
 * of what the short ones leave, so that a long summary cannot push out the line after it.
 */
function fitLines(lines: readonly string[], budget: number): string {
  const escaped = lines.map(escapeEntities);
  let room = budget - (lines.length - 1);
  let cap = room;
  const lengths = escaped.map((line) => line.length).sort((a, b) => a - b);
  for (const [i, length] of lengths.entries()) {
    const share = Math.floor(room / (lengths.length - i));
    if (length > share) {
      cap = share;
      break;
    }
    room -= length;
  }
  return escaped.map((line) => cut(line, cap)).join("\n");
}

/** Text shown as written: no formatting, no `:emoji:` codes, no mentions. */
const plain = (text: string, max = MAX_SECTION) => ({
  type: "plain_text",
  text: clipEscaped(text, max),
  emoji: false,
});
/** postwatch's own words in bold; never called with text from a log. */
const label = (words: string) => ({ type: "mrkdwn", text: `*${words}*` });

export function alertTitle(alert: Alert): string {
  const state = alert.state === "resolved" ? "RESOLVED" : alert.severity.toUpperCase();
  return `[${state}] ${alert.rule}: ${keyLabel(alert.key)}`;
}

/** The key as a reader takes it: an address, a user, a host; a bare uid would read as a count. */
function keyLabel(key: Alert["key"]): string {
  return key.type === "local_uid" ? `uid ${key.value}` : key.value;
}

const iconOf = (alert: Alert) => (alert.state === "resolved" ? RESOLVED_ICON : SEVERITY_ICON[alert.severity]);

const factText = (value: Alert["facts"][string]) => (Array.isArray(value) ? value.join(", ") : String(value));

/** Label and value side by side, as Slack lays out a section's fields in two columns. */
function fieldSections(pairs: readonly (readonly [string, string])[]): Record<string, unknown>[] {
  const sections: Record<string, unknown>[] = [];
  for (let i = 0; i < pairs.length; i += 5) {
    const fields = pairs.slice(i, i + 5).flatMap(([name, value]) => [label(name), plain(value, MAX_FIELD)]);
    sections.push({ type: "section", fields });
  }
  return sections;
}

export function formatSlackMessage(alert: Alert): Record<string, unknown> {
  const title = alertTitle(alert);
  const window = `${alert.count} (threshold ${alert.threshold} in ${formatWindow(alert.windowSeconds)})`;
  const when = alert.endsAt ? `${alert.startsAt}\nuntil ${alert.endsAt}` : alert.startsAt;
  const listed = [
    ["Mail servers", alert.hosts],
    ["Client IPs", alert.related.clientIps],
    ["SASL users", alert.related.saslUsers],
  ] as const;
  const overview: [string, string][] = [
    ["Count", window],
    ["Since", when],
    ...listed
      .filter(([, values]) => values.length > 0)
      .map(([name, values]): [string, string] => [name, values.join(", ")]),
  ];
  const facts = Object.entries(alert.facts).map(([name, value]): [string, string] => [name, factText(value)]);
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: plain(`${alert.state === "resolved" ? "✅" : "🚨"} ${title}`, MAX_HEADER) },
    { type: "section", text: plain(`${iconOf(alert)} ${alert.summary}`) },
    ...fieldSections(overview),
    ...fieldSections(facts),
  ];
  if (alert.state === "firing" && alert.remediation) {
    blocks.push(
      { type: "section", text: label("What to do") },
      { type: "section", text: plain(alert.remediation) },
    );
  }
  if (alert.samples.length > 0) {
    blocks.push(
      { type: "section", text: label("Log lines") },
      { type: "section", text: plain(alert.samples.join("\n")) },
    );
  }
  blocks.push({ type: "context", elements: [plain(`postwatch · fingerprint ${alert.fingerprint}`)] });
  // `text` is the notification and screen-reader fallback; Slack reads it as mrkdwn, so a
  // log-derived `<!channel>` in a summary must not become a mention.
  return {
    text: clipEscaped(`${title}: ${alert.summary}`, MAX_SECTION),
    blocks: blocks.slice(0, MAX_BLOCKS),
  };
}

/** A digest lists this many alerts, one section each, between its header and the overflow line. */
const MAX_LISTED = MAX_BLOCKS - 2;

/** Most urgent first, so that what overflows is what matters least. */
const byUrgency = (a: Alert, b: Alert) =>
  Number(a.state === "resolved") - Number(b.state === "resolved") ||
  SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity];

const countByRule = (alerts: readonly Alert[]) => {
  const counts = new Map<string, number>();
  for (const alert of alerts) {
    const group = `${alert.rule} ${alert.state}`;
    counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return [...counts].map(([group, n]) => `${n} ${group}`).join(", ");
};

/**
 * One alert of a digest: the key, the summary, what to do, its facts and its latest log line, in
 * `budget` characters.
 */
function digestEntry(alert: Alert, budget: number): Record<string, unknown> {
  const lines = [`${iconOf(alert)} ${alert.rule} · ${keyLabel(alert.key)} (${alert.state})`, alert.summary];
  if (alert.state === "firing" && alert.remediation) lines.push(`What to do: ${alert.remediation}`);
  const facts = Object.entries(alert.facts).map(([name, value]) => `${name}: ${factText(value)}`);
  if (facts.length > 0) lines.push(facts.join(" · "));
  const sample = alert.samples.at(-1);
  if (sample) lines.push(`› ${sample}`);
  return { type: "plain_text", text: fitLines(lines, budget), emoji: false };
}

/**
 * One message for a batch: a single alert as formatSlackMessage renders it; several as a digest
 * that keeps, for each alert, what to do, its facts and a log line, so an attack wave is one
 * notification that still tells the whole story. Alerts beyond Slack's 50 blocks are counted.
 */
export function formatSlackBatch(alerts: readonly Alert[]): Record<string, unknown> {
  const [only] = alerts;
  if (alerts.length === 1 && only) return formatSlackMessage(only);
  const sorted = [...alerts].sort(byUrgency);
  const listed = sorted.slice(0, MAX_LISTED);
  const rest = sorted.slice(MAX_LISTED);
  const critical = alerts.some((a) => a.state === "firing" && a.severity === "critical");
  const title = `${alerts.length} postwatch alerts: ${countByRule(alerts)}`;
  const budget = Math.min(MAX_SECTION, Math.floor(MAX_DIGEST_TEXT / listed.length));
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: plain(`${critical ? "🚨" : "🔔"} ${title}`, MAX_HEADER) },
    ...listed.map((alert) => ({ type: "section", text: digestEntry(alert, budget) })),
  ];
  if (rest.length > 0) {
    blocks.push({
      type: "context",
      elements: [plain(`…and ${rest.length} more: ${countByRule(rest)}`)],
    });
  }
  return { text: clipEscaped(title, MAX_SECTION), blocks };
}
