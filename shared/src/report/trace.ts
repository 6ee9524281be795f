/**
 * `traceQueueId`: the whole story of one message, what seed 003's admin assembled by hand with
 * `grep QUEUEID` and `grep sasl_username` — its own lines, its bounce's, the IDs a content filter
 * re-queued it under (both directions), and the smtpd session that submitted it.
 *
 * Input is parsed events, each optionally paired with its raw line: with the line the trace prints
 * exactly what is in the log (what an admin expects to grep); without it, a rendering of the event.
 */
import type { EventOf, PostfixEvent } from "../contracts/events.js";
import { Correlator } from "../postfix/correlate.js";
import { formatEndpoint } from "./format.js";

export interface LoggedEvent {
  event: PostfixEvent;
  /** The log line the event was parsed from. */
  line?: string;
}

export type TraceInput = PostfixEvent | LoggedEvent;

type MessageEvent = EventOf<"message">;

export interface TraceResult {
  queueId: string;
  /** Every linked queue ID with lines in the input, in order of first appearance. */
  linked: Array<{ host: string; queueId: string }>;
  /** The story's lines in input order. */
  entries: LoggedEvent[];
  /** One summary per linked queue ID, in `linked` order; `end: evicted`: the input ended before its removal. */
  messages: MessageEvent[];
}

export function traceQueueId(input: Iterable<TraceInput>, queueId: string): TraceResult {
  const entries = Array.from(input, (item) => ("event" in item ? item : { event: item }));
  const linkedKeys = linkedQueueKeys(entries, queueId);
  const selected = new Set<number>();
  entries.forEach(({ event }, index) => {
    if (event.queueId === undefined || !linkedKeys.has(queueKey(event.host, event.queueId))) return;
    selected.add(index);
    if (event.kind === "client") {
      for (const sessionIndex of submittingSession(entries, index, linkedKeys)) selected.add(sessionIndex);
    }
  });

  const story = [...selected].sort((a, b) => a - b).map((index) => entries[index] as LoggedEvent);
  const linked = new Map<string, { host: string; queueId: string }>();
  for (const { event } of story) {
    if (event.queueId !== undefined)
      linked.set(queueKey(event.host, event.queueId), { host: event.host, queueId: event.queueId });
  }
  const order = new Map([...linked.keys()].map((key, index) => [key, index]));
  const rank = (message: MessageEvent) =>
    order.get(queueKey(message.host, message.queueId ?? "")) ?? order.size;
  const messages = summarize(story).sort((a, b) => rank(a) - rank(b));
  return { queueId, linked: [...linked.values()], entries: story, messages };
}

function queueKey(host: string, queueId: string): string {
  return `${host}\0${queueId}`;
}

/** Follows bounce and hand-off links both ways from every host's `queueId` until nothing new is reached. */
function linkedQueueKeys(entries: LoggedEvent[], queueId: string): Set<string> {
  const neighbours = new Map<string, string[]>();
  const link = (host: string, a: string, b: string) => {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const key = queueKey(host, from);
      neighbours.set(key, [...(neighbours.get(key) ?? []), queueKey(host, to)]);
    }
  };
  const found = new Set<string>();
  for (const { event } of entries) {
    if (event.queueId === undefined) continue;
    if (event.queueId === queueId) found.add(queueKey(event.host, queueId));
    if (event.kind === "bounce_notice") link(event.host, event.queueId, event.bounceQueueId);
    if (event.kind === "delivery" && event.forwardedQueueId !== undefined) {
      link(event.host, event.queueId, event.forwardedQueueId);
    }
  }
  const pending = [...found];
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    for (const next of neighbours.get(key) ?? []) {
      if (!found.has(next)) {
        found.add(next);
        pending.push(next);
      }
    }
  }
  return found;
}

/**
 * The lines of the smtpd process that logged `client=`, from its `connect` to its `disconnect`,
 * less the other messages it submitted in the same session.
 */
function* submittingSession(
  entries: LoggedEvent[],
  clientIndex: number,
  linkedKeys: Set<string>,
): Generator<number> {
  const { host, program, pid } = (entries[clientIndex] as LoggedEvent).event;
  if (pid === null) return;
  const sameProcess = (index: number) => {
    const event = (entries[index] as LoggedEvent).event;
    return event.host === host && event.program === program && event.pid === pid;
  };
  const belongs = (index: number) => {
    const { event } = entries[index] as LoggedEvent;
    return event.queueId === undefined || linkedKeys.has(queueKey(event.host, event.queueId));
  };
  for (let index = clientIndex - 1; index >= 0; index--) {
    if (!sameProcess(index)) continue;
    if (belongs(index)) yield index;
    if ((entries[index] as LoggedEvent).event.kind === "connect") break;
  }
  for (let index = clientIndex + 1; index < entries.length; index++) {
    if (!sameProcess(index)) continue;
    if (belongs(index)) yield index;
    if ((entries[index] as LoggedEvent).event.kind === "disconnect") break;
  }
}

function summarize(story: LoggedEvent[]): MessageEvent[] {
  const correlator = new Correlator();
  const outputs = story.flatMap(({ event }) => correlator.push(event));
  outputs.push(...correlator.sweep(Number.POSITIVE_INFINITY));
  return outputs.filter((event): event is MessageEvent => event.kind === "message");
}

export function formatTrace(result: TraceResult): string {
  if (result.entries.length === 0) return `No log lines mention queue ID ${result.queueId}.\n`;
  const ids = result.linked.map(({ host, queueId }) => `${queueId}@${host}`).join(", ");
  const lines = [`Trace of ${result.queueId}: ${result.linked.length} linked queue ID(s): ${ids}`, ""];
  for (const message of result.messages) lines.push(...describeMessage(message), "");
  lines.push(`Log lines (${result.entries.length}):`);
  for (const entry of result.entries) lines.push(entry.line?.trimEnd() ?? renderEvent(entry.event));
  return `${lines.join("\n")}\n`;
}

function describeMessage(message: MessageEvent): string[] {
  const submitter = message.client
    ? `client ${formatEndpoint(message.client)}${message.saslUsername ? `, sasl_username=${message.saslUsername}` : ", no SASL login"}${message.saslMethod ? ` (${message.saslMethod})` : ""}`
    : "client not in the log";
  const lines = [`${message.queueId} on ${message.host}: ${submitter}`];
  if (message.bounceOf) lines.push(`  bounce notification for ${message.bounceOf}`);
  lines.push(
    `  from=<${message.from ?? "?"}> size=${message.size ?? "?"} message-id=${message.messageId ?? "?"} first seen ${message.firstSeen}`,
  );
  for (const r of message.recipients)
    lines.push(`  to=<${r.to}> ${r.status} dsn=${r.dsn} relay=${r.relay} (${r.response ?? ""})`);
  if (message.forwardedQueueIds.length > 0)
    lines.push(`  re-queued as ${message.forwardedQueueIds.join(", ")}`);
  if (message.bounceQueueIds.length > 0)
    lines.push(`  bounce notification(s): ${message.bounceQueueIds.join(", ")}`);
  const ending = message.end === "evicted" ? "still queued when the input ended, last line" : message.end;
  lines.push(`  ${ending} (${message.ts})`);
  return lines;
}

const BASE_FIELDS = new Set([
  "v",
  "ts",
  "host",
  "program",
  "daemon",
  "service",
  "instance",
  "pid",
  "queueId",
  "kind",
]);

/** A stand-in for the log line when the caller has only the event. */
function renderEvent(event: PostfixEvent): string {
  const fields = Object.entries(event)
    .filter(([name, value]) => !BASE_FIELDS.has(name) && value !== undefined)
    .map(([name, value]) => `${name}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  const pid = event.pid === null ? "" : `[${event.pid}]`;
  const queueId = event.queueId ? `${event.queueId}: ` : "";
  return `${event.ts} ${event.host} ${event.program}${pid}: ${queueId}${event.kind} ${fields.join(" ")}`.trimEnd();
}
