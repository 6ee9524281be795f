/**
 * Which events a rule reads: an event kind plus optional exact field values and one named
 * predicate from a closed table. No expression language: every test is typed against its kind.
 */
import type {
  EventOf as EventFor,
  EventKind,
  PostfixEvent,
} from "../../../../shared/src/contracts/events.js";
import { outboundRecipients } from "./fields.js";

/** A message whose every recipient went to a content filter is counted on its re-queued copy instead. */
function leftThroughThisMessage(e: EventFor<"message">): boolean {
  return e.recipients.length === 0 || outboundRecipients(e).length > 0;
}

const predicate = <K extends EventKind>(kind: K, test: (event: EventFor<K>) => boolean) => ({ kind, test });

const WEAK_PROTOCOL = /^(SSLv2|SSLv3|TLSv1|TLSv1\.1)$/i;
const WEAK_CIPHER = /RC4|3DES|DES-CBC3|DES-CBC-|NULL|EXPORT|EXP-|ADH-|AECDH-|anon/i;
/** Remote replies that are about our sending IP's reputation or rate, not about one message. */
const REPUTATION_REPLY =
  /unusual rate|rate[- ]?limit|too many (messages|connections)|reputation|block ?list|black ?list|\blisted\b|spamhaus|spamcop|barracuda|\bRBL\b|DNSBL|\bblocked\b/i;
const CONTENT_REPLY = /virus|content|attachment|security issue|spam message|message (was )?blocked/i;
/**
 * Postfix warnings that mean mail is not flowing, each logged by a real Postfix 3.7 with a broken
 * service (test/integration/postfix-scenario.ts): master's crashed or failing daemons (`pid N
 * killed by signal 11`, `pid N exit status 1`, `bad command startup -- throttling`), a policy
 * server or milter that cannot be reached (every RCPT, or every session, answered 451), and a SASL
 * backend that cannot be read or reached (every login fails).
 */
const SYSTEM_WARNING =
  /\bprocess \S+ pid \d+ (?:killed by signal|exit status)|bad command startup -- throttling|lots of deferred mail|^problem talking to server |^connect to Milter service |^SASL authentication problem: |^SASL: Connect to /i;

export const PREDICATES = {
  authFailed: predicate("disconnect", (e) => {
    const auth = e.commands.auth;
    return auth !== undefined && auth.total > auth.ok;
  }),
  afterAuth: predicate("too_many_errors", (e) => e.stage.toUpperCase() === "AUTH"),
  authenticatedLogin: predicate("client", (e) => Boolean(e.saslUsername)),
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
  [K in EventKind]: { kind: K; equals?: StringFieldsOf<EventFor<K>>; test?: PredicateFor<K> };
}[EventKind];

export type EventMatcher = (event: PostfixEvent) => boolean;

/** Compiles a filter into a matcher; the caller dispatches by kind, so kind is checked too for safety. */
export function compileFilter(filter: EventFilter): EventMatcher {
  const equals = Object.entries(filter.equals ?? {}) as [string, string][];
  const test =
    filter.test === undefined ? undefined : (PREDICATES[filter.test].test as (e: PostfixEvent) => boolean);
  return (event) => {
    if (event.kind !== filter.kind) return false;
    const fields = event as unknown as Record<string, unknown>;
    for (const [field, value] of equals) if (fields[field] !== value) return false;
    return test === undefined || test(event);
  };
}
