/**
 * `buildReport`: seed 003's questions — which SASL account and which IPs sent the mass mail, to how
 * many recipients and domains, how much of it bounced and why — plus the clients failing to log in
 * or being rejected, and pflogsumm's totals. Per-account numbers come from the Correlator's message
 * summaries, because a delivery line does not say who submitted the message.
 */
import type { EventOf, PostfixEvent } from "../contracts/events.js";
import { Correlator } from "../postfix/correlate.js";
import { padNumber } from "./format.js";
import { domainOf, lowerCaseDomain, type Totals, TotalsCounter } from "./totals.js";

type MessageEvent = EventOf<"message">;
type Recipient = MessageEvent["recipients"][number];

/** The account column for messages submitted without SASL (mynetworks relays, local pickup). */
export const NO_SASL_LOGIN = "(no SASL login)";

export interface SenderAccountStats {
  saslUsername: string;
  messages: number;
  /** Final recipients; a content filter's hop is not one. */
  recipients: number;
  recipientDomains: number;
  clientIps: string[];
  sent: number;
  bounced: number;
  /** Still deferred when the message left the queue or the input ended. */
  deferred: number;
  /** bounced / recipients. */
  bounceRatio: number;
  /** Remote replies for recipients that were not delivered, most frequent first. */
  rejectionReasons: Array<{ reason: string; count: number }>;
}

export interface FailingClientStats {
  ip: string;
  saslFailures: number;
  rejects: number;
  /** SASL user names tried (Postfix 3.9+ `sasl_username=`, or decoded AUTH PLAIN debug lines). */
  attemptedUsers: string[];
}

export interface Report {
  totals: Totals;
  /** Most recipients first. */
  senderAccounts: SenderAccountStats[];
  /** Most SASL failures + rejects first. */
  failingClients: FailingClientStats[];
}

export function buildReport(events: Iterable<PostfixEvent>): Report {
  const correlator = new Correlator();
  const totals = new TotalsCounter();
  const failing = new Map<string, FailingClientStats>();
  const messages: MessageEvent[] = [];
  const consume = (event: PostfixEvent) => {
    if (event.kind === "message") {
      messages.push(event);
      return;
    }
    totals.add(event);
    countFailure(failing, event);
  };
  for (const event of events) {
    // Summaries already in the input (a replayed detector stream) would double the ones made here.
    if (event.kind !== "message") correlator.push(event).forEach(consume);
  }
  correlator.sweep(Number.POSITIVE_INFINITY).forEach(consume);

  return {
    totals: totals.totals(),
    senderAccounts: senderAccounts(messages),
    failingClients: [...failing.values()].sort(
      (a, b) => b.saslFailures + b.rejects - (a.saslFailures + a.rejects) || compareText(a.ip, b.ip),
    ),
  };
}

function countFailure(failing: Map<string, FailingClientStats>, event: PostfixEvent): void {
  const isSaslFailure = event.kind === "sasl_auth_failed";
  const isReject = event.kind === "reject" && event.action.endsWith("reject");
  if ((!isSaslFailure && !isReject) || !event.client) return;
  const { ip } = event.client;
  let stats = failing.get(ip);
  if (!stats) {
    stats = { ip, saslFailures: 0, rejects: 0, attemptedUsers: [] };
    failing.set(ip, stats);
  }
  if (isReject) stats.rejects++;
  if (!isSaslFailure) return;
  stats.saslFailures++;
  if (event.saslUsername !== undefined && !stats.attemptedUsers.includes(event.saslUsername)) {
    stats.attemptedUsers.push(event.saslUsername);
  }
}

interface AccountTally {
  messages: number;
  recipients: number;
  sent: number;
  bounced: number;
  deferred: number;
  domains: Set<string>;
  ips: Set<string>;
  reasons: Map<string, number>;
}

function senderAccounts(messages: MessageEvent[]): SenderAccountStats[] {
  const handOffs = new Set<string>();
  for (const m of messages) {
    if (m.forwardedFrom !== undefined && m.queueId !== undefined)
      handOffs.add(handOffKey(m.host, m.forwardedFrom, m.queueId));
  }
  const tallies = new Map<string, AccountTally>();
  for (const message of messages) {
    // Bounce notifications are the server's own mail; their cause is counted on the original.
    if (message.bounceOf !== undefined) continue;
    const final = message.recipients.filter((r) => !isLocalHandOff(r, message, handOffs));
    if (final.length === 0 && message.recipients.length > 0) continue;
    const account = message.saslUsername ?? NO_SASL_LOGIN;
    let tally = tallies.get(account);
    if (!tally) {
      tally = {
        messages: 0,
        recipients: 0,
        sent: 0,
        bounced: 0,
        deferred: 0,
        domains: new Set(),
        ips: new Set(),
        reasons: new Map(),
      };
      tallies.set(account, tally);
    }
    tally.messages++;
    if (message.client) tally.ips.add(message.client.ip);
    for (const recipient of final) addRecipient(tally, recipient);
  }
  return [...tallies].map(([saslUsername, tally]) => accountStats(saslUsername, tally)).sort(byVolume);
}

function addRecipient(tally: AccountTally, recipient: Recipient): void {
  tally.recipients++;
  tally.domains.add(domainOf(lowerCaseDomain(recipient.to)));
  if (recipient.status === "sent") tally.sent++;
  else if (recipient.status === "bounced") tally.bounced++;
  else if (recipient.status === "deferred") tally.deferred++;
  if (recipient.status !== "sent" && recipient.response) {
    const reason = remoteReason(recipient.response);
    tally.reasons.set(reason, (tally.reasons.get(reason) ?? 0) + 1);
  }
}

function accountStats(saslUsername: string, tally: AccountTally): SenderAccountStats {
  return {
    saslUsername,
    messages: tally.messages,
    recipients: tally.recipients,
    recipientDomains: tally.domains.size,
    clientIps: [...tally.ips].sort(),
    sent: tally.sent,
    bounced: tally.bounced,
    deferred: tally.deferred,
    bounceRatio: tally.recipients === 0 ? 0 : tally.bounced / tally.recipients,
    rejectionReasons: [...tally.reasons]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || compareText(a.reason, b.reason)),
  };
}

function byVolume(a: SenderAccountStats, b: SenderAccountStats): number {
  return (
    b.recipients - a.recipients ||
    b.recipientDomains - a.recipientDomains ||
    compareText(a.saslUsername, b.saslUsername)
  );
}

/** Code-point order: the same on every machine, unlike locale collation. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A recipient handed to a content filter (or an alias) that re-queued it here: the re-queued
 * message counts it. The Correlator links the two (`forwardedFrom`) only when the new queue ID is
 * this host's, which a remote MTA's `queued as` never is.
 */
function isLocalHandOff(recipient: Recipient, message: MessageEvent, handOffs: Set<string>): boolean {
  const { forwardedQueueId } = recipient;
  if (forwardedQueueId === undefined || message.queueId === undefined) return false;
  return handOffs.has(handOffKey(message.host, message.queueId, forwardedQueueId));
}

function handOffKey(host: string, fromQueueId: string, toQueueId: string): string {
  return `${host}\0${fromQueueId}\0${toQueueId}`;
}

const MAX_REASON_LENGTH = 100;

/** The remote's words without who said them or when, so the same refusal from many MXs groups. */
export function remoteReason(response: string): string {
  const reason = response
    .replace(/^host \S+ said: /, "")
    .replace(/ \(in reply to [^)]*\)$/, "")
    .replace(/\s+/g, " ")
    .trim();
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
}

export function formatReport(report: Report, { top = 10 }: { top?: number } = {}): string {
  const sections = [
    ...formatTotals(report.totals),
    ...formatAccounts(report, top),
    ...formatFailing(report, top),
  ];
  return `${sections.join("\n")}\n`;
}

function formatTotals(t: Totals): string[] {
  const row = (value: number, label: string) => `${padNumber(value)}  ${label}`;
  return [
    "Grand Totals (pflogsumm definitions)",
    "------------",
    "messages",
    "",
    row(t.received, "received"),
    row(t.delivered, "delivered"),
    row(t.forwarded, "forwarded"),
    `${row(t.deferred, "deferred")}${t.deferrals > 0 ? `  (${t.deferrals} deferrals)` : ""}`,
    row(t.bounced, "bounced"),
    row(t.rejected, `rejected (${t.rejectedPercent}%)`),
    row(t.rejectWarnings, "reject warnings"),
    row(t.held, "held"),
    row(t.discarded, `discarded (${t.discardedPercent}%)`),
    "",
    row(t.bytesReceived, "bytes received"),
    row(t.bytesDelivered, "bytes delivered"),
    row(t.senders, "senders"),
    row(t.recipients, "recipients"),
    row(t.recipientDomains, "recipient hosts/domains"),
  ];
}

function formatAccounts(report: Report, top: number): string[] {
  const lines = ["", `Top sender accounts by recipients (top ${top})`, "------------"];
  if (report.senderAccounts.length === 0) return [...lines, " none"];
  for (const a of report.senderAccounts.slice(0, top)) {
    const ratio = `${Math.round(a.bounceRatio * 100)}% bounced`;
    lines.push(
      `${padNumber(a.recipients)} rcpts ${padNumber(a.recipientDomains, 5)} domains ${padNumber(a.messages, 6)} msgs  ${ratio.padStart(12)}  ${a.saslUsername}`,
      `         from ${a.clientIps.length > 0 ? a.clientIps.join(", ") : "(client not in the log)"}`,
    );
    for (const { reason, count } of a.rejectionReasons.slice(0, 3))
      lines.push(`${padNumber(count, 13)}x ${reason}`);
  }
  return lines;
}

function formatFailing(report: Report, top: number): string[] {
  const lines = ["", `Top failing clients (top ${top})`, "------------"];
  if (report.failingClients.length === 0) return [...lines, " none"];
  for (const c of report.failingClients.slice(0, top)) {
    const users = c.attemptedUsers.length > 0 ? `  users tried: ${c.attemptedUsers.join(", ")}` : "";
    lines.push(
      `${padNumber(c.saslFailures)} SASL failures ${padNumber(c.rejects, 6)} rejects  ${c.ip}${users}`,
    );
  }
  return lines;
}
