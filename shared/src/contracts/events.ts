/**
 * The event contract: what the receiver publishes on NATS and what the detector, `postwatch parse`
 * and `postwatch replay` consume. One zod schema per event kind; the TypeScript types are inferred.
 *
 * Versioning: every payload carries `v`. Adding an optional field or a new kind keeps `v: 1`;
 * renaming, removing or re-typing a field bumps it, and consumers drop (and count) versions they
 * do not know. docs/contracts.md documents every kind and field.
 */
import { z } from "zod";
import { DELIVERY_STATUSES, EVENT_SCHEMA_VERSION, REMOTE_REJECTIONS } from "./event-constants.js";

export { EVENT_SCHEMA_VERSION } from "./event-constants.js";

/** A remote SMTP client or server, keyed by the bracketed address, never the name. */
export const Endpoint = z.object({
  /** The name as logged; empty when Postfix logged none (postscreen's `[ip]:port`). */
  host: z.string(),
  /** `unknown` when Postfix logged `unknown[unknown]`. */
  ip: z.string(),
  port: z.number().int().optional(),
});
export type Endpoint = z.infer<typeof Endpoint>;

/** Fields every event carries: where and when the line was written, by which Postfix process. */
const Base = z.object({
  v: z.literal(EVENT_SCHEMA_VERSION),
  /** When Postfix wrote the line (ISO 8601, UTC). Detection windows run on this clock. */
  ts: z.string(),
  /** The mail server that wrote the line (syslog HOSTNAME). */
  host: z.string(),
  /** Full syslog tag, e.g. `postfix-out/submission/smtpd`. */
  program: z.string(),
  /** Last path element of the tag: smtpd, smtp, qmgr, cleanup, bounce, postscreen, ... */
  daemon: z.string(),
  /** `syslog_name` service part (`submission`, `smtps`, `smtp-25`); absent for plain `postfix/<daemon>`. */
  service: z.string().optional(),
  /** Multi-instance prefix (`postfix-out`); absent for the default `postfix` instance. */
  instance: z.string().optional(),
  pid: z.number().int().nullable(),
  queueId: z.string().optional(),
  /**
   * The line as Postfix logged it after `program[pid]: `, redacted as the parser redacts text and
   * cut at 300 characters: what alert samples show, so that grep finds them in mail.log.
   */
  line: z.string().optional(),
});

const Client = z.object({ client: Endpoint });

export const SmtpStage = z.string();

export const ConnectEvent = Base.extend({ kind: z.literal("connect") }).extend(Client.shape);
export const DisconnectEvent = Base.extend({
  kind: z.literal("disconnect"),
  /** Per-command counters, e.g. `auth=0/3` → `{ auth: { ok: 0, total: 3 } }`. */
  commands: z.record(z.string(), z.object({ ok: z.number().int(), total: z.number().int() })),
}).extend(Client.shape);
export const LostConnectionEvent = Base.extend({
  kind: z.literal("lost_connection"),
  stage: SmtpStage,
}).extend(Client.shape);
export const TimeoutEvent = Base.extend({ kind: z.literal("timeout"), stage: SmtpStage }).extend(
  Client.shape,
);
export const TooManyErrorsEvent = Base.extend({
  kind: z.literal("too_many_errors"),
  stage: SmtpStage,
}).extend(Client.shape);

export const SaslAuthFailedEvent = Base.extend({
  kind: z.literal("sasl_auth_failed"),
  /** Upper-cased: PLAIN, LOGIN, CRAM-MD5, ... */
  mechanism: z.string(),
  /** The reason as logged; base64 server challenges are decoded (`UGFzc3dvcmQ6` → `Password:`). */
  reason: z.string(),
  /** Postfix 3.9+ appends `sasl_username=`; also filled from a decoded AUTH PLAIN of the same session. */
  saslUsername: z.string().optional(),
}).extend(Client.shape);

export const ClientEvent = Base.extend({
  kind: z.literal("client"),
  saslMethod: z.string().optional(),
  saslUsername: z.string().optional(),
  saslSender: z.string().optional(),
  origClient: Endpoint.optional(),
}).extend(Client.shape);

export const RejectCategory = z.enum([
  "relay_denied",
  "unknown_recipient",
  "rbl",
  "helo",
  "sender",
  "client",
  "policy",
  "content",
  "rate_limit",
  "other",
]);
export type RejectCategory = z.infer<typeof RejectCategory>;

export const RejectEvent = Base.extend({
  kind: z.literal("reject"),
  /** reject, reject_warning, milter-reject, discard, hold, ... as logged. */
  action: z.string(),
  /** SMTP stage: RCPT, MAIL, DATA, END-OF-MESSAGE, CONNECT, EHLO, HELO, ... */
  stage: z.string(),
  smtpCode: z.number().int().optional(),
  dsn: z.string().optional(),
  reason: z.string(),
  category: RejectCategory,
  from: z.string().optional(),
  to: z.string().optional(),
  helo: z.string().optional(),
  proto: z.string().optional(),
  client: Endpoint.optional(),
});

export const QueuedEvent = Base.extend({
  kind: z.literal("queued"),
  from: z.string(),
  size: z.number().int(),
  nrcpt: z.number().int(),
});

export const PickupEvent = Base.extend({
  kind: z.literal("pickup"),
  uid: z.number().int().optional(),
  from: z.string(),
});

export const MessageIdEvent = Base.extend({
  kind: z.literal("message_id"),
  messageId: z.string(),
  /** Set for cleanup's `resent-message-id=`: the Resent-Message-ID header, not the message's own ID. */
  resent: z.literal(true).optional(),
});

export const DeliveryStatus = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

/**
 * What a remote server's refusal says, read from its reply text and enhanced status code; a bounded
 * label for rules (a compromised account's mail is refused as spam or malware).
 */
export const RemoteRejection = z.enum(REMOTE_REJECTIONS);
export type RemoteRejection = z.infer<typeof RemoteRejection>;

export const DeliveryEvent = Base.extend({
  kind: z.literal("delivery"),
  to: z.string(),
  origTo: z.string().optional(),
  /** As logged: `mx.example[192.0.2.1]:25`, `none`, `local`, `private/dovecot-lmtp`. */
  relay: z.string(),
  relayEndpoint: Endpoint.optional(),
  /** Seconds. */
  delay: z.number(),
  /** Seconds per stage: before the queue manager, in it, connection setup, transmission. */
  delays: z
    .object({ beforeQmgr: z.number(), inQmgr: z.number(), connSetup: z.number(), transmission: z.number() })
    .optional(),
  dsn: z.string(),
  status: DeliveryStatus,
  /** The text in parentheses after the status: the remote reply or Postfix's own. */
  response: z.string(),
  /** Set when the remote end re-queued the message under a new ID (`250 2.0.0 Ok: queued as NEWID`). */
  forwardedQueueId: z.string().optional(),
  /**
   * For a recipient not delivered because the remote server answered 4xx or 5xx (`host mx[ip] said:
   * 550 5.7.1 ...`, `host mx[ip] refused to talk to me: 554 ...`): its reply code, the SMTP command
   * it answered (`RCPT TO`, `end of DATA`; absent for the greeting), and what the reply says.
   */
  replyCode: z.number().int().optional(),
  stage: z.string().optional(),
  remoteRejection: RemoteRejection.optional(),
});

export const BounceNoticeEvent = Base.extend({
  kind: z.literal("bounce_notice"),
  notice: z.enum(["non-delivery", "delay", "success"]),
  recipient: z.enum(["sender", "postmaster"]),
  bounceQueueId: z.string(),
});

export const RemovedEvent = Base.extend({ kind: z.literal("removed") });
export const ExpiredEvent = Base.extend({
  kind: z.literal("expired"),
  from: z.string(),
  forced: z.boolean(),
});

export const TlsEvent = Base.extend({
  kind: z.literal("tls"),
  direction: z.enum(["in", "out"]),
  trust: z.string(),
  peer: Endpoint,
  protocol: z.string(),
  cipher: z.string(),
  bits: z.number().int().optional(),
});

export const PostscreenEvent = Base.extend({
  kind: z.literal("postscreen"),
  /** CONNECT, PASS NEW, PASS OLD, PREGREET, DNSBL, HANGUP, COMMAND TIME LIMIT, DISCONNECT, ... */
  action: z.string(),
  client: Endpoint,
  dnsblRank: z.number().int().optional(),
  /** The command the client had sent when the limit or violation struck: `... after RCPT`. */
  stage: z.string().optional(),
});

export const AnvilEvent = Base.extend({
  kind: z.literal("anvil"),
  /** e.g. `max connection rate`, `max connection count`, `max cache size`. */
  statistic: z.string(),
  value: z.string(),
  service: z.string().optional(),
  clientIp: z.string().optional(),
});

export const DebugEvent = Base.extend({
  kind: z.literal("debug"),
  /** Debug text with credentials redacted: AUTH payloads never leave the parser. */
  text: z.string(),
  /** User name decoded from an `AUTH PLAIN` (or `AUTH LOGIN` initial) response; the password is discarded. */
  authUsername: z.string().optional(),
  client: Endpoint.optional(),
});

/**
 * `client` is the endpoint the text names, if any. The smtp client's unprefixed per-attempt trouble
 * (`host mx[ip] said: 450 ...`, `connect to mx[ip]:25: ...`) is a `warning` whose client is that
 * remote server; `stage` is the command it answered (`(in reply to RCPT TO command)`) or, for smtpd's
 * complaints about a client, the one after which it misbehaved (`improper command pipelining after EHLO`).
 */
const Diagnostic = <K extends "warning" | "fatal" | "panic" | "error">(kind: K) =>
  Base.extend({
    kind: z.literal(kind),
    text: z.string(),
    client: Endpoint.optional(),
    stage: z.string().optional(),
  });
export const WarningEvent = Diagnostic("warning");
export const ErrorEvent = Diagnostic("error");
export const FatalEvent = Diagnostic("fatal");
export const PanicEvent = Diagnostic("panic");

/**
 * A Postfix line recognised as routine (daemon started, TLS engine initialised, postsuper's hold and
 * requeue, ...); `client` is the address it names, if any (dnsblog's listed address, the server the
 * smtp client enables PIX workarounds for).
 */
export const NoticeEvent = Base.extend({
  kind: z.literal("notice"),
  text: z.string(),
  client: Endpoint.optional(),
});

/** A Postfix line no shape matched: kept whole and counted, never dropped. */
export const UnparsedEvent = Base.extend({ kind: z.literal("unparsed"), text: z.string() });

/**
 * The correlated story of one message, emitted once per queue ID: when its queue entry is removed or
 * evicted, or (for a correlator summarizing at first pass, as the detector's does) as soon as every
 * recipient has had a delivery attempt and some were deferred.
 */
export const MessageEvent = Base.extend({
  kind: z.literal("message"),
  client: Endpoint.optional(),
  saslUsername: z.string().optional(),
  saslMethod: z.string().optional(),
  /**
   * The uid that handed it to `sendmail` (pickup's `uid=`): mail that did not come over SMTP, such as
   * a web application's PHP `mail()`.
   */
  localUid: z.number().int().optional(),
  from: z.string().optional(),
  size: z.number().int().optional(),
  messageId: z.string().optional(),
  firstSeen: z.string(),
  recipients: z.array(
    z.object({
      to: z.string(),
      status: DeliveryStatus,
      dsn: z.string(),
      relay: z.string(),
      response: z.string().optional(),
      /** The queue ID the delivery's reply re-queued this recipient as (`queued as NEWID`, `forwarded as NEWID`). */
      forwardedQueueId: z.string().optional(),
      /** The delivery's `remoteRejection`: what the remote server's refusal said. */
      remoteRejection: RemoteRejection.optional(),
      /**
       * True when that queue ID is on this server: a content filter took the recipient and re-queued
       * it, so its real fate is in the `forwardedFrom` message, not here (count it once, there).
       */
      handedOff: z.boolean().optional(),
    }),
  ),
  bounceQueueIds: z.array(z.string()),
  forwardedQueueIds: z.array(z.string()),
  /** Set when this message is itself a bounce (null sender) created for another queue ID. */
  bounceOf: z.string().optional(),
  /** The queue ID whose content-filter (or alias) hand-off this message continues; its origin is that message's. */
  forwardedFrom: z.string().optional(),
  /**
   * removed: the queue file is gone; expired: it was returned to the sender after the maximal queue
   * lifetime, then removed; evicted: state limits pushed it out before it ended; first_pass: every
   * recipient has had a delivery attempt and at least one is `deferred`, so the message stays
   * queued. A first_pass summary is the message's only one: recipients' later retries, its bounce
   * notifications and its removal produce none.
   */
  end: z.enum(["removed", "evicted", "expired", "first_pass"]),
});

export const PostfixEvent = z.discriminatedUnion("kind", [
  ConnectEvent,
  DisconnectEvent,
  LostConnectionEvent,
  TimeoutEvent,
  TooManyErrorsEvent,
  SaslAuthFailedEvent,
  ClientEvent,
  RejectEvent,
  QueuedEvent,
  PickupEvent,
  MessageIdEvent,
  DeliveryEvent,
  BounceNoticeEvent,
  RemovedEvent,
  ExpiredEvent,
  TlsEvent,
  PostscreenEvent,
  AnvilEvent,
  DebugEvent,
  WarningEvent,
  ErrorEvent,
  FatalEvent,
  PanicEvent,
  NoticeEvent,
  UnparsedEvent,
  MessageEvent,
]);
export type PostfixEvent = z.infer<typeof PostfixEvent>;
export type EventKind = PostfixEvent["kind"];
export type EventOf<K extends EventKind> = Extract<PostfixEvent, { kind: K }>;

export const EVENT_KINDS = PostfixEvent.options.map((o) => o.shape.kind.value) as readonly EventKind[];
