import type { Endpoint, EventOf, PostfixEvent } from "../contracts/events.js";

export type MessageEvent = EventOf<"message">;
export type MessageEnd = MessageEvent["end"];
type Recipient = MessageEvent["recipients"][number];

/** The fields every event carries, as copied onto a message summary. */
export type EventBase = Pick<
  MessageEvent,
  "v" | "ts" | "host" | "program" | "daemon" | "service" | "instance" | "pid"
>;

/** Who submitted a message: the smtpd client and its SASL login. */
export interface Origin {
  client?: Endpoint;
  saslUsername?: string;
  saslMethod?: string;
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
  /** qmgr gave up on it; the summary still waits for `removed` so the bounce it triggers is in it. */
  expired: boolean;
}

export function baseOf(event: PostfixEvent): EventBase {
  const { v, ts, host, program, daemon, service, instance, pid } = event;
  return {
    v,
    ts,
    host,
    program,
    daemon,
    pid,
    ...(service !== undefined && { service }),
    ...(instance !== undefined && { instance }),
  };
}

export function newMessageState(event: PostfixEvent, queueId: string, atMs: number): MessageState {
  return {
    host: event.host,
    queueId,
    firstSeen: event.ts,
    lastSeenMs: atMs,
    last: baseOf(event),
    origin: {},
    originInherited: false,
    recipients: new Map(),
    bounceQueueIds: [],
    forwardedQueueIds: [],
    expired: false,
  };
}

/** Records what one line says about its own queue ID. Links to other queue IDs are the caller's job. */
export function recordLine(state: MessageState, event: PostfixEvent): void {
  switch (event.kind) {
    case "client":
      if (!state.originInherited) state.origin = originOf(event);
      return;
    case "pickup":
      state.from ??= event.from;
      return;
    case "message_id":
      state.messageId = event.messageId;
      return;
    case "queued":
      state.from = event.from;
      state.size = event.size;
      return;
    case "delivery":
      recordDelivery(state, event);
      return;
    case "bounce_notice":
      addOnce(state.bounceQueueIds, event.bounceQueueId);
      return;
    case "expired":
      state.expired = true;
      state.from ??= event.from;
      return;
  }
}

function recordDelivery(state: MessageState, event: EventOf<"delivery">): void {
  const previous = state.recipients.get(event.to);
  // Retries repeat `deferred` until a final status; a final status is never downgraded.
  if (previous === undefined || previous.status === "deferred") {
    const { to, status, dsn, relay, response } = event;
    state.recipients.set(to, { to, status, dsn, relay, response });
  }
  if (event.forwardedQueueId !== undefined) addOnce(state.forwardedQueueIds, event.forwardedQueueId);
}

export function originOf(event: EventOf<"client">): Origin {
  const { client, saslUsername, saslMethod } = event;
  return {
    client,
    ...(saslUsername !== undefined && { saslUsername }),
    ...(saslMethod !== undefined && { saslMethod }),
  };
}

export function summarize(state: MessageState, base: EventBase, end: MessageEnd): MessageEvent {
  const { origin } = state;
  return {
    ...base,
    kind: "message",
    queueId: state.queueId,
    ...origin,
    ...(state.from !== undefined && { from: state.from }),
    ...(state.size !== undefined && { size: state.size }),
    ...(state.messageId !== undefined && { messageId: state.messageId }),
    firstSeen: state.firstSeen,
    recipients: [...state.recipients.values()],
    bounceQueueIds: [...state.bounceQueueIds],
    forwardedQueueIds: [...state.forwardedQueueIds],
    ...(state.bounceOf !== undefined && { bounceOf: state.bounceOf }),
    end: state.expired && end === "removed" ? "expired" : end,
  };
}

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}
