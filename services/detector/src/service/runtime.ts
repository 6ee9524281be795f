/**
 * What every detector stage does at its edge, written once: durable consumers whose messages are
 * handled one at a time with the stage's timer (the stages are synchronous, publishing is not);
 * batches decoded, their readable items handled, the message acked only after what they produced
 * is stored, or set aside whole as a dead letter when some item could not be read; publishing
 * retried until JetStream stores it; alerts published with their identity as message ID.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type JetStreamClient, type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Counter, Registry } from "prom-client";
import { type Alert, alertIdentity } from "../../../../shared/src/contracts/alerts.js";
import type { BatchRejection } from "../../../../shared/src/contracts/event-batch.js";
import { alertSubject } from "../../../../shared/src/contracts/subjects.js";
import {
  coalescedAcks,
  type RunningConsumer,
  runDurableConsumer,
} from "../../../../shared/src/runtime/consumer.js";
import { deadLetter } from "../../../../shared/src/runtime/dead-letters.js";
import type { Logger } from "../../../../shared/src/runtime/log.js";
import type { DetectorConfig } from "../config.js";
import type { CompiledRule } from "../engine/rule.js";
import type { DetectorMetrics } from "../metrics.js";
import type { PipelineStats } from "../pipeline.js";
import { alertWaves } from "./alert-waves.js";

const LAG_POLL_MS = 5000;

/**
 * Batches one detector process holds unacked, over all its consumers. A backlog then waits in the
 * stream, not in the process: a replica owning 12 partitions with 256 batches each would hold 3,072
 * (up to 786k events), more than it handles within the ack wait, and JetStream would hand them out
 * again while they still wait their turn.
 */
export const IN_FLIGHT_BATCHES = 256;
const ACK_WAIT_MS = 30_000;

/** Each consumer's share of IN_FLIGHT_BATCHES when the process runs `consumers` of them (a few at least, to keep batches pipelined). */
export const maxAckPendingOf = (consumers: number): number =>
  Math.max(4, Math.floor(IN_FLIGHT_BATCHES / consumers));

/** A durable consumer of one stream (and subject) of batches. */
export interface BatchSource<T> {
  stream: string;
  durable: string;
  filterSubject?: string;
  /** Consumers this process runs (its partitions): they share IN_FLIGHT_BATCHES. */
  consumers: number;
  decode(data: Uint8Array): (T | BatchRejection)[];
  /** Counts items by outcome: `processed`, or the rejection. */
  outcomes: Counter<"outcome">;
}

export interface StageRuntime {
  readonly js: JetStreamClient;
  /** Handles each message's readable items; acks it (or sets it aside) once `handle` resolves. */
  consume<T>(source: BatchSource<T>, handle: (items: T[], message: JsMsg) => Promise<void>): Promise<void>;
  /** Runs `work` every `ms`, never while a message is being handled. */
  every(ms: number, work: () => Promise<void>): void;
  /** Publishes until JetStream stores it (a duplicate of `msgID` counts as stored); throws only at shutdown. */
  publish(subject: string, payload: string | Uint8Array, msgID: string): Promise<void>;
  publishAlerts(alerts: readonly Alert[]): Promise<void>;
  drain(): Promise<void>;
}

export function createStageRuntime(deps: {
  connection: NatsConnection;
  logger: Logger;
  metrics: DetectorMetrics;
}): StageRuntime {
  const { connection, logger, metrics } = deps;
  const js = jetstream(connection);
  // Aborted first thing at drain, so a publish retry loop never holds up consumer.stop().
  const stopping = new AbortController();
  const consumers: RunningConsumer[] = [];
  const timers: NodeJS.Timeout[] = [];
  const lagOf: (() => Promise<number>)[] = [];
  const acks = coalescedAcks();
  const rejectionsLogged = new Set<string>();

  // Serialises the consumers and the timers: the stages are synchronous, publishing is not.
  let queue: Promise<void> = Promise.resolve();
  const serially = (work: () => Promise<void>) => {
    queue = queue.then(work, work);
    return queue;
  };

  const publish = (subject: string, payload: string | Uint8Array, msgID: string) =>
    publishUntilStored(js, subject, payload, msgID, stopping.signal, logger, () =>
      metrics.publishErrors.inc(),
    );

  /**
   * A message holding items this stage cannot read is set aside whole as a dead letter once its
   * readable items are handled; counted once per message, since a redelivery (its ack lost) finds
   * the letter stored already.
   */
  const setAside = async (
    message: JsMsg,
    rejections: readonly BatchRejection[],
    outcomes: Counter<"outcome">,
  ) => {
    const [first] = rejections as [BatchRejection];
    if (!(await deadLetter(connection, message, first.rejected, first.detail))) return;
    for (const rejection of rejections) {
      outcomes.labels(rejection.rejected).inc();
      if (rejectionsLogged.has(rejection.rejected)) continue;
      rejectionsLogged.add(rejection.rejected);
      logger.error(
        {
          reason: rejection.rejected,
          detail: rejection.detail,
          stream: message.info.stream,
          seq: message.seq,
        },
        "set aside a message item this detector cannot read (first of its kind; all are counted and listed by `postwatch dead-letters`)",
      );
    }
  };

  const lagPoll = setInterval(() => {
    Promise.all(lagOf.map((lag) => lag())).then(
      (pending) => metrics.consumerLag.set(pending.reduce((a, b) => a + b, 0)),
      () => undefined,
    );
  }, LAG_POLL_MS);
  timers.push(lagPoll);

  return {
    js,
    async consume(source, handle) {
      const processed = source.outcomes.labels("processed");
      consumers.push(
        await runDurableConsumer(
          connection,
          {
            stream: source.stream,
            durable: source.durable,
            ...(source.filterSubject && { filterSubject: source.filterSubject }),
            maxAckPending: maxAckPendingOf(source.consumers),
            ackWaitMs: ACK_WAIT_MS,
            // A partition is one replica's, and its stage needs its batches in order.
            resumeAtAckFloor: true,
          },
          (message) =>
            serially(async () => {
              // Its ack lost with a NATS node, a message handled already comes back: its items
              // went through the stage once, and would be counted twice.
              if (acks.ackedBefore(message)) return acks.ack(message);
              const items: Parameters<typeof handle>[0] = [];
              const rejections: BatchRejection[] = [];
              for (const decoded of source.decode(message.data)) {
                if (isRejection(decoded)) rejections.push(decoded);
                else items.push(decoded);
              }
              await handle(items, message);
              processed.inc(items.length);
              if (rejections.length > 0) await setAside(message, rejections, source.outcomes);
              else acks.ack(message);
            }),
          logger,
        ),
      );
      const jsm = await jetstreamManager(connection);
      lagOf.push(async () => (await jsm.consumers.info(source.stream, source.durable)).num_pending);
    },
    every(ms, work) {
      // A publish not stored at shutdown is derived again after the restart, from the same state.
      timers.push(setInterval(() => serially(work).catch(() => undefined), ms));
    },
    publish,
    async publishAlerts(alerts) {
      const publishOne = async (alert: Alert) => {
        await publish(alertSubject(alert.rule), JSON.stringify(alert), alertIdentity(alert));
        metrics.alerts.labels(alert.rule, alert.state).inc();
        logger.info(
          {
            rule: alert.rule,
            state: alert.state,
            key: alert.key,
            count: alert.count,
            fingerprint: alert.fingerprint,
          },
          "alert",
        );
      };
      for (const wave of alertWaves(alerts)) await Promise.all(wave.map(publishOne));
    },
    async drain() {
      stopping.abort();
      for (const timer of timers) clearInterval(timer);
      for (const consumer of consumers) await consumer.stop();
      await queue.catch(() => undefined);
      acks.flush();
    },
  };
}

const isRejection = <T>(decoded: T | BatchRejection): decoded is BatchRejection =>
  typeof decoded === "object" && decoded !== null && "rejected" in decoded;

/** Thrown instead of storing at shutdown: the input stays unacked and is redelivered. */
class ShuttingDown extends Error {
  override readonly name = "ShuttingDown";
}

async function publishUntilStored(
  js: JetStreamClient,
  subject: string,
  payload: string | Uint8Array,
  msgID: string,
  stopping: AbortSignal,
  logger: Logger,
  onError: () => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await js.publish(subject, payload, { msgID });
      return;
    } catch (error) {
      onError();
      if (attempt === 1)
        logger.warn(
          { error: (error as Error).message, subject },
          "publish failed; retrying until JetStream stores it",
        );
      const stopped = await sleep(Math.min(5000, 250 * 2 ** attempt), undefined, { signal: stopping }).then(
        () => false,
        () => true,
      );
      if (stopped) {
        logger.error(
          { subject, msgID },
          "not stored: shutting down while JetStream is unavailable; its input will be redelivered",
        );
        throw new ShuttingDown("not stored at shutdown");
      }
    }
  }
}

/** What each stage's service is given (detector.ts wires them). */
export interface StageDeps {
  config: DetectorConfig;
  rules: readonly CompiledRule[];
  logger: Logger;
  registry: Registry;
  connection: NatsConnection;
  runtime: StageRuntime;
  metrics: DetectorMetrics;
  now: () => number;
  /** How far back state is rebuilt from at start: the longest rule window, at most DETECTOR_WARMUP_MAX_SECONDS. */
  warmupSeconds: number;
}

/** A stage's service, started: its stats, for the metrics. */
export type StageService = (deps: StageDeps) => Promise<() => PipelineStats>;
