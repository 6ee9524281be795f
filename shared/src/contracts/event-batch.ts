/**
 * The events wire format: one JetStream message carries a batch of events, in the order the
 * receiver read their lines. One message per line cost a publish, an ack, a delivery and an ack per
 * line; a batch pays those once. Each batch has its own `Nats-Msg-Id`, so a publish retried after a
 * lost ack is stored once, and the stream's duplicate window holds one ID per batch, not per line.
 *
 * A consumer also reads a bare event (the v1 single-event message of receivers before batching),
 * so detectors can be upgraded before receivers without dropping anything.
 */
import { acceptsAsIs } from "./accepts-as-is.js";
import { BatchWriter, encodeBatch } from "./batch-writer.js";
import { EVENT_SCHEMA_VERSION, PostfixEvent } from "./events.js";

/** The envelope's own version, apart from the events'; a consumer counts versions it does not know. */
export const EVENT_BATCH_VERSION = 1 as const;

/** Why an event (or a whole message) could not be read; bounded, so it can be a metric label. */
export type EventRejection = "invalid_json" | "unsupported_version" | "schema_mismatch";

export type BatchRejection = { rejected: EventRejection; detail: string; raw: unknown };
export type DecodedEvent = { event: PostfixEvent } | BatchRejection;

/**
 * A writer of event batches: the receiver serialises each event as it arrives and appends it, so a
 * batch costs no second walk over its events.
 */
export const eventBatchWriter = (): BatchWriter => new BatchWriter("events", EVENT_BATCH_VERSION);

/** The batch payload from events already serialised one by one. */
export const encodeEventBatch = (serialisedEvents: readonly string[]): Uint8Array =>
  encodeBatch("events", EVENT_BATCH_VERSION, serialisedEvents);

const utf8 = new TextDecoder();

/**
 * Every event of one message, each validated on its own: one unreadable event (a newer producer's
 * field, say) costs that event, not the batch. A message that is not JSON, or whose envelope has a
 * version this consumer does not know, is one rejection for the whole message.
 */
export function decodeEventMessage(data: Uint8Array): DecodedEvent[] {
  const envelope = readBatchEnvelope(data, "events", EVENT_BATCH_VERSION);
  if ("rejected" in envelope) return [envelope];
  return "bare" in envelope ? [decodeEvent(envelope.bare)] : envelope.items.map(decodeEvent);
}

/**
 * A message's batch envelope `{"batch": version, [field]: [...]}`: its items; or the whole message
 * as one item when it is JSON without an envelope; or why it cannot be read at all.
 */
export function readBatchEnvelope(
  data: Uint8Array,
  field: string,
  version: number,
): { items: unknown[] } | { bare: unknown } | BatchRejection {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(data));
  } catch (error) {
    return { rejected: "invalid_json", detail: (error as Error).message, raw: undefined };
  }
  const envelope = json as Record<string, unknown> | null;
  if (envelope === null || typeof envelope !== "object" || envelope.batch === undefined)
    return { bare: json };
  const items = envelope[field];
  if (envelope.batch !== version || !Array.isArray(items))
    return { rejected: "unsupported_version", detail: `batch=${String(envelope.batch)}`, raw: json };
  return { items };
}

/** True for an event the schema accepts and would return unchanged: it is used as parsed. */
const isEventAsIs = acceptsAsIs(PostfixEvent);

/** Producers may be newer or older than this consumer: a version it does not know is counted, not guessed at. */
function decodeEvent(json: unknown): DecodedEvent {
  const version = (json as { v?: unknown } | null)?.v;
  if (version !== EVENT_SCHEMA_VERSION)
    return { rejected: "unsupported_version", detail: `v=${String(version)}`, raw: json };
  // Every event our receivers write; zod still decides (and strips, or rejects) the rest.
  if (isEventAsIs(json)) return { event: json as PostfixEvent };
  const result = PostfixEvent.safeParse(json);
  return result.success
    ? { event: result.data }
    : { rejected: "schema_mismatch", detail: result.error.message.slice(0, 300), raw: json };
}
