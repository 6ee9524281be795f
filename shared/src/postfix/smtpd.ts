/** smtpd session lines: who connected, how the session ended, TLS, SASL, and the queue's `client=`. */
import type { Endpoint, EventOf } from "../contracts/events.js";
import { endpointAt } from "./endpoint.js";
import { decimalAt, decodePrintable, type Head, integer, visible, withHead } from "./fields.js";
import type { RecurringStrings } from "./recurring.js";

/** `connect from <ep>` (text starts at the endpoint). */
export function parseConnect(head: Head, text: string, at: number): EventOf<"connect"> | null {
  const match = endpointAt(text, at);
  return match === null ? null : withHead(head, { kind: "connect", client: match.endpoint });
}

type Counters = EventOf<"disconnect">["commands"];

/**
 * `disconnect from <ep> ehlo=1 auth=0/1 quit=1 commands=2/3`: a bare count means all succeeded.
 * smtpd logs a dozen or so counter names (smtpd.c): see RecurringStrings for why they are shared.
 */
export function parseDisconnect(
  head: Head,
  text: string,
  at: number,
  counterNames: RecurringStrings,
): EventOf<"disconnect"> | null {
  const match = endpointAt(text, at);
  if (match === null) return null;
  const commands: Counters = {};
  for (let start = match.end; start <= text.length; ) {
    let end = text.indexOf(" ", start);
    if (end === -1) end = text.length;
    readCounter(text, start, end, commands, counterNames);
    start = end + 1;
  }
  return withHead(head, { kind: "disconnect", commands, client: match.endpoint });
}

/**
 * Records `text[start, end)` when it is a counter, `^[a-z][a-z-]{0,31}=\d{1,9}(?:\/\d{1,9})?$`;
 * anything else is skipped. Read by hand: it ran on every word of every disconnect line.
 */
function readCounter(
  text: string,
  start: number,
  end: number,
  commands: Counters,
  counterNames: RecurringStrings,
): void {
  const first = text.charCodeAt(start);
  if (start >= end || first < 97 || first > 122) return;
  let i = start + 1;
  for (let c = text.charCodeAt(i); i < end && ((c >= 97 && c <= 122) || c === 45); c = text.charCodeAt(++i));
  if (i - start > 32 || i >= end || text.charCodeAt(i) !== 61 /* = */) return;
  const okEnd = digitsEnd(text, i + 1, end);
  if (okEnd === -1) return;
  const ok = decimalAt(text, i + 1, okEnd);
  let total = ok;
  if (okEnd < end) {
    if (text.charCodeAt(okEnd) !== 47 /* / */) return;
    const totalEnd = digitsEnd(text, okEnd + 1, end);
    if (totalEnd !== end) return;
    total = decimalAt(text, okEnd + 1, totalEnd);
  }
  if (ok === undefined || total === undefined) return;
  commands[counterNames.get(text, start, i)] = { ok, total };
}

/** Where a run of 1-9 digits from `start` ends (before `end`), or -1. */
function digitsEnd(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && i - start < 10) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i === start || i - start > 9 ? -1 : i;
}

type StageKind = "lost_connection" | "timeout" | "too_many_errors";

/** `<what> after STAGE[ (N bytes)] from <ep>[: ...]` (text starts at STAGE). */
export function parseAfterStage<K extends StageKind>(
  head: Head,
  kind: K,
  text: string,
  at: number,
): EventOf<K> | null {
  const space = text.indexOf(" ", at);
  if (space < 0 || space - at > 32) return null;
  const stage = text.slice(at, space);
  let from = space + 1;
  if (text.charCodeAt(from) === 40 /* ( */) {
    const close = text.indexOf(") ", from);
    if (close < 0 || close - from > 32) return null;
    from = close + 2;
  }
  if (!text.startsWith("from ", from)) return null;
  const match = endpointAt(text, from + 5);
  if (match === null) return null;
  return withHead(head, { kind, stage, client: match.endpoint }) as EventOf<K>;
}

/** `client=<ep>[, sasl_method=PLAIN, sasl_username=u, sasl_sender=s][, orig_client=<ep>]`. */
export function parseClient(head: Head, text: string, at: number): EventOf<"client"> | null {
  const match = endpointAt(text, at);
  if (match === null) return null;
  const event: EventOf<"client"> = withHead(head, { kind: "client", client: match.endpoint });
  for (const pair of text.slice(match.end).split(", ")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    const value = pair.slice(eq + 1);
    switch (pair.slice(0, eq)) {
      case "sasl_method":
        event.saslMethod = value;
        break;
      case "sasl_username":
        event.saslUsername = visible(value);
        break;
      case "sasl_sender":
        event.saslSender = visible(value);
        break;
      case "orig_client": {
        const orig = endpointAt(value, 0);
        if (orig !== null) event.origClient = orig.endpoint;
        break;
      }
    }
  }
  return event;
}

const TLS_ESTABLISHED = "TLS connection established ";
const TLS_DETAILS = /^(\S{1,32}) with cipher (\S{1,128})(?: \((\d{1,5})\/\d{1,5} bits\))?/;

/**
 * `<Trust> TLS connection established from|to <ep>: TLSv1.2 with cipher X (128/128 bits)`, any
 * trailing `key-exchange ...` ignored. `space` is the index of the space after the trust word.
 */
export function parseTls(head: Head, text: string, space: number): EventOf<"tls"> | null {
  if (!text.startsWith(TLS_ESTABLISHED, space + 1)) return null;
  const dir = space + 1 + TLS_ESTABLISHED.length;
  const direction = text.startsWith("from ", dir) ? "in" : text.startsWith("to ", dir) ? "out" : null;
  if (direction === null) return null;
  const match = endpointAt(text, dir + (direction === "in" ? 5 : 3));
  if (match === null || !text.startsWith(": ", match.end)) return null;
  const details = TLS_DETAILS.exec(text.slice(match.end + 2));
  if (details === null) return null;
  const event: EventOf<"tls"> = withHead(head, {
    kind: "tls",
    direction,
    trust: text.slice(0, space),
    peer: match.endpoint,
    protocol: details[1] as string,
    cipher: details[2] as string,
  });
  const bits = integer(details[3] ?? "");
  if (bits !== undefined) event.bits = bits;
  return event;
}

/** dotAll (`s`): a user name may hold a line separator, and the failure must stay one. */
const SASL_FAILED = /^: SASL ([A-Za-z0-9_-]{1,32}) authentication failed(?::(.*))?$/s;
const SASL_USERNAME = ", sasl_username=";
/** What Postfix appends when the client never named a user (a cancelled exchange, no mechanism). */
const NO_SASL_USERNAME = "(unavailable)";

/**
 * `<ep>: SASL LOGIN authentication failed: <reason>[, sasl_username=u]` (after `warning: `). The
 * reason may be empty, or the base64 challenge the client gave up on (`UGFzc3dvcmQ6`).
 */
export function parseSaslFailure(
  head: Head,
  client: Endpoint,
  rest: string,
): EventOf<"sasl_auth_failed"> | null {
  const match = SASL_FAILED.exec(rest);
  if (match === null) return null;
  let reason = (match[2] ?? "").trim();
  let saslUsername: string | undefined;
  const suffix = reason.lastIndexOf(SASL_USERNAME);
  if (suffix >= 0) {
    saslUsername = reason.slice(suffix + SASL_USERNAME.length);
    reason = reason.slice(0, suffix).trim();
  }
  const event: EventOf<"sasl_auth_failed"> = withHead(head, {
    kind: "sasl_auth_failed",
    mechanism: (match[1] as string).toUpperCase(),
    reason: decodePrintable(reason) ?? visible(reason),
    client,
  });
  if (saslUsername !== undefined && saslUsername !== NO_SASL_USERNAME)
    event.saslUsername = visible(saslUsername);
  return event;
}
