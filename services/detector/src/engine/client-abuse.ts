/**
 * What fail2ban's postfix filters and CrowdSec's postfix scenarios act on, named: the client
 * misbehaviours the client-abuse rules (rules/client-abuse.ts) count and their alerts list.
 *
 * Two groups. A *protocol violation* is something no real mail client or server does (an HTTP
 * request on port 25, talking before the greeting, bare LF line ends, pipelining without
 * permission): one is enough. A *refusal* is something a misconfigured but honest sender can run
 * into once (a HELO without a dot, a sender domain that does not resolve, a blocklisted address):
 * it takes a few.
 */
import type { PostfixEvent, RejectCategory } from "../../../../shared/src/contracts/events.js";

const REJECT_SIGNALS: Partial<Record<RejectCategory, string>> = {
  helo: "helo reject",
  sender: "sender reject",
  client: "client reject",
  rbl: "blocklist reject",
  policy: "policy reject",
  relay_denied: "relay reject",
};

const WARNING_SIGNALS: readonly [RegExp, string][] = [
  [/^non-SMTP command from /, "non-SMTP command"],
  [/^improper command pipelining after /, "improper pipelining"],
  [/^bare <LF> received /i, "bare LF"],
  [/rate limit exceeded: \d+ from /, "rate limit exceeded"],
];

const POSTSCREEN_SIGNALS: readonly [RegExp, string][] = [
  [/^PREGREET$/, "pregreet"],
  [/^BARE NEWLINE$/, "bare LF"],
  [/^NON-SMTP COMMAND$/, "non-SMTP command"],
  [/^COMMAND PIPELINING$/, "improper pipelining"],
  [/^COMMAND (TIME|COUNT|LENGTH) LIMIT$/, "command limit"],
  [/^HANGUP$/, "postscreen hangup"],
];

/** Signals one occurrence of which convicts: nothing honest produces them. */
export const PROTOCOL_VIOLATIONS: ReadonlySet<string> = new Set([
  "non-SMTP command",
  "improper pipelining",
  "bare LF",
  "pregreet",
  "command limit",
]);

/**
 * A reject no category names counts when permanent and about the client's address or protocol
 * (5.1.x, 5.5.x, 5.7.x: `554 5.7.1 Service unavailable` from an access map). Not a full mailbox
 * or a message over the size limit (5.2.x, 5.3.x): an honest user runs into those twice.
 */
function otherReject(dsn: string | undefined, code: number | undefined): string | undefined {
  if (dsn !== undefined) return /^5\.[157]\./.test(dsn) ? "access reject" : undefined;
  return (code ?? 0) >= 500 ? "access reject" : undefined;
}

/** The abuse signal an event is, or undefined. SASL failures are the SASL rules' business. */
export function classifyAbuse(event: PostfixEvent): string | undefined {
  switch (event.kind) {
    case "reject":
      if (event.action !== "reject") return undefined;
      return event.category === "other"
        ? otherReject(event.dsn, event.smtpCode)
        : REJECT_SIGNALS[event.category];
    case "warning":
      return WARNING_SIGNALS.find(([shape]) => shape.test(event.text))?.[1];
    case "postscreen":
      return POSTSCREEN_SIGNALS.find(([shape]) => shape.test(event.action))?.[1];
    case "lost_connection":
      return event.stage.toUpperCase() === "AUTH" ? "lost connection after AUTH" : undefined;
    case "too_many_errors":
      return "too many errors";
    default:
      return undefined;
  }
}
