/**
 * The detector service: a durable consumer of events → DetectionPipeline → alerts published with
 * their identity as JetStream message ID (so a re-derived alert is dropped as a duplicate), plus a
 * one-second tick that resolves quiet keys. An event is acked only after its alerts are stored.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type JetStreamClient, type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import { type Alert, alertIdentity } from "../../../shared/src/contracts/alerts.js";
import { type DecodedEvent, decodeEventMessage } from "../../../shared/src/contracts/event-batch.js";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { alertSubject, DETECTOR_DURABLE, EVENTS_STREAM } from "../../../shared/src/contracts/subjects.js";
import { coalescedAcks, runDurableConsumer, storedAtMs } from "../../../shared/src/runtime/consumer.js";
import { deadLetter } from "../../../shared/src/runtime/dead-letters.js";
import type { Logger } from "../../../shared/src/runtime/log.js";
import { type DetectorConfig, replicaSlotOf, ruleOverridesOf } from "./config.js";
import { LOGIN_HISTORY_DEFAULTS } from "./engine/login-history.js";
import { createDetectorMetrics } from "./metrics.js";
import { ownsKey, replicaDurable } from "./partition.js";
import { DetectionPipeline, TICK_MS } from "./pipeline.js";
import { createPostfixMetrics, observePostfixEvent } from "./postfix-metrics.js";
import { loadRules } from "./rules/index.js";
import { longestWindowSeconds, warmUp } from "./warmup.js";

const LAG_POLL_MS = 5000;

export interface DetectorService {
  drain(): Promise<void>;
}

export async function createDetector(deps: {
  config: DetectorConfig;
  logger: Logger;
  registry: Registry;
  connection: NatsConnection;
  now?: () => number;
}): Promise<DetectorService> {
  const { config, logger, registry, connection, now = Date.now } = deps;
  const rules = loadRules(ruleOverridesOf(config));
  const slot = replicaSlotOf(config);
  const durable = replicaDurable(DETECTOR_DURABLE, slot);
  const pipeline = new DetectionPipeline({
    ownsKey: (type, value) => ownsKey(slot, type, value),
    rules,
    maxKeysPerRule: config.DETECTOR_MAX_KEYS_PER_RULE,
    correlator: {
      maxMessages: config.CORRELATOR_MAX_MESSAGES,
      maxMessageAgeSeconds: config.CORRELATOR_MAX_MESSAGE_AGE_SECONDS,
    },
    maxAheadMs: config.DETECTOR_MAX_CLOCK_AHEAD_SECONDS * 1000,
  });
  logger.info(
    {
      rules: rules.filter((r) => r.settings.enabled).map((r) => r.id),
      replica: slot.index,
      replicas: slot.count,
    },
    "detection rules loaded",
  );
  const metrics = createDetectorMetrics(registry, () => pipeline.stats());
  // Every replica sees every event; only the first exports Postfix's numbers, so sums stay right.
  const postfixMetrics =
    slot.index === 0 ? createPostfixMetrics(registry, { hosts: config.DETECTOR_METRICS_HOSTS }) : undefined;
  const js = jetstream(connection);
  const warmupSeconds = Math.min(config.DETECTOR_WARMUP_MAX_SECONDS, longestWindowSeconds(rules));
  await warmUp(connection, pipeline, {
    durable,
    fromMs: now() - warmupSeconds * 1000,
    loginsFromMs: now() - LOGIN_HISTORY_DEFAULTS.forgetAfterMs,
    logger,
  });
  // Aborted first thing at drain, so a publish retry loop never holds up consumer.stop().
  const stopping = new AbortController();
  const rejectionsLogged = new Set<string>();

  const publishAlerts = async (alerts: readonly Alert[]) => {
    for (const alert of alerts) {
      await publishUntilStored(js, alert, stopping.signal, logger, () => metrics.publishErrors.inc());
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
    }
  };
  const observe = (events: readonly PostfixEvent[]) => {
    if (postfixMetrics) for (const event of events) observePostfixEvent(postfixMetrics, event);
  };

  // Serialises the consumer and the tick: the pipeline is synchronous, alert publishing is not.
  let queue: Promise<void> = Promise.resolve();
  const serially = (work: () => Promise<void>) => {
    queue = queue.then(work, work);
    return queue;
  };

  const acks = coalescedAcks();
  const processed = metrics.events.labels("processed");
  type Rejection = Extract<DecodedEvent, { rejected: unknown }>;
  /**
   * A message holding events this detector cannot read is set aside whole as a dead letter once its
   * readable events are processed; counted once per message, since a redelivery (its ack lost)
   * finds the letter stored already.
   */
  const setAside = async (message: JsMsg, rejections: readonly Rejection[]) => {
    const [first] = rejections as [Rejection];
    if (!(await deadLetter(connection, message, first.rejected, first.detail))) return;
    for (const rejection of rejections) {
      metrics.events.labels(rejection.rejected).inc();
      if (rejectionsLogged.has(rejection.rejected)) continue;
      rejectionsLogged.add(rejection.rejected);
      logger.error(
        { reason: rejection.rejected, detail: rejection.detail, seq: message.seq },
        "set aside an event this detector cannot read (first of its kind; all are counted and listed by `postwatch dead-letters`)",
      );
    }
  };
  const consumer = await runDurableConsumer(
    connection,
    // A message is a batch of up to RECEIVER_BATCH_MAX_EVENTS events: 256 in flight is plenty.
    { stream: EVENTS_STREAM, durable, maxAckPending: 256, ackWaitMs: 30_000 },
    (message) =>
      serially(async () => {
        const alerts: Alert[] = [];
        const rejections: Rejection[] = [];
        const wallMs = now();
        const seenMs = Math.min(storedAtMs(message), wallMs);
        for (const decoded of decodeEventMessage(message.data)) {
          if ("rejected" in decoded) {
            rejections.push(decoded);
            continue;
          }
          observe(pipeline.processInto(decoded.event, seenMs, wallMs, Date.parse(decoded.event.ts), alerts));
          processed.inc();
        }
        await publishAlerts(alerts);
        if (rejections.length > 0) await setAside(message, rejections);
        else acks.ack(message);
      }),
    logger,
  );

  const tick = setInterval(() => {
    // A resolve not stored at shutdown is derived again after the restart, from the same state.
    serially(async () => {
      const output = pipeline.tick(now());
      observe(output.events);
      await publishAlerts(output.alerts);
    }).catch(() => undefined);
  }, TICK_MS);
  const jsm = await jetstreamManager(connection);
  const lagPoll = setInterval(() => {
    jsm.consumers.info(EVENTS_STREAM, durable).then(
      (info) => metrics.consumerLag.set(info.num_pending),
      () => undefined,
    );
  }, LAG_POLL_MS);

  return {
    async drain() {
      stopping.abort();
      clearInterval(tick);
      clearInterval(lagPoll);
      await consumer.stop();
      await queue.catch(() => undefined);
      acks.flush();
    },
  };
}

/** Thrown instead of storing an alert at shutdown: its event stays unacked and is redelivered. */
class ShuttingDown extends Error {
  override readonly name = "ShuttingDown";
}

async function publishUntilStored(
  js: JetStreamClient,
  alert: Alert,
  stopping: AbortSignal,
  logger: Logger,
  onError: () => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await js.publish(alertSubject(alert.rule), JSON.stringify(alert), { msgID: alertIdentity(alert) });
      return;
    } catch (error) {
      onError();
      if (attempt === 1)
        logger.warn(
          { error: (error as Error).message },
          "alert publish failed; retrying until JetStream stores it",
        );
      const stopped = await sleep(Math.min(5000, 250 * 2 ** attempt), undefined, { signal: stopping }).then(
        () => false,
        () => true,
      );
      if (stopped) {
        logger.error(
          { rule: alert.rule, fingerprint: alert.fingerprint },
          "alert not stored: shutting down while JetStream is unavailable; its event will be redelivered",
        );
        throw new ShuttingDown("alert not stored at shutdown");
      }
    }
  }
}
