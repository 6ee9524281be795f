import type { Endpoint, EventOf, PostfixEvent } from "../contracts/events.js";
import { flat } from "./flat.js";

export type MessageEvent = EventOf<"message">;
export type MessageEnd = MessageEvent["end"];
type Recipient = MessageEvent["recipients"][number];

/** The fields every event carries, as copied onto a message summary. */
export type EventBase = Pick<
  MessageEvent,
  "v" | "ts" | "host" | "program" | "daemon" | "service" | "instance" | "pid"
>;

/** Who submitted a message: the smtpd client and its SASL login, or the local uid behind sendmail. */
export interface Origin {
  client?: Endpoint;
  saslUsername?: string;
  saslMethod?: string;
  localUid?: number;
}

/** Everything learnt so far about one queue ID on one host. */
export interface MessageState {
  host: string;
  queueId: string;
  firstSeen: string;
  lastSeenMs: number;
  /** The latest line's base fields: a summary is stamped with them when no ending line exists. */
  last: EventBase;
  origin: Origin;
  /** Set once a content filter's hand-off gave this message its submitter: its own (loopback) client= must not replace it. */
  originInherited: boolean;
  from?: string;
  size?: number;
  messageId?: string;
  recipients: Map<string, Recipient>;
  bounceQueueIds: string[];
  forwardedQueueIds: string[];
  bounceOf?: string;
  /** The queue ID whose hand-off (content filter, alias) this message continues. */
  forwardedFrom?: string;
  /** qmgr gave up on it; the summary still waits for `removed` so the bounce it triggers is in it. */
  expired: boolean;
  /** qmgr's `nrcpt=`, the largest logged (each pass through the active queue logs it again). */
  nrcpt?: number;
  /**
   * Its summary went out before its end (first pass). What is left is a stub, stripped by
   * `stripSummarized`, that swallows the message's later lines and its `removed`, and still links
   * its hand-offs (by `origin`) and bounce notifications.
   */
  summarized: boolean;
}

/** Explicit stores rather than a spread of the optional fields: it runs on most queue lines. */
export function baseOf(event: PostfixEvent): EventBase {
  const base: EventBase = {
    v: event.v,
    ts: event.ts,
    host: event.host,
    program: event.program,
    daemon: event.daemon,
    pid: event.pid,
  };
  if (event.service !== undefined) base.service = event.service;
  if (event.instance !== undefined) base.instance = event.instance;
  return base;
}

export function newMessageState(event: PostfixEvent, queueId: string, atMs: number): MessageState {
  return {
    host: flat(event.host),
    queueId: flat(queueId),
    firstSeen: event.ts,
    lastSeenMs: atMs,
    last: baseOf(event),
    origin: {},
    originInherited: false,
    recipients: new Map(),
    bounceQueueIds: [],
    forwardedQueueIds: [],
    expired: false,
    summarized: false,
  };
}

/** Records what one line says about its own queue ID. Links to other queue IDs are the caller's job. */
export function recordLine(state: MessageState, event: PostfixEvent): void {
  switch (event.kind) {
    case "client":
      if (!state.originInherited) state.origin = originOf(event);
      return;
    case "pickup":
      state.from ??= flat(event.from);
      if (!state.originInherited && event.uid !== undefined) state.origin.localUid = event.uid;
      return;
    case "message_id":
      // The Resent-Message-ID names a re-sending, not this message.
      if (event.resent !== true) state.messageId = flat(event.messageId);
      return;
    case "queued":
      state.from = state.from === event.from ? state.from : flat(event.from);
      state.size = event.size;
      state.nrcpt = Math.max(state.nrcpt ?? 0, event.nrcpt);
      return;
    case "delivery":
      recordDelivery(state, event);
      return;
    case "bounce_notice":
      addOnce(state.bounceQueueIds, event.bounceQueueId);
      return;
    case "expired":
      state.expired = true;
      state.from ??= flat(event.from);
      return;
  }
}

function recordDelivery(state: MessageState, event: EventOf<"delivery">): void {
  const previous = state.recipients.get(event.to);
  // Retries repeat `deferred` until a final status; a final status is never downgraded.
  if (previous === undefined || previous.status === "deferred") {
    const to = flat(event.to);
    const recipient: Recipient = {
      to,
      status: event.status,
      dsn: event.dsn,
      relay: flat(event.relay),
      response: flat(event.response),
    };
    if (event.forwardedQueueId !== undefined) recipient.forwardedQueueId = event.forwardedQueueId;
    if (event.remoteRejection !== undefined) recipient.remoteRejection = event.remoteRejection;
    state.recipients.set(to, recipient);
  }
  if (event.forwardedQueueId !== undefined) addOnce(state.forwardedQueueIds, event.forwardedQueueId);
}

/**
 * Whether the message's first pass through the queue is over and left it queued: every recipient qmgr
 * announced (`nrcpt`) has a delivery line, and one is still `deferred`. Recipients are told apart by
 * address, so a content filter's hand-off counts once per recipient it carried. A message whose
 * recipients all reached a final status is not: its `removed` follows at once, with its bounce
 * notifications. Unknown `nrcpt` (the log started after qmgr's line) waits for the end, as before.
 */
export function firstPassLeftQueued(state: MessageState): boolean {
  const { nrcpt } = state;
  if (nrcpt === undefined || nrcpt === 0 || state.recipients.size < nrcpt) return false;
  for (const recipient of state.recipients.values()) if (recipient.status === "deferred") return true;
  return false;
}

/**
 * Marks a message summarized and drops what only its summary needed: the stub keeps its host, queue
 * ID, origin (to hand on to a re-injected message) and recency, so a long-deferred message costs
 * little until its `removed`.
 */
export function stripSummarized(state: MessageState): void {
  state.summarized = true;
  state.recipients = new Map();
  state.bounceQueueIds = [];
  state.forwardedQueueIds = [];
  // Assigned, not deleted: a deleted property turns the object into a slow dictionary.
  state.from = undefined;
  state.size = undefined;
  state.messageId = undefined;
  state.forwardedFrom = undefined;
  state.bounceOf = undefined;
}

/** Copies what it keeps (see flat.ts): an origin lives as long as its message, or longer when handed off. */
export function originOf(event: EventOf<"client">): Origin {
  const { client, saslUsername, saslMethod } = event;
  const origin: Origin = { client: flatEndpoint(client) };
  if (saslUsername !== undefined) origin.saslUsername = flat(saslUsername);
  if (saslMethod !== undefined) origin.saslMethod = saslMethod;
  return origin;
}

function flatEndpoint(endpoint: Endpoint): Endpoint {
  const copy: Endpoint = { host: flat(endpoint.host), ip: flat(endpoint.ip) };
  if (endpoint.port !== undefined) copy.port = endpoint.port;
  return copy;
}

/** Field by field rather than by spreads: it runs once per message and spreads were 6% of a replay. */
export function summarize(state: MessageState, base: EventBase, end: MessageEnd): MessageEvent {
  const message = {
    v: base.v,
    ts: base.ts,
    host: base.host,
    program: base.program,
    daemon: base.daemon,
    pid: base.pid,
  } as MessageEvent;
  if (base.service !== undefined) message.service = base.service;
  if (base.instance !== undefined) message.instance = base.instance;
  message.kind = "message";
  message.queueId = state.queueId;
  const { origin } = state;
  if (origin.client !== undefined) message.client = origin.client;
  if (origin.saslUsername !== undefined) message.saslUsername = origin.saslUsername;
  if (origin.saslMethod !== undefined) message.saslMethod = origin.saslMethod;
  if (origin.localUid !== undefined) message.localUid = origin.localUid;
  if (state.from !== undefined) message.from = state.from;
  if (state.size !== undefined) message.size = state.size;
  if (state.messageId !== undefined) message.messageId = state.messageId;
  message.firstSeen = state.firstSeen;
  message.recipients = [...state.recipients.values()];
  message.bounceQueueIds = [...state.bounceQueueIds];
  message.forwardedQueueIds = [...state.forwardedQueueIds];
  if (state.bounceOf !== undefined) message.bounceOf = state.bounceOf;
  if (state.forwardedFrom !== undefined) message.forwardedFrom = state.forwardedFrom;
  message.end = state.expired && end === "removed" ? "expired" : end;
  return message;
}

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}
