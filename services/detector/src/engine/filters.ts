/**
 * Which events a rule reads: an event kind plus optional exact field values and one named
 * predicate from a closed table. No expression language: every test is typed against its kind.
 */
import type {
  EventOf as EventFor,
  EventKind,
  PostfixEvent,
} from "../../../../shared/src/contracts/events.js";
import { PROTOCOL_VIOLATIONS } from "./client-abuse.js";
import type { EventScope } from "./event-scope.js";
import { outboundRecipients, type TextField } from "./fields.js";
import { CONTENT_REPLY, REPUTATION_REPLY } from "./remote-replies.js";

/** A message whose every recipient went to a content filter is counted on its re-queued copy instead. */
function leftThroughThisMessage(e: EventFor<"message">): boolean {
  return e.recipients.length === 0 || outboundRecipients(e).length > 0;
}

const predicate = <K extends EventKind>(
  kind: K,
  test: (event: EventFor<K>, scope: EventScope) => boolean,
) => ({ kind, test });

/** A client-abuse signal (client-abuse.ts) of the given group; classified once per event, for all rules. */
const abuse = (violation: boolean) => (_event: PostfixEvent, scope: EventScope) => {
  const signal = scope.values("abuseSignal")[0];
  return signal !== undefined && PROTOCOL_VIOLATIONS.has(signal) === violation;
};

const WEAK_PROTOCOL = /^(SSLv2|SSLv3|TLSv1|TLSv1\.1)$/i;
const WEAK_CIPHER = /RC4|3DES|DES-CBC3|DES-CBC-|NULL|EXPORT|EXP-|ADH-|AECDH-|anon/i;
/**
 * Postfix warnings that mean mail is not flowing, each logged by a real Postfix 3.7 with a broken
 * service (test/integration/postfix-scenario.ts): master's crashed or failing daemons (`pid N
 * killed by signal 11`, `pid N exit status 1`, `bad command startup -- throttling`), a policy
 * server or milter that cannot be reached (every RCPT, or every session, answered 451), and a SASL
 * backend that cannot be read or reached (every login fails).
 */
const SYSTEM_WARNING =
  /\bprocess \S+ pid \d+ (?:killed by signal|exit status)|bad command startup -- throttling|lots of deferred mail|^problem talking to server |^connect to Milter service |^SASL authentication problem: |^SASL: Connect to /i;

function authFailed(e: EventFor<"disconnect">): boolean {
  const auth = e.commands.auth;
  return auth !== undefined && auth.total > auth.ok;
}

export const PREDICATES = {
  authFailed: predicate("disconnect", authFailed),
  afterAuth: predicate("too_many_errors", (e) => e.stage.toUpperCase() === "AUTH"),
  authenticatedLogin: predicate("client", (e) => Boolean(e.saslUsername)),
  /** A login from an address the user has not logged in from (nor from its network), or a user with no history. */
  loginFromUnknownAddress: predicate("client", (e, c) => {
    const kind = c.login?.novelty?.kind;
    return Boolean(e.saslUsername) && (kind === "new" || kind === "first");
  }),
  /** A login from the user's usual address or network. */
  loginFromKnownAddress: predicate("client", (e, c) => {
    const kind = c.login?.novelty?.kind;
    return Boolean(e.saslUsername) && (kind === "known" || kind === "known_network");
  }),
  /** A SASL failure from an address no one has logged in from: a stranger, not a user's stale password. */
  failureFromStranger: predicate("sasl_auth_failed", (_e, c) => c.login?.clientKnown === false),
  disconnectFromStranger: predicate("disconnect", (e, c) => c.login?.clientKnown === false && authFailed(e)),
  /**
   * A SASL failure from an address no one has logged in from that names no real account: a phone
   * with a user's stale password names that user, a wordlist bot names what it guesses.
   */
  strangerFailureOnNoAccount: predicate(
    "sasl_auth_failed",
    (_e, c) => c.login?.clientKnown === false && c.login?.userKnown !== true,
  ),
  /** A failure naming a user name that has never logged in here: not a real account's typo. */
  failureOnUnknownUser: predicate("sasl_auth_failed", (_e, c) => c.login?.userKnown === false),
  refusedClient: predicate("reject", abuse(false)),
  clientError: predicate("too_many_errors", abuse(false)),
  lostAfterAuth: predicate("lost_connection", abuse(false)),
  postscreenRefusal: predicate("postscreen", abuse(false)),
  warningRefusal: predicate("warning", abuse(false)),
  protocolViolation: predicate("warning", abuse(true)),
  postscreenViolation: predicate("postscreen", abuse(true)),
  outboundMessage: predicate("message", leftThroughThisMessage),
  authenticatedMessage: predicate("message", (e) => Boolean(e.saslUsername) && leftThroughThisMessage(e)),
  /** Handed to sendmail by a local user, not submitted over SMTP (a content filter's copy inherits it). */
  locallySubmittedMessage: predicate(
    "message",
    (e) => e.localUid !== undefined && !e.saslUsername && leftThroughThisMessage(e),
  ),
  weakTls: predicate("tls", (e) => WEAK_PROTOCOL.test(e.protocol) || WEAK_CIPHER.test(e.cipher)),
  reputationBlock: predicate(
    "delivery",
    (e) => e.status !== "sent" && REPUTATION_REPLY.test(e.response) && !CONTENT_REPLY.test(e.response),
  ),
  systemFailure: predicate("warning", (e) => SYSTEM_WARNING.test(e.text)),
};
export type PredicateName = keyof typeof PREDICATES;
type PredicateFor<K extends EventKind> = {
  [P in PredicateName]: (typeof PREDICATES)[P]["kind"] extends K ? P : never;
}[PredicateName];

type StringFieldsOf<E> = {
  [F in keyof E as F extends "kind" | "v" ? never : NonNullable<E[F]> extends string ? F : never]?: E[F];
};

export type EventFilter = {
  [K in EventKind]: {
    kind: K;
    equals?: StringFieldsOf<EventFor<K>>;
    test?: PredicateFor<K>;
    /**
     * A text field whose value must be in a list setting of the rule (honeypot_login's
     * `honeypotUsers`); an entry ending in `*` matches by prefix.
     */
    listed?: { field: TextField; in: string };
  };
}[EventKind];

/** Tests an event, given as itself and as the scope it is evaluated in (the scope's event). */
export type EventMatcher = (event: PostfixEvent, scope: EventScope) => boolean;

/** Whether any of `matchers` accepts the event (a loop: `some` with a closure allocated per call). */
export function matchesAny(
  matchers: readonly EventMatcher[],
  event: PostfixEvent,
  scope: EventScope,
): boolean {
  for (let i = 0; i < matchers.length; i++) if ((matchers[i] as EventMatcher)(event, scope)) return true;
  return false;
}

/**
 * Compiles a filter into a matcher, with the rule's settings for `listed`; the caller dispatches
 * by kind, so kind is checked too for safety.
 */
export function compileFilter(filter: EventFilter, settings: Record<string, unknown> = {}): EventMatcher {
  const equals = Object.entries(filter.equals ?? {}) as [string, string][];
  const test = filter.test === undefined ? undefined : (PREDICATES[filter.test].test as EventMatcher);
  const listed = filter.listed && listMatcher(filter.listed.field, settings[filter.listed.in]);
  return (event, scope) => {
    if (event.kind !== filter.kind) return false;
    const fields = event as unknown as Record<string, unknown>;
    for (const [field, value] of equals) if (fields[field] !== value) return false;
    if (listed && !listed(event, scope)) return false;
    return test === undefined || test(event, scope);
  };
}

function listMatcher(field: TextField, list: unknown): EventMatcher {
  const entries = (Array.isArray(list) ? list : []).map((entry) => String(entry).toLowerCase());
  const exact = new Set(entries.filter((entry) => !entry.endsWith("*")));
  const prefixes = entries.filter((entry) => entry.endsWith("*")).map((entry) => entry.slice(0, -1));
  return (_event, scope) =>
    scope
      .values(field)
      .some((value) => exact.has(value) || prefixes.some((prefix) => value.startsWith(prefix)));
}
