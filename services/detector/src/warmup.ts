/**
 * Rebuilding detection state after a restart. The durable consumer resumes after the last acked
 * event, but the rule windows and correlation state died with the old process. Re-reading the
 * events from `now - longest window` up to that ack floor restores them, so an attack that spans the
 * restart still fires once. Alerts derived during warm-up are discarded: everything up to the ack
 * floor was acked only after its alerts were stored.
 *
 * The login history (engine/login-history.ts) reaches further back than any window: before the
 * windows are replayed, the successful logins (`client` events) from `loginsFromMs` on are learned
 * into it, as far back as the stream keeps them. Events travel in batches of every kind, so that
 * pass reads the stream's events up to the windows' start and keeps the logins.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEventMessage } from "../../../shared/src/contracts/event-batch.js";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { EVENTS_STREAM } from "../../../shared/src/contracts/subjects.js";
import { storedAtMs } from "../../../shared/src/runtime/consumer.js";
import type { Logger } from "../../../shared/src/runtime/log.js";
import type { CompiledRule } from "./engine/rule.js";
import { type DetectionPipeline, EventTimeReplay } from "./pipeline.js";

// Messages are batches of up to a few hundred events each.
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

export async function warmUp(
  connection: NatsConnection,
  pipeline: DetectionPipeline,
  options: { durable: string; fromMs: number; loginsFromMs?: number; logger: Logger },
): Promise<WarmupResult> {
  const jsm = await jetstreamManager(connection);
  let ackFloor: number;
  try {
    ackFloor = (await jsm.consumers.info(EVENTS_STREAM, options.durable)).ack_floor.stream_seq;
  } catch {
    return { events: 0, ackFloor: 0 };
  }
  if (ackFloor === 0) return { events: 0, ackFloor };

  let logins = 0;
  if (options.loginsFromMs !== undefined && options.loginsFromMs < options.fromMs)
    await readUpTo(connection, ackFloor, options.loginsFromMs, (event) => {
      if (Date.parse(event.ts) >= options.fromMs) return false;
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
  await readUpTo(connection, ackFloor, options.fromMs, (event, storedMs) => {
    replay.push(event, Date.parse(event.ts), storedMs);
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
 * Reads the events stored from `fromMs` up to the ack floor, in order, handing each to `take` until
 * it returns false. Events the contract rejects were counted when they were first consumed.
 */
async function readUpTo(
  connection: NatsConnection,
  ackFloor: number,
  fromMs: number,
  take: (event: PostfixEvent, storedMs: number) => boolean,
): Promise<void> {
  const consumer = await jetstream(connection).consumers.get(EVENTS_STREAM, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(fromMs).toISOString(),
  });
  let done = false;
  while (!done) {
    const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
    let received = 0;
    for await (const message of batch) {
      received++;
      if (message.seq > ackFloor) {
        done = true;
        break;
      }
      for (const decoded of decodeEventMessage(message.data)) {
        if ("rejected" in decoded) continue;
        if (!take(decoded.event, storedAtMs(message))) {
          done = true;
          break;
        }
      }
      // Nothing left to read: no empty fetch.
      if (done || message.seq === ackFloor || message.info.pending === 0) {
        done = true;
        break;
      }
    }
    if (received === 0) done = true;
  }
  await consumer.delete().catch(() => undefined);
}
