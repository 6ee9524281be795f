/**
 * The event contract's plain values, kept apart from its zod schemas (events.ts builds them from
 * these): the parser needs only these at run time, so parsing a log never loads zod, which was a
 * tenth of a second of `postwatch parse`'s and `report`'s start-up.
 */

export const EVENT_SCHEMA_VERSION = 1 as const;

/** Delivery agents' `status=` words (`SOFTBOUNCE` is read as `deferred`). */
export const DELIVERY_STATUSES = [
  "sent",
  "bounced",
  "deferred",
  "expired",
  "undeliverable",
  "undeliverable-but-not-cached",
  "deliverable",
] as const;

/**
 * `delivery.remoteRejection`: what a remote server's 4xx/5xx reply says, most specific first (see
 * docs/contracts.md for the words each is read from).
 */
export const REMOTE_REJECTIONS = [
  "virus",
  "reputation",
  "spam",
  "content",
  "recipient",
  "policy",
  "other",
] as const;
