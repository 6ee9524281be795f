/**
 * `ReportBuilder` (and `buildReport`): seed 003's questions — which SASL account and which IPs sent the mass mail, to how
 * many recipients and domains, how much of it bounced and why — plus the clients failing to log in
 * or being rejected, and pflogsumm's totals. Per-account numbers come from the Correlator's message
 * summaries, because a delivery line does not say who submitted the message.
 */
import type { EventOf, PostfixEvent } from "../contracts/events.js";
import { Correlator, DEFAULT_CORRELATOR_OPTIONS } from "../postfix/correlate.js";
import { RecencyMap } from "../postfix/correlate-recency.js";
import { padNumber } from "./format.js";
import { domainOf, lowerCaseDomain, type Totals, TotalsCounter } from "./totals.js";

type MessageEvent = EventOf<"message">;
type Recipient = MessageEvent["recipients"][number];

/** The account column for messages submitted over SMTP without SASL (mynetworks relays, filters). */
export const NO_SASL_LOGIN = "(no SASL login)";

/** The account column for mail handed to `sendmail` by a local user (a web application's `mail()`). */
export const localAccount = (uid: number): string => `uid ${uid} (local sendmail)`;

export interface SenderAccountStats {
  /** The SASL user; else `uid N (local sendmail)` for local submission, or NO_SASL_LOGIN. */
  account: string;
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

/** `ReportBuilder` over a finite list of events. */
export function buildReport(events: Iterable<PostfixEvent>): Report {
  const builder = new ReportBuilder();
  for (const event of events) builder.add(event);
  return builder.finish();
}

/**
 * Builds the report one event at a time, so `postwatch report` streams: what it holds is bounded by
 * the distinct accounts, clients, senders and recipients it counts and by the Correlator's open
 * messages, never by the number of lines. Message summaries are tallied as they come; the only
 * ones held are those whose content-filter hand-off is still open (see #addMessage).
 */
export class ReportBuilder {
  readonly #correlator = new Correlator();
  readonly #totals = new TotalsCounter();
  readonly #failing = new Map<string, FailingClientStats>();
  readonly #tallies = new Map<string, AccountTally>();
  /** Hand-offs (handOffKey) whose re-queued message was summarized while the original was open. */
  readonly #handOffsSeen = new RecencyMap<true>();
  /** Summaries waiting for the re-queued message of a hand-off, by handOffKey. */
  readonly #waiting = new Map<string, WaitingHandOff>();
  #finishing = false;

  /** `atMs` is `Date.parse(event.ts)`, for callers that have it already. */
  add(event: PostfixEvent, atMs?: number): void {
    // Summaries already in the input (a replayed detector stream) would double the ones made here.
    if (event.kind === "message") return;
    for (const output of this.#correlator.push(event, atMs)) this.#consume(output);
    if (this.#waiting.size > 0) this.#recheckWaiting();
  }

  /** End of input: flushes open messages and returns the report. Call once. */
  finish(): Report {
    this.#finishing = true;
    for (const output of this.#correlator.sweep(Number.POSITIVE_INFINITY)) this.#consume(output);
    // Hand-offs still waiting never got their re-queued message: their recipients are final.
    const left = new Set<WaitingMessage>();
    for (const hop of this.#waiting.values()) for (const entry of hop.entries) left.add(entry);
    this.#waiting.clear();
    for (const entry of left) this.#tally(entry.message, entry.handedOff);
    return {
      totals: this.#totals.totals(),
      senderAccounts: [...this.#tallies]
        .map(([saslUsername, tally]) => accountStats(saslUsername, tally))
        .sort(byVolume),
      failingClients: [...this.#failing.values()].sort(
        (a, b) => b.saslFailures + b.rejects - (a.saslFailures + a.rejects) || compareText(a.ip, b.ip),
      ),
    };
  }

  #consume(event: PostfixEvent): void {
    if (event.kind === "message") {
      this.#addMessage(event);
      return;
    }
    this.#totals.add(event);
    countFailure(this.#failing, event);
  }

  /**
   * A recipient handed to a content filter (or an alias) that re-queued it here is counted by the
   * re-queued message, which names the original in `forwardedFrom`. Either summary may come first:
   * the original waits while the Correlator still holds the re-queued message (or its parked
   * hand-off) naming it; a re-queued message whose original is still open is remembered for it.
   */
  #addMessage(message: MessageEvent): void {
    const { host, queueId, forwardedFrom } = message;
    if (forwardedFrom !== undefined && queueId !== undefined) this.#handOffArrived(message, forwardedFrom);
    // Bounce notifications are the server's own mail; their cause is counted on the original.
    if (message.bounceOf !== undefined) return;
    let entry: WaitingMessage | undefined;
    if (queueId !== undefined) {
      for (const { forwardedQueueId } of message.recipients) {
        if (forwardedQueueId === undefined || entry?.handedOff.has(forwardedQueueId)) continue;
        const key = handOffKey(host, queueId, forwardedQueueId);
        if (this.#handOffsSeen.delete(key)) {
          entry ??= { message, handedOff: new Set(), waitingFor: 0 };
          entry.handedOff.add(forwardedQueueId);
        } else if (this.#finishing || this.#correlator.handOffSource(host, forwardedQueueId) === queueId) {
          entry ??= { message, handedOff: new Set(), waitingFor: 0 };
          const hop = this.#waiting.get(key);
          if (hop === undefined)
            this.#waiting.set(key, { host, from: queueId, to: forwardedQueueId, entries: [entry] });
          else if (!hop.entries.includes(entry)) hop.entries.push(entry);
          else continue;
          entry.waitingFor++;
        }
      }
    }
    if (entry === undefined) this.#tally(message, NONE_HANDED_OFF);
    else if (entry.waitingFor === 0) this.#tally(message, entry.handedOff);
  }

  #handOffArrived(message: MessageEvent, forwardedFrom: string): void {
    const queueId = message.queueId as string;
    const key = handOffKey(message.host, forwardedFrom, queueId);
    const hop = this.#waiting.get(key);
    if (hop !== undefined) {
      this.#waiting.delete(key);
      for (const entry of hop.entries) {
        entry.handedOff.add(queueId);
        if (--entry.waitingFor === 0) this.#tally(entry.message, entry.handedOff);
      }
      return;
    }
    if (!this.#finishing && !this.#correlator.isOpen(message.host, forwardedFrom)) return;
    this.#handOffsSeen.touch(key, true);
    this.#handOffsSeen.evictBeyond(DEFAULT_CORRELATOR_OPTIONS.maxMessages);
  }

  /**
   * Most hand-offs the Correlator parks are a remote MTA's `queued as`, whose ID never shows up here:
   * once the Correlator no longer holds the hand-off (it expired, or the re-queued message names
   * another source), its waiting summaries are counted whole. A few of the oldest are looked at per
   * event, the live ones moved to the back, so what waits stays bounded by what the Correlator holds.
   */
  #recheckWaiting(): void {
    for (let checked = 0; checked < RECHECKS_PER_EVENT && this.#waiting.size > 0; checked++) {
      const [key, hop] = this.#waiting.entries().next().value as [string, WaitingHandOff];
      this.#waiting.delete(key);
      if (this.#correlator.handOffSource(hop.host, hop.to) === hop.from) {
        this.#waiting.set(key, hop);
        continue;
      }
      for (const entry of hop.entries)
        if (--entry.waitingFor === 0) this.#tally(entry.message, entry.handedOff);
    }
  }

  /** Counts a message for its account, without the recipients it handed off. */
  #tally(message: MessageEvent, handedOff: ReadonlySet<string>): void {
    const final =
      handedOff.size === 0
        ? message.recipients
        : message.recipients.filter(
            (r) => r.forwardedQueueId === undefined || !handedOff.has(r.forwardedQueueId),
          );
    if (final.length === 0 && message.recipients.length > 0) return;
    const account =
      message.saslUsername ??
      (message.localUid === undefined ? NO_SASL_LOGIN : localAccount(message.localUid));
    let tally = this.#tallies.get(account);
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
      this.#tallies.set(account, tally);
    }
    tally.messages++;
    if (message.client) tally.ips.add(message.client.ip);
    for (const recipient of final) addRecipient(tally, recipient);
  }
}

/** Waiting hand-offs looked at per event (see #recheckWaiting). */
const RECHECKS_PER_EVENT = 2;

/** A hand-off `from` → `to` on `host` that summaries wait on. */
interface WaitingHandOff {
  host: string;
  from: string;
  to: string;
  entries: WaitingMessage[];
}

/** A summary whose recipients include hand-offs not yet known to be re-queued here. */
interface WaitingMessage {
  message: MessageEvent;
  /** Forwarded queue IDs known to be re-queued here: those recipients are not final. */
  handedOff: Set<string>;
  /** Hand-offs still open. */
  waitingFor: number;
}

const NONE_HANDED_OFF: ReadonlySet<string> = new Set();

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

function accountStats(account: string, tally: AccountTally): SenderAccountStats {
  return {
    account,
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
    compareText(a.account, b.account)
  );
}

/** Code-point order: the same on every machine, unlike locale collation. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
      `${padNumber(a.recipients)} rcpts ${padNumber(a.recipientDomains, 5)} domains ${padNumber(a.messages, 6)} msgs  ${ratio.padStart(12)}  ${a.account}`,
      `         from ${a.clientIps.length > 0 ? firstOf(a.clientIps, top) : "(client not in the log)"}`,
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
    const users = c.attemptedUsers.length > 0 ? `  users tried: ${firstOf(c.attemptedUsers, top)}` : "";
    lines.push(
      `${padNumber(c.saslFailures)} SASL failures ${padNumber(c.rejects, 6)} rejects  ${c.ip}${users}`,
    );
  }
  return lines;
}

/** `--top` bounds every list, so a sender behind 250 IPs stays one readable line. */
function firstOf(items: readonly string[], top: number): string {
  const shown = items.slice(0, top).join(", ");
  return items.length > top ? `${shown} and ${items.length - top} more` : shown;
}
