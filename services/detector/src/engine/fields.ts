/**
 * The closed vocabulary of what a rule can read from an event: text fields (to key by, to count
 * distinct values of, to collect as facts) and numeric fields (how much an event counts). Rules
 * name them; adding one is a code change with a type, never an expression in config.
 */
import type { AlertKey } from "../../../../shared/src/contracts/alerts.js";
import type { EventOf, PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { clientIpOf, clientNetwork, domainOf, ipv6Net64 } from "./addresses.js";
import { classifyAbuse } from "./client-abuse.js";
import type { LoginNovelty } from "./login-history.js";
import { isContentRejection } from "./remote-replies.js";

/** Per-event facts the engine derives once before any rule looks at the event. */
export interface EventContext {
  /** SASL password guesses this event adds after session de-duplication (see auth-sessions.ts). */
  authFailures: number;
  /** Guesses counted earlier in this event's session, which has now logged in: typos, not an attack. */
  authForgiven: number;
  /** What the login history (login-history.ts) says about the event's user and address. */
  login?: LoginFacts;
}

export interface LoginFacts {
  /** A login: its address against the user's history before it. */
  novelty?: LoginNovelty;
  /** The same, written out for alerts (`first login from 198.51.100.7, not seen in 30 days`). */
  noveltyText?: string;
  /** An authenticated message sent from an address that was new to the user within the last day. */
  sentFromNewAddress?: boolean;
  /** A failure: whether anyone has logged in successfully from its client address. */
  clientKnown?: boolean;
  /** A failure naming a user: whether that user name has ever logged in successfully. */
  userKnown?: boolean;
}

type TextValue = string | readonly string[] | undefined;
const NO_CONTEXT: EventContext = { authFailures: 0, authForgiven: 0 };
/**
 * A field without a value: one shared array, not one per call (callers only read them). Not
 * frozen: a frozen array's other elements kind made every for-of over field values allocate.
 */
const NO_VALUES: readonly string[] = [];

const REPLY_CHARS = 160;
/** Key for lines without a syslog HOSTNAME (some forwarders and pasted logs drop it). */
export const UNNAMED_HOST = "unnamed-host";

export const TEXT_FIELDS = {
  clientIp: (e) => clientIpOf(e),
  clientNet64: (e) => {
    const ip = clientIpOf(e);
    return ip === undefined ? undefined : ipv6Net64(ip);
  },
  /** The client's /24 (IPv4) or /48 (IPv6): where sprays and abusive clients cluster. */
  clientNetwork: (e) => {
    const ip = clientIpOf(e);
    return ip === undefined ? undefined : clientNetwork(ip);
  },
  saslUsername: (e) => {
    if (e.kind === "debug") return e.authUsername;
    if (e.kind === "sasl_auth_failed" || e.kind === "client" || e.kind === "message") return e.saslUsername;
    return undefined;
  },
  /**
   * What a spray tries: the user name where Postfix logs it (3.9+, or a decoded AUTH), else the
   * client address, so a spray from one network counts on any Postfix.
   */
  sprayTarget: (e) => {
    const user = e.kind === "sasl_auth_failed" ? e.saslUsername : undefined;
    return user ? `user ${user.toLowerCase()}` : clientIpOf(e);
  },
  /** A SASL user name's local part, lower-cased (`Admin@example.org` → `admin`): what honeypot lists name. */
  saslLocalPart: (e) => {
    const user = e.kind === "sasl_auth_failed" ? e.saslUsername : undefined;
    return user?.split("@")[0]?.toLowerCase();
  },
  /** How a login's address relates to the user's history (login-history.ts). */
  loginNovelty: (_e, c) => c.login?.noveltyText,
  /** The client-abuse signal an event is (client-abuse.ts): `helo reject`, `non-SMTP command`, ... */
  abuseSignal: (e) => classifyAbuse(e),
  /** The uid that ran sendmail (pickup's `uid=`), for mail that did not come over SMTP. */
  localUid: (e) => (e.kind === "message" && e.localUid !== undefined ? String(e.localUid) : undefined),
  host: (e) => e.host || UNNAMED_HOST,
  hostCipher: (e) => (e.kind === "tls" ? `${e.host || UNNAMED_HOST} ${e.protocol} ${e.cipher}` : undefined),
  global: () => "all",
  mechanism: (e) => {
    if (e.kind === "sasl_auth_failed") return e.mechanism.toUpperCase();
    return e.kind === "client" ? e.saslMethod?.toUpperCase() : undefined;
  },
  service: (e) => e.service ?? e.daemon,
  /** A message's envelope sender (`from=<>`, a bounce, has none). */
  sender: (e) => (e.kind === "message" ? e.from : undefined),
  rejectedRecipient: (e) => (e.kind === "reject" ? e.to?.toLowerCase() : undefined),
  recipientDomain: (e) => {
    if (e.kind === "delivery") return domainOf(e.to);
    if (e.kind === "reject") return e.to === undefined ? undefined : domainOf(e.to);
    if (e.kind !== "message") return undefined;
    return outboundRecipients(e)
      .map((r) => domainOf(r.to))
      .filter((d): d is string => d !== undefined);
  },
  /** Remote replies to failed deliveries, shortened: what the receiving side objected to. */
  remoteRejection: (e) => {
    if (e.kind === "delivery") return e.status === "sent" ? undefined : shorten(e.response, REPLY_CHARS);
    if (e.kind !== "message") return undefined;
    return outboundRecipients(e)
      .filter((r) => r.status !== "sent" && r.response)
      .map((r) => shorten(r.response ?? "", REPLY_CHARS));
  },
  destination: (e) => (e.kind === "delivery" ? (e.relayEndpoint?.host ?? e.relay) : undefined),
  tlsSuite: (e) => (e.kind === "tls" ? `${e.protocol} ${e.cipher}` : undefined),
  tlsPeer: (e) => (e.kind === "tls" ? `${e.direction === "in" ? "from" : "to"} ${e.peer.ip}` : undefined),
  /** Diagnostic text with pids and counts blanked, so the same failure groups together. */
  diagnostic: (e) =>
    e.kind === "fatal" || e.kind === "panic" || e.kind === "warning"
      ? `${e.kind}: ${shorten(e.text.replace(/\b\d+\b/g, "N"), REPLY_CHARS)}`
      : undefined,
  /**
   * Which Postfix setting makes smtpd write this debug line. The SMTP dialogue as `< client: ...` /
   * `> client: ...` and `function: ...` traces come from debug_peer_list or `-v`; everything else
   * (SSL_accept states, BIO hex dumps, `Read N chars:`/`Write N chars:` = the decrypted stream at
   * level 4, `setting up TLS connection`) from smtpd_tls_loglevel, as in seed 002's thread.
   */
  debugSetting: (e) => {
    if (e.kind !== "debug") return undefined;
    return /^[<>] |^[a-z_]+: /.test(e.text) ? "debug_peer_list (or smtpd -v)" : "smtpd_tls_loglevel";
  },
} satisfies Record<string, (e: PostfixEvent, c: EventContext) => TextValue>;
export type TextField = keyof typeof TEXT_FIELDS;

export function textValues(
  field: TextField,
  event: PostfixEvent,
  context: EventContext = NO_CONTEXT,
): readonly string[] {
  const value: TextValue = TEXT_FIELDS[field](event, context);
  if (value === undefined || value === "") return NO_VALUES;
  return typeof value === "string" ? [value] : value;
}

export const NUMERIC_FIELDS = {
  one: () => 1,
  authFailures: (_e, context) => context.authFailures,
  authForgiven: (_e, context) => context.authForgiven,
  recipients: (e) => (e.kind === "message" ? outboundRecipients(e).length : 0),
  bouncedRecipients: (e) => countRecipients(e, "bounced"),
  /** Recipients a remote server refused for the message's content (remote-replies.ts). */
  contentRejectedRecipients: (e) =>
    e.kind === "message"
      ? outboundRecipients(e).filter((r) => r.status !== "sent" && isContentRejection(r.response ?? ""))
          .length
      : 0,
  deferredRecipients: (e) => countRecipients(e, "deferred"),
  nullSenderMessage: (e) => (e.kind === "message" && e.from === "" ? 1 : 0),
} satisfies Record<string, (e: PostfixEvent, context: EventContext) => number>;
export type NumericField = keyof typeof NUMERIC_FIELDS;

function countRecipients(e: PostfixEvent, status: "bounced" | "deferred"): number {
  return e.kind === "message" ? outboundRecipients(e).filter((r) => r.status === status).length : 0;
}

/**
 * A message's recipients that left through this message. Those handed to a content filter are
 * counted on the re-queued message (which inherits the sender), so a filtered message counts once.
 */
export function outboundRecipients(e: EventOf<"message">): EventOf<"message">["recipients"] {
  return e.recipients.some((r) => r.handedOff) ? e.recipients.filter((r) => !r.handedOff) : e.recipients;
}

/** Fields a rule may group by, and the alert key type each produces. */
export const KEY_FIELDS = {
  clientIp: "client_ip",
  clientNet64: "client_net",
  clientNetwork: "client_net",
  saslUsername: "sasl_user",
  localUid: "local_uid",
  host: "host",
  hostCipher: "host_cipher",
  global: "global",
} as const satisfies Partial<Record<TextField, AlertKey["type"]>>;
export type KeyField = keyof typeof KEY_FIELDS;

export function shorten(text: string, max: number): string {
  const flat = isSingleSpaced(text) ? text : text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * Whether `text.replace(/\s+/g, " ").trim()` would return it unchanged: no whitespace but single
 * spaces between words. Most lines are, and the scan costs a fraction of the regex (it ran for every
 * sample an alert may show). Any other whitespace candidate (control, non-ASCII) takes the regex.
 */
function isSingleSpaced(text: string): boolean {
  let previousSpace = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) {
      if (previousSpace) return false;
      previousSpace = true;
    } else if (c < 32 || c >= 0x7f) return false;
    else previousSpace = false;
  }
  return !previousSpace || text.length === 0;
}
