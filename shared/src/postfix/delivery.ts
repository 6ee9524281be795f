/** Queue lines: qmgr, pickup, cleanup's message-id, delivery agents' `to=... status=`, bounce. */
import { DELIVERY_STATUSES } from "../contracts/event-constants.js";
import type { DeliveryStatus, EventOf } from "../contracts/events.js";
import { endpointAt } from "./endpoint.js";
import { decimalAt, type Head, integer, isQueueId, withHead } from "./fields.js";
import { sliceEquals } from "./recurring.js";
import { classifyRemoteRejection, remoteReply } from "./remote-reply.js";

const STATUSES: ReadonlySet<string> = new Set<DeliveryStatus>(DELIVERY_STATUSES);

type Delivery = EventOf<"delivery">;

/**
 * Where the address that starts at `at` (just after `to=` or `from=`) ends: `<address>, ` or, as
 * older Postfix versions and some local(8) paths log it, `address, `. -1 when there is no `, `.
 */
function addressEnd(text: string, at: number, bracketed: boolean): number {
  return text.indexOf(bracketed ? ">, " : ", ", at);
}

/**
 * `to=<x>, [orig_to=<y>, ]relay=R, [conn_use=N, ]delay=D, delays=a/b/c/d, [tls=..., ]dsn=X,
 * status=S (response)`. Unknown keys are skipped so new Postfix fields do not break the line.
 */
export function parseDelivery(head: Head, text: string): Delivery | null {
  const toBracketed = text.charCodeAt(3) === 60; /* < */
  const toStart = toBracketed ? 4 : 3;
  const toEnd = addressEnd(text, toStart, toBracketed);
  if (toEnd < 0) return null;
  let relay: string | undefined;
  let delay: number | undefined;
  let origTo: string | undefined;
  let delays: Delivery["delays"];
  let dsn = "";
  let pos = toEnd + (toBracketed ? 3 : 2);
  while (pos < text.length) {
    const eq = text.indexOf("=", pos);
    if (eq < 0 || eq - pos > 16) return null;
    if (sliceEquals(text, pos, eq, "status")) return finish(text, eq + 1);
    const bracketed = text.charCodeAt(eq + 1) === 60; /* < */
    let end = text.indexOf(bracketed ? ">, " : ", ", eq + 1);
    if (end < 0) return null;
    if (bracketed) end++;
    // Values are read in place: only the ones kept become strings.
    const valueStart = bracketed ? eq + 2 : eq + 1;
    const valueEnd = bracketed ? end - 1 : end;
    if (sliceEquals(text, pos, eq, "relay")) relay = text.slice(valueStart, valueEnd);
    else if (sliceEquals(text, pos, eq, "delay")) delay = decimalAt(text, valueStart, valueEnd);
    else if (sliceEquals(text, pos, eq, "delays")) delays = readDelays(text, valueStart, valueEnd);
    else if (sliceEquals(text, pos, eq, "dsn")) dsn = text.slice(valueStart, valueEnd);
    else if (sliceEquals(text, pos, eq, "orig_to")) origTo = text.slice(valueStart, valueEnd);
    pos = end + 2;
  }
  return null;

  function finish(line: string, at: number): Delivery | null {
    if (relay === undefined || delay === undefined) return null;
    const open = line.indexOf(" (", at);
    const word = line.slice(at, open < 0 ? line.length : open);
    // soft_bounce=yes logs SOFTBOUNCE where a bounce would have been: the mail stays queued.
    const status = word === "SOFTBOUNCE" ? "deferred" : word;
    if (!STATUSES.has(status)) return null;
    const response = open < 0 ? "" : line.slice(open + 2, line.endsWith(")") ? -1 : line.length);
    const event: Delivery = withHead(head, {
      kind: "delivery",
      to: line.slice(toStart, toEnd),
      relay,
      delay,
      dsn,
      status: status as DeliveryStatus,
      response,
    });
    if (origTo !== undefined) event.origTo = origTo;
    if (delays !== undefined) event.delays = delays;
    const relayEndpoint = relay.includes("[") ? endpointAt(relay, 0) : null;
    if (relayEndpoint !== null) event.relayEndpoint = relayEndpoint.endpoint;
    const forwarded = forwardedQueueId(response);
    if (forwarded !== undefined) event.forwardedQueueId = forwarded;
    if (status !== "sent") addRemoteReply(event);
    return event;
  }
}

/** What the remote server's refusal says, when the response quotes one. */
function addRemoteReply(event: Delivery): void {
  const reply = remoteReply(event.response);
  if (reply === undefined) return;
  event.replyCode = reply.code;
  if (reply.stage !== undefined) event.stage = reply.stage;
  event.remoteRejection = classifyRemoteRejection(reply.dsn ?? event.dsn, reply.text);
}

/** `a/b/c/d` in `text[start, end)`: the four stages of `delays=`. */
function readDelays(text: string, start: number, end: number): Delivery["delays"] {
  const first = text.indexOf("/", start);
  const second = first < 0 ? -1 : text.indexOf("/", first + 1);
  const third = second < 0 ? -1 : text.indexOf("/", second + 1);
  if (third < 0 || third >= end) return undefined;
  const beforeQmgr = decimalAt(text, start, first);
  const inQmgr = decimalAt(text, first + 1, second);
  const connSetup = decimalAt(text, second + 1, third);
  const transmission = decimalAt(text, third + 1, end);
  if (beforeQmgr === undefined || inQmgr === undefined) return undefined;
  if (connSetup === undefined || transmission === undefined) return undefined;
  return { beforeQmgr, inQmgr, connSetup, transmission };
}

/** A content filter or alias expansion re-queues: `250 2.0.0 Ok: queued as NEWID`, `forwarded as NEWID`. */
const REQUEUED = /(?:queued|forwarded) as ([0-9A-Za-z]{6,32})\b/;

function forwardedQueueId(response: string): string | undefined {
  const match = REQUEUED.exec(response);
  return match !== null && isQueueId(match[1] as string) ? match[1] : undefined;
}

const QUEUED = /^size=(\d{1,15}), nrcpt=(\d{1,9})/;

/** qmgr: `from=<a>, size=N, nrcpt=N (queue active)` or `from=<a>, status=[force-]expired, returned to sender`. */
export function parseQmgrFrom(head: Head, text: string): EventOf<"queued"> | EventOf<"expired"> | null {
  const bracketed = text.charCodeAt(5) === 60; /* < */
  const fromStart = bracketed ? 6 : 5;
  const fromEnd = addressEnd(text, fromStart, bracketed);
  if (fromEnd < 0) return null;
  const from = text.slice(fromStart, fromEnd);
  const rest = text.slice(fromEnd + (bracketed ? 3 : 2));
  const queued = QUEUED.exec(rest);
  if (queued !== null) {
    return withHead(head, { kind: "queued", from, size: Number(queued[1]), nrcpt: Number(queued[2]) });
  }
  if (rest.startsWith("status=expired")) return withHead(head, { kind: "expired", from, forced: false });
  if (rest.startsWith("status=force-expired")) return withHead(head, { kind: "expired", from, forced: true });
  return null;
}

const PICKUP = /^uid=(\d{1,10}) from=<([^>]*)>/;

export function parsePickup(head: Head, text: string): EventOf<"pickup"> | null {
  const match = PICKUP.exec(text);
  if (match === null) return null;
  const event: EventOf<"pickup"> = withHead(head, { kind: "pickup", from: match[2] as string });
  const uid = integer(match[1] as string);
  if (uid !== undefined) event.uid = uid;
  return event;
}

const BOUNCE = /^(sender|postmaster) (non-delivery|delay|delivery status) notification: ([0-9A-Za-z]{6,32})$/;

export function parseBounceNotice(head: Head, text: string): EventOf<"bounce_notice"> | null {
  const match = BOUNCE.exec(text);
  if (match === null) return null;
  const notice: EventOf<"bounce_notice">["notice"] =
    match[2] === "delivery status" ? "success" : (match[2] as "non-delivery" | "delay");
  return withHead(head, {
    kind: "bounce_notice",
    notice,
    recipient: match[1] as "sender" | "postmaster",
    bounceQueueId: match[3] as string,
  });
}

/**
 * `message-id=<id>`, or cleanup's `resent-message-id=<id>` for a message with a Resent-Message-ID
 * header (`resent`); some clients send an ID without angle brackets, kept as is, and a long one may
 * be cut off without its `>`.
 */
export function parseMessageId(head: Head, text: string, at: number, resent = false): EventOf<"message_id"> {
  const raw = text.slice(at);
  const open = raw.startsWith("<");
  const messageId = open ? raw.slice(1, raw.endsWith(">") ? -1 : raw.length) : raw;
  const event: EventOf<"message_id"> = withHead(head, { kind: "message_id", messageId });
  if (resent) event.resent = true;
  return event;
}
