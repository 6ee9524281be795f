/**
 * Rebuilding detection state after a restart. The durable consumer resumes after the last acked
 * event, but the rule windows and correlation state died with the old process. Re-reading the
 * events from `now - longest window` up to that ack floor restores them, so an attack that spans the
 * restart still fires once. Alerts derived during warm-up are discarded: everything up to the ack
 * floor was acked only after its alerts were stored.
 *
 * The login history (engine/login-history.ts) reaches further back than any window: before the
 * windows are replayed, the successful logins (`client` events only, a filtered read) from
 * `loginsFromMs` on are learned into it, as far back as the stream keeps them.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { EVENTS_STREAM, eventSubject } from "../../../shared/src/contracts/subjects.js";
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
    logins = await readUpTo(connection, ackFloor, options.loginsFromMs, eventSubject("client"), (event) => {
      if (Date.parse(event.ts) >= options.fromMs) return false;
      pipeline.learnLogin(event);
      return true;
    });
  // Driven on event time as a replay is; the alerts it re-derives were stored before the restart.
  const replay = new EventTimeReplay(pipeline);
  const events = await readUpTo(connection, ackFloor, options.fromMs, undefined, (event) => {
    replay.push(event);
    return true;
  });
  options.logger.info(
    { events, logins, ackFloor, since: new Date(options.fromMs).toISOString() },
    "detection state rebuilt from the event stream",
  );
  return { events, ackFloor };
}

/**
 * Reads events stored from `fromMs` (of `subject`, or all) up to the ack floor, handing each to
 * `take` until it returns false; returns how many it took.
 */
async function readUpTo(
  connection: NatsConnection,
  ackFloor: number,
  fromMs: number,
  subject: string | undefined,
  take: (event: PostfixEvent) => boolean,
): Promise<number> {
  const consumer = await jetstream(connection).consumers.get(EVENTS_STREAM, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(fromMs).toISOString(),
    // A single subject as a string: sent as filter_subject, which nats-server 2.9 understands.
    ...(subject === undefined ? {} : { filter_subjects: subject }),
  });
  let taken = 0;
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
      const parsed = PostfixEvent.safeParse(message.json());
      if (parsed.success) {
        if (!take(parsed.data)) {
          done = true;
          break;
        }
        taken++;
      }
      // Nothing left to read (a filtered read may never meet the floor itself): no empty fetch.
      if (message.seq === ackFloor || message.info.pending === 0) {
        done = true;
        break;
      }
    }
    if (received === 0) done = true;
  }
  await consumer.delete().catch(() => undefined);
  return taken;
}
