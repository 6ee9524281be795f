/** Diagnostics: `warning:`/`error:`/`fatal:`/`panic:` lines, their unprefixed kin, and routine notices. */
import { isIP } from "node:net";
import type { Endpoint, EventOf, PostfixEvent } from "../contracts/events.js";
import { endpointAt, findEndpoint } from "./endpoint.js";
import { afterQueueId, type Head, prefixPattern, withHead } from "./fields.js";
import { parseReject } from "./reject.js";
import { replyStage } from "./remote-reply.js";
import { redactSecrets } from "./secrets.js";
import { parseSaslFailure } from "./smtpd.js";

type DiagnosticKind = "warning" | "error" | "fatal" | "panic";

/** `text` is what follows `<kind>: `; `client` is the endpoint the line names, if any. */
export function diagnostic<K extends DiagnosticKind>(
  head: Head,
  kind: K,
  text: string,
  client: Endpoint | undefined = findEndpoint(text),
): EventOf<K> {
  const event = withHead(head, { kind, text: redactSecrets(text) }) as EventOf<DiagnosticKind>;
  if (client !== undefined) event.client = client;
  return event as EventOf<K>;
}

const UNRESOLVED = /^hostname (\S{1,255}) does not resolve to address ([0-9A-Fa-f.:]{2,64})(?::|$)/;

/**
 * After `warning: `. Cyrus SASL's clientless `SASL authentication failure: ...` stays a warning: the
 * smtpd line with the client follows it and is the one counted. cleanup's `<queueid>: warning: header
 * ...` is the WARN action of header_checks and becomes a reject with action `warning`.
 */
export function parseWarning(head: Head, message: string): PostfixEvent {
  const lead = endpointAt(message, 0);
  if (lead !== null && message.startsWith(": SASL ", lead.end)) {
    const failure = parseSaslFailure(head, lead.endpoint, message.slice(lead.end));
    if (failure !== null) return failure;
  }
  // Tried after the endpoint: a client's address is never a queue ID, and SASL failures are many.
  const text = lead === null ? afterQueueId(head, message) : message;
  if (head.queueId !== undefined) {
    const content = parseReject(head, "warning", text, 0);
    if (content !== null) return content;
  }
  const unresolved = UNRESOLVED.exec(text);
  if (unresolved !== null && isIP(unresolved[2] as string) !== 0) {
    return diagnostic(head, "warning", text, { host: unresolved[1] as string, ip: unresolved[2] as string });
  }
  return diagnostic(head, "warning", text, lead?.endpoint);
}

/**
 * Unprefixed lines that report trouble with a peer: the smtp client's non-final replies and
 * connection failures (`host mx[ip] said: 450 ...`, `connect to mx[ip]:25: Connection timed out`),
 * smtpd's `improper command pipelining` and `SSL_accept error`. They become `warning` events whose
 * `client` is that peer (the remote server, for the smtp client), because they are diagnostics of
 * one attempt rather than outcomes: the outcome is the later `status=` line.
 */
const PEER_TROUBLE = [
  "host ",
  "connect to ",
  "lost connection with ",
  "conversation with ",
  "SASL authentication failed; ",
  "server certificate verification failed",
  "certificate verification failed",
  "improper command pipelining ",
  "SSL_accept error ",
  "SSL_connect error ",
  "TLS handshake failed",
  "Cannot start TLS: ",
  // smtpd_forbid_bare_newline (Postfix 3.9, and the 2023 SMTP smuggling fixes)
  "bare <LF> received ",
];

const PEER_TROUBLE_START = prefixPattern(PEER_TROUBLE);

export function isPeerTrouble(text: string): boolean {
  return PEER_TROUBLE_START.test(text);
}

/** smtpd's complaints about a client name the command after which it misbehaved. */
const AFTER_STAGE = ["improper command pipelining after ", "bare <LF> received after "];
const MAX_STAGE = 32;

/** A PEER_TROUBLE line as a warning, with the SMTP stage it names. */
export function peerTrouble(head: Head, text: string): EventOf<"warning"> {
  const event = diagnostic(head, "warning", text);
  const stage = replyStage(text) ?? stageAfter(text);
  if (stage !== undefined) event.stage = stage;
  return event;
}

function stageAfter(text: string): string | undefined {
  for (const prefix of AFTER_STAGE) {
    if (!text.startsWith(prefix)) continue;
    const end = text.indexOf(" from ", prefix.length);
    return end > prefix.length && end - prefix.length <= MAX_STAGE
      ? text.slice(prefix.length, end)
      : undefined;
  }
  return undefined;
}

/** Routine lines worth recognising and otherwise ignoring. */
const NOTICES = [
  "daemon started -- ",
  "reload -- ",
  "terminating on signal ",
  "starting the Postfix mail system",
  "stopping the Postfix mail system",
  "refreshing the Postfix mail system",
  "initializing the server-side TLS engine",
  "initializing the client-side TLS engine",
  "discarding EHLO keywords: ",
  "enabling PIX workarounds",
  "skipped, still being delivered",
  "Deleted: ",
  "Requeued: ",
  "Placed on hold: ",
  "Released from hold: ",
  "statistics: ",
  "table ",
  "cache ",
  "addr ",
  "using backwards-compatible default setting",
  // smtp: a message line longer than smtp_line_length_limit, folded on the way out.
  "breaking line > ",
];

const NOTICE_START = prefixPattern(NOTICES);

export function isNotice(text: string): boolean {
  return NOTICE_START.test(text);
}

export function notice(head: Head, text: string): EventOf<"notice"> {
  const event: EventOf<"notice"> = withHead(head, { kind: "notice", text: redactSecrets(text) });
  const client = noticeClient(text);
  if (client !== undefined) event.client = client;
  return event;
}

const DNSBL_LISTED = " listed by domain ";

/**
 * dnsblog's `addr 192.0.2.1 listed by domain zen.spamhaus.org as 127.0.0.2` (an unbracketed
 * address) and the smtp client's `enabling PIX workarounds: ... for mx[ip]:25`.
 */
function noticeClient(text: string): Endpoint | undefined {
  if (text.startsWith("addr ")) {
    const end = text.indexOf(DNSBL_LISTED, 5);
    const ip = end < 0 ? "" : text.slice(5, end);
    return isIP(ip) === 0 ? undefined : { host: "", ip };
  }
  return text.startsWith("enabling PIX workarounds") ? findEndpoint(text) : undefined;
}
