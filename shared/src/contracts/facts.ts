/**
 * The facts contract: what the detector's correlation stage hands its evaluation stage, on
 * `postwatch.facts.<partition>` when the stages run apart (DETECTOR_STAGE), in memory otherwise.
 *
 * A fact is one correlated event (an input event, enriched from its session, or a message summary)
 * with what only the correlation stage can know, since it reads each mail server's lines in order:
 * where the event sits in the rule windows (`atMs`, its own time clamped to the clock-ahead bound),
 * when it was seen (`seenMs`), and the SASL guesses its SMTP session adds (`authFailures`) or takes
 * back once the session logs in (`authForgiven`). Rules need nothing else, so an evaluator reads
 * only the facts of its own rule keys.
 *
 * Versioning: the envelope carries `batch` (FACT_BATCH_VERSION), each event its own `v`; a consumer
 * counts and sets aside versions it does not know, as for event batches (event-batch.ts).
 */
import { z } from "zod";
import { acceptsAsIs } from "./accepts-as-is.js";
import { encodeBatch } from "./batch-writer.js";
import { type BatchRejection, readBatchEnvelope } from "./event-batch.js";
import { EVENT_SCHEMA_VERSION, PostfixEvent } from "./events.js";

export const FACT_BATCH_VERSION = 1 as const;

const count = z.int().nonnegative();

export const Fact = z.object({
  event: PostfixEvent,
  /** Where the event sits in the rule windows, ms since the epoch. */
  atMs: z.number(),
  /** When it was seen: JetStream's storage time bounded by the detector's clock (its own time in a replay). */
  seenMs: z.number(),
  /** SASL password guesses this event adds after its session's de-duplication. */
  authFailures: count,
  /** Guesses counted earlier in its session, which has now logged in: typos, not an attack. */
  authForgiven: count,
});
export type Fact = z.infer<typeof Fact>;

export type DecodedFact = { fact: Fact } | BatchRejection;

/** A batch payload from facts serialised one by one (a fact bound for several partitions is serialised once). */
export const encodeFactBatch = (serialisedFacts: readonly string[]): Uint8Array =>
  encodeBatch("facts", FACT_BATCH_VERSION, serialisedFacts);

/** Every fact of one message, each validated on its own; a message that is no fact batch is one rejection. */
export function decodeFactMessage(data: Uint8Array): DecodedFact[] {
  const envelope = readBatchEnvelope(data, "facts", FACT_BATCH_VERSION);
  if ("rejected" in envelope) return [envelope];
  if ("bare" in envelope)
    return [{ rejected: "unsupported_version", detail: "not a fact batch", raw: envelope.bare }];
  return envelope.items.map(decodeFact);
}

/** True for a fact the schema accepts and would return unchanged: it is used as parsed. */
const isFactAsIs = acceptsAsIs(Fact);

function decodeFact(json: unknown): DecodedFact {
  const version = (json as { event?: { v?: unknown } } | null)?.event?.v;
  if (version !== EVENT_SCHEMA_VERSION)
    return { rejected: "unsupported_version", detail: `event v=${String(version)}`, raw: json };
  if (isFactAsIs(json)) return { fact: json as Fact };
  const result = Fact.safeParse(json);
  return result.success
    ? { fact: result.data }
    : { rejected: "schema_mismatch", detail: result.error.message.slice(0, 300), raw: json };
}
