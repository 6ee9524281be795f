/**
 * Access-control and content-filter actions: smtpd/postscreen `reject: RCPT from <ep>: 554 5.7.1 ...;
 * from=<> to=<> proto=ESMTP helo=<>` and cleanup `reject: header Subject: x from <ep>; from=<> ...:
 * 5.7.1 text`, for every action in REJECT_ACTIONS.
 */
import type { EventOf, RejectCategory } from "../contracts/events.js";
import { endpointAt } from "./endpoint.js";
import { type Head, withHead } from "./fields.js";

/**
 * header_checks and body_checks actions as cleanup logs them (cleanup_message.c): `warning` is the
 * WARN action (`<queueid>: warning: header ...`), `info` the INFO action (smtpd's too).
 */
const CONTENT_ACTIONS = [
  "reject",
  "discard",
  "hold",
  "filter",
  "redirect",
  "bcc",
  "prepend",
  "replace",
  "strip",
  "warning",
  "info",
];

/**
 * Every `<action>: ` that opens an access or content action line. `warn` is smtpd's WARN access
 * action (`NOQUEUE: warn: RCPT from ...`); `proxy-accept` and `proxy-reject` are the before-queue
 * filter's verdict on a message (smtpd_proxy_filter).
 */
export const REJECT_ACTIONS: ReadonlySet<string> = new Set([
  ...CONTENT_ACTIONS,
  "reject_warning",
  "milter-reject",
  "milter-discard",
  "milter-hold",
  "proxy-reject",
  "proxy-accept",
  "warn",
]);

/**
 * cleanup's header_checks actions on the headers a milter added or changed: `milter-header-redirect`,
 * `milter-body-reject`, ... (cleanup_milter.c names them `milter-<where>-<action>`). Longer than the
 * short words parseMessage looks up, so read only on lines that start with `milter-`.
 */
const MILTER_CONTENT_ACTIONS: ReadonlySet<string> = new Set(
  ["header", "body"].flatMap((where) => CONTENT_ACTIONS.map((action) => `milter-${where}-${action}`)),
);

const MAX_MILTER_ACTION = 32;

/** `milter-header-redirect: header X-Spam-Status: Yes from <ep>; from=<> ...: target` */
export function parseMilterAction(head: Head, text: string): Reject | null {
  const colon = text.indexOf(": ");
  if (colon < 0 || colon > MAX_MILTER_ACTION) return null;
  const action = text.slice(0, colon);
  return MILTER_CONTENT_ACTIONS.has(action) ? parseReject(head, action, text, colon + 2) : null;
}

const SMTP_STAGE = /^[A-Z][A-Z-]{1,19}$/;
const CLEANUP_STAGE = /^(?:header|body|mime-header|nested-header|content)$/;
const REPLY = /^(?:(\d{3})[ -])?(?:(\d\.\d{1,3}\.\d{1,3}) )?/;

type Reject = EventOf<"reject">;

/** `text` from `at` is what follows `<action>: `. */
export function parseReject(head: Head, action: string, text: string, at: number): Reject | null {
  const space = text.indexOf(" ", at);
  if (space < 0 || space - at > 20) return null;
  const word = text.slice(at, space);
  if (CLEANUP_STAGE.test(word)) return parseCleanup(head, action, word, text, space + 1);
  // proxy-reject names no client: `proxy-reject: END-OF-MESSAGE: 554 5.7.0 ...`
  const clientless = word.endsWith(":");
  const stage = clientless ? word.slice(0, -1) : word;
  if (action === "warning" || !SMTP_STAGE.test(stage)) return null;
  const event: Reject = withHead(head, { kind: "reject", action, stage, reason: "", category: "other" });
  let replyAt = space + 1;
  if (!clientless) {
    if (!text.startsWith("from ", replyAt)) return null;
    const match = endpointAt(text, replyAt + 5);
    if (match === null || !text.startsWith(": ", match.end)) return null;
    event.client = match.endpoint;
    replyAt = match.end + 2;
  }
  const attrsAt = findAttributes(text, replyAt);
  readReply(event, text.slice(replyAt, attrsAt < 0 ? text.length : attrsAt));
  if (attrsAt >= 0) readAttributes(event, text, attrsAt + 2);
  event.category = categorize(event);
  return event;
}

/**
 * `<stage> <header text> from <ep>; from=<> to=<> proto=ESMTP helo=<x>[: 5.7.1 reply]`; mail
 * submitted locally (sendmail, pickup) is `from local; from=<> to=<>`, with no client.
 */
function parseCleanup(head: Head, action: string, stage: string, text: string, at: number): Reject | null {
  const attrsAt = findAttributes(text, at);
  if (attrsAt < 0) return null;
  const fromAt = text.lastIndexOf(" from ", attrsAt);
  if (fromAt < at) return null;
  const local = attrsAt === fromAt + 11 && text.startsWith("local", fromAt + 6);
  const match = local ? null : endpointAt(text, fromAt + 6);
  if (!local && (match === null || match.end !== attrsAt)) return null;
  const event: Reject = withHead(head, {
    kind: "reject",
    action,
    stage: stage.toUpperCase(),
    reason: "",
    category: "content",
  });
  if (match !== null) event.client = match.endpoint;
  const end = readAttributes(event, text, attrsAt + 2);
  if (text.startsWith(": ", end)) readReply(event, text.slice(end + 2));
  if (event.reason === "") event.reason = `${stage} ${text.slice(at, fromAt)}`;
  return event;
}

const ATTRIBUTE_STARTS = ["; from=<", "; to=<", "; proto=", "; helo=<"];

/** Index of the `; ` that opens the trailing attributes, or -1. */
function findAttributes(text: string, from: number): number {
  for (const start of ATTRIBUTE_STARTS) {
    const at = text.indexOf(start, from);
    if (at >= 0) return at;
  }
  return -1;
}

const REPLY_CODE_MAX = 599;

function readReply(event: Reject, reply: string): void {
  const match = REPLY.exec(reply) as RegExpExecArray;
  const code = match[1] === undefined ? undefined : Number(match[1]);
  if (code !== undefined && code <= REPLY_CODE_MAX) event.smtpCode = code;
  if (match[2] !== undefined) event.dsn = match[2];
  event.reason = reply.slice(match[0].length).trim();
}

/**
 * Reads `from=<a> to=<b> proto=ESMTP helo=<c>` or postscreen's comma-separated variant; returns the
 * index after the last attribute read. A bracketed value ends at the first `>` followed by a
 * separator, so a `>` inside a hostile HELO name does not cut it short.
 */
function readAttributes(event: Reject, text: string, at: number): number {
  let pos = at;
  while (pos < text.length) {
    const eq = text.indexOf("=", pos);
    if (eq < 0 || eq - pos > 5) break;
    const key = text.slice(pos, eq);
    let value: string;
    let end: number;
    if (text.charCodeAt(eq + 1) === 60 /* < */) {
      end = closingBracket(text, eq + 2);
      value = text.slice(eq + 2, end);
      end++;
    } else {
      end = eq + 1;
      while (end < text.length && !isSeparator(text.charCodeAt(end))) end++;
      value = text.slice(eq + 1, end);
    }
    if (key === "from" || key === "to" || key === "helo" || key === "proto") event[key] = value;
    else break;
    pos = end;
    if (text.charCodeAt(pos) === 44 /* , */) pos++;
    if (text.charCodeAt(pos) !== 32 /* space */) break;
    pos++;
  }
  return pos;
}

function isSeparator(c: number): boolean {
  return c === 32 || c === 44 || c === 58 || c === 59;
}

function closingBracket(text: string, from: number): number {
  let at = text.indexOf(">", from);
  while (at >= 0) {
    const next = text.charCodeAt(at + 1);
    if (Number.isNaN(next) || isSeparator(next)) return at;
    at = text.indexOf(">", at + 1);
  }
  return text.length;
}

/** A bounded label for dashboards and rules; the reason itself stays as logged. */
function categorize(event: Pick<Reject, "action" | "stage" | "reason">): RejectCategory {
  const { action, stage, reason } = event;
  if (action.startsWith("milter-") || stage === "HEADER" || stage === "BODY") return "content";
  if (reason.includes("Relay access denied")) return "relay_denied";
  if (reason.includes("blocked using")) return "rbl";
  const lower = reason.toLowerCase();
  if (
    lower.includes("rate limit") ||
    lower.includes("too much mail") ||
    lower.includes("too many connections")
  )
    return "rate_limit";
  if (lower.includes("greylist") || lower.includes("policy service")) return "policy";
  if (
    reason.includes("User unknown") ||
    (reason.includes("Recipient address rejected") &&
      (lower.includes("unknown") || reason.includes("undeliverable address")))
  )
    return "unknown_recipient";
  if (reason.includes("Helo command rejected")) return "helo";
  if (reason.includes("Sender address rejected")) return "sender";
  if (reason.includes("Client host rejected")) return "client";
  if (
    lower.includes("content") ||
    lower.includes("milter") ||
    lower.includes("header") ||
    lower.includes("body")
  )
    return "content";
  return "other";
}
