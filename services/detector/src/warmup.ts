/**
 * Rebuilding detection state after a restart. The durable consumer resumes after the last acked
 * event, but the rule windows and correlation state died with the old process. Re-reading the
 * events from `now - longest window` up to that ack floor restores them, so an attack that spans the
 * restart still fires once. Alerts derived during warm-up are discarded: everything up to the ack
 * floor was acked only after its alerts were stored.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { EVENTS_STREAM } from "../../../shared/src/contracts/subjects.js";
import type { Logger } from "../../../shared/src/runtime/log.js";
import type { CompiledRule } from "./engine/rule.js";
import { type DetectionPipeline, EventTimeReplay } from "./pipeline.js";

const FETCH_BATCH = 1000;
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
  options: { durable: string; fromMs: number; logger: Logger },
): Promise<WarmupResult> {
  const jsm = await jetstreamManager(connection);
  let ackFloor: number;
  try {
    ackFloor = (await jsm.consumers.info(EVENTS_STREAM, options.durable)).ack_floor.stream_seq;
  } catch {
    return { events: 0, ackFloor: 0 };
  }
  if (ackFloor === 0) return { events: 0, ackFloor };

  const consumer = await jetstream(connection).consumers.get(EVENTS_STREAM, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(options.fromMs).toISOString(),
  });
  let events = 0;
  // Driven on event time as a replay is; the alerts it re-derives were stored before the restart.
  const replay = new EventTimeReplay(pipeline);
  for (;;) {
    const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
    let received = 0;
    let reachedFloor = false;
    for await (const message of batch) {
      received++;
      if (message.seq > ackFloor) {
        reachedFloor = true;
        break;
      }
      const parsed = PostfixEvent.safeParse(message.json());
      if (!parsed.success) continue;
      replay.push(parsed.data);
      events++;
      if (message.seq === ackFloor) {
        reachedFloor = true;
        break;
      }
    }
    if (reachedFloor || received === 0) break;
  }
  await consumer.delete().catch(() => undefined);
  options.logger.info(
    { events, ackFloor, since: new Date(options.fromMs).toISOString() },
    "detection state rebuilt from the event stream",
  );
  return { events, ackFloor };
}
