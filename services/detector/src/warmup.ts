/**
 * Rebuilding detection state after a restart. A durable consumer resumes after its last acked
 * message, but the rule windows and correlation state died with the old process. Re-reading what
 * was stored from `now - longest window` up to that ack floor restores them, so an attack that
 * spans the restart fires once. What the state re-derives during warm-up is discarded: everything
 * up to the ack floor was acked only after its output was stored.
 *
 * The login history (engine/login-history.ts) reaches further back than any window: before the
 * windows are replayed, the successful logins from `loginsFromMs` on are learned into it, as far
 * back as the stream keeps them. Logins travel in batches with everything else, so that pass reads
 * the stream up to the windows' start and keeps the logins.
 *
 * `DETECTOR_STAGE=all` replays the event stream into its DetectionPipeline; an evaluation stage
 * replays the facts of its own partition into its EvaluationStage (service/evaluate.ts).
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEventMessage } from "../../../shared/src/contracts/event-batch.js";
import { eventTimeMs } from "../../../shared/src/contracts/event-time.js";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { EVENTS_STREAM } from "../../../shared/src/contracts/subjects.js";
import { storedAtMs } from "../../../shared/src/runtime/consumer.js";
import type { Logger } from "../../../shared/src/runtime/log.js";
import type { CompiledRule } from "./engine/rule.js";
import { type DetectionPipeline, EventTimeReplay, TICK_MS } from "./pipeline.js";

// Messages are batches of up to a few hundred items each.
const FETCH_BATCH = 100;
const FETCH_EXPIRES_MS = 2000;

/** The longest window of the enabled rules: how much history the state depends on. */
export function longestWindowSeconds(rules: readonly CompiledRule[]): number {
  return Math.max(0, ...rules.filter((r) => r.settings.enabled).map((r) => r.settings.windowSeconds));
}

export interface WarmupResult {
  events: number;
  ackFloor: number;
}

/** The durable's ack floor: the last stream sequence everything up to which was acked; 0 for a new one. */
export async function ackFloorOf(
  connection: NatsConnection,
  stream: string,
  durable: string,
): Promise<number> {
  const jsm = await jetstreamManager(connection);
  try {
    return (await jsm.consumers.info(stream, durable)).ack_floor.stream_seq;
  } catch {
    return 0;
  }
}

export async function warmUp(
  connection: NatsConnection,
  pipeline: DetectionPipeline,
  options: { durable: string; fromMs: number; loginsFromMs?: number; logger: Logger },
): Promise<WarmupResult> {
  const ackFloor = await ackFloorOf(connection, EVENTS_STREAM, options.durable);
  if (ackFloor === 0) return { events: 0, ackFloor };
  const read = (fromMs: number, take: (event: PostfixEvent, storedMs: number) => boolean) =>
    readStoredUpTo(connection, { stream: EVENTS_STREAM, ackFloor, fromMs }, (data, storedMs) => {
      for (const decoded of decodeEventMessage(data))
        if ("event" in decoded && !take(decoded.event, storedMs)) return false;
      return true;
    });

  let logins = 0;
  if (options.loginsFromMs !== undefined && options.loginsFromMs < options.fromMs)
    await read(options.loginsFromMs, (event) => {
      if (eventTimeMs(event.ts) >= options.fromMs) return false;
      if (event.kind === "client") {
        pipeline.learnLogin(event);
        logins++;
      }
      return true;
    });
  // Driven as the live detector was, on the times JetStream stored the events; the alerts it
  // re-derives were stored before the restart.
  const replay = new EventTimeReplay(pipeline);
  let events = 0;
  await read(options.fromMs, (event, storedMs) => {
    replay.push(event, eventTimeMs(event.ts), storedMs);
    events++;
    return true;
  });
  options.logger.info(
    { events, logins, ackFloor, since: new Date(options.fromMs).toISOString() },
    "detection state rebuilt from the event stream",
  );
  return { events, ackFloor };
}

/**
 * Reads the messages stored from `fromMs` up to the ack floor (of `filterSubject` only, when
 * given), in order, handing each payload to `take` until it returns false. Items the contract
 * rejects were counted when they were first consumed.
 */
export async function readStoredUpTo(
  connection: NatsConnection,
  from: { stream: string; filterSubject?: string; ackFloor: number; fromMs: number },
  take: (data: Uint8Array, storedMs: number) => boolean,
): Promise<void> {
  const consumer = await jetstream(connection).consumers.get(from.stream, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(from.fromMs).toISOString(),
    // One subject as a string: nats-server 2.9 knows `filter_subject` only.
    ...(from.filterSubject && { filter_subjects: from.filterSubject }),
  });
  let done = false;
  while (!done) {
    const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
    let received = 0;
    for await (const message of batch) {
      received++;
      if (message.seq > from.ackFloor || !take(message.data, storedAtMs(message))) {
        done = true;
        break;
      }
      // Nothing left to read: no empty fetch.
      if (message.seq === from.ackFloor || message.info.pending === 0) {
        done = true;
        break;
      }
    }
    if (received === 0) done = true;
  }
  await consumer.delete().catch(() => undefined);
}

/**
 * readStoredUpTo for a stage's own state: every payload handed to `take`, and `tick` called
 * whenever stored time has moved on TICK_MS, as the stage's timer ran live.
 */
export async function replayStored(
  connection: NatsConnection,
  from: { stream: string; filterSubject?: string; ackFloor: number; fromMs: number },
  stage: { tick(storedMs: number): void; take(data: Uint8Array, storedMs: number): void },
): Promise<void> {
  let nextTickMs = Number.NEGATIVE_INFINITY;
  await readStoredUpTo(connection, from, (data, storedMs) => {
    if (storedMs >= nextTickMs) {
      stage.tick(storedMs);
      nextTickMs = storedMs + TICK_MS;
    }
    stage.take(data, storedMs);
    return true;
  });
}
