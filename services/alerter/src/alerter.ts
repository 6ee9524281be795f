/**
 * The alerter: one durable consumer of the alert stream per destination, each feeding that
 * destination's own queue (sink-queue.ts), so a destination that hangs or fails delays only
 * itself. An alert message is acked once its destination is done with it: delivered, a duplicate,
 * not routed there, or given up. Until then it is kept from redelivery, and a crash hands it out
 * again after ALERTER_REDELIVERY_SECONDS; the delivery log then skips what was already taken.
 */
import { DeliverPolicy, type JsMsg, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import { Alert } from "../../../shared/src/contracts/alerts.js";
import {
  ALERTS_STREAM,
  alerterDurable,
  LEGACY_ALERTER_DURABLE,
} from "../../../shared/src/contracts/subjects.js";
import {
  type ConsumerStart,
  type RunningConsumer,
  runDurableConsumer,
} from "../../../shared/src/runtime/consumer.js";
import { deadLetter } from "../../../shared/src/runtime/dead-letters.js";
import { describeUrl, type Logger } from "../../../shared/src/runtime/log.js";
import { type AlerterConfig, configuredDestinations } from "./config.js";
import { openDeliveryLog } from "./delivery-log.js";
import { type AlerterMetrics, createAlerterMetrics } from "./metrics.js";
import { neutraliseAlert } from "./neutral-text.js";
import { type SinkOutcome, SinkQueue, type SinkQueueOptions } from "./sink-queue.js";
import { destinationSink, logSink, type Sink } from "./sinks.js";

/** A destination seen for the first time gets the alerts of the last hour, not the stream's 30 days. */
const NEW_DESTINATION_BACKLOG_MS = 3600_000;
/** Alerts a destination holds in flight; beyond it, JetStream waits for that destination alone. */
const MAX_IN_FLIGHT = 1000;

export function configuredSinks(config: AlerterConfig, logger: Logger, now: () => number = Date.now): Sink[] {
  const destinations = configuredDestinations(config);
  if (destinations.length === 0) return [logSink(logger)];
  return destinations.map((destination) => destinationSink(destination, config.WEBHOOK_TIMEOUT_MS, now));
}

export interface AlerterService {
  readonly sinks: readonly string[];
  stop(): Promise<void>;
}

export async function createAlerter(deps: {
  config: AlerterConfig;
  logger: Logger;
  registry: Registry;
  connection: NatsConnection;
  now?: () => number;
}): Promise<AlerterService> {
  const { config, logger, registry, connection, now = Date.now } = deps;
  const metrics = createAlerterMetrics(registry);
  const sinks = configuredSinks(config, logger, now);
  logger.info(
    {
      destinations: configuredDestinations(config).map((d) => ({
        name: d.name,
        type: d.type,
        host: describeUrl(d.url),
        minSeverity: d.minSeverity,
        ...(d.rules ? { rules: d.rules } : {}),
        ...(d.type === "webhook"
          ? { signed: d.secret !== undefined, authorized: d.authorization !== undefined }
          : {}),
      })),
      sinks: sinks.map((s) => s.name),
    },
    "alert sinks configured",
  );
  const deliveries = await openDeliveryLog(
    connection,
    config.ALERTER_DEDUP_SECONDS * 1000,
    config.NATS_STREAM_REPLICAS,
  );
  const start = await startOfNewConsumers(connection, now);
  const options: SinkQueueOptions = {
    groupWaitMs: config.ALERTER_GROUP_WAIT_MS,
    groupMax: config.ALERTER_GROUP_MAX,
    maxAttempts: config.ALERTER_MAX_ATTEMPTS,
    baseRetryDelayMs: config.ALERTER_RETRY_BASE_MS,
    maxRetryDelayMs: config.ALERTER_RETRY_MAX_MS,
  };
  const running = await Promise.all(
    sinks.map((sink) =>
      runDestination(sink, { connection, logger, metrics, options, deliveries, start, config }),
    ),
  );
  // Every destination now has its own consumer; the single one of older versions would only hold
  // its undelivered alerts forever.
  await jetstreamManager(connection)
    .then((jsm) => jsm.consumers.delete(ALERTS_STREAM, LEGACY_ALERTER_DURABLE))
    .catch(() => undefined);
  return {
    sinks: sinks.map((s) => s.name),
    async stop() {
      await Promise.all(running.map((destination) => destination.stop()));
    },
  };
}

/**
 * Where a destination's new consumer starts: where the single consumer of older versions had got
 * to, or an hour back.
 */
async function startOfNewConsumers(connection: NatsConnection, now: () => number): Promise<ConsumerStart> {
  const jsm = await jetstreamManager(connection);
  try {
    const legacy = await jsm.consumers.info(ALERTS_STREAM, LEGACY_ALERTER_DURABLE);
    return { policy: DeliverPolicy.StartSequence, seq: legacy.ack_floor.stream_seq + 1 };
  } catch {
    return { policy: DeliverPolicy.StartTime, time: new Date(now() - NEW_DESTINATION_BACKLOG_MS) };
  }
}

async function runDestination(
  sink: Sink,
  deps: {
    connection: NatsConnection;
    logger: Logger;
    metrics: AlerterMetrics;
    options: SinkQueueOptions;
    deliveries: Awaited<ReturnType<typeof openDeliveryLog>>;
    start: ConsumerStart;
    config: AlerterConfig;
  },
): Promise<{ stop(): Promise<void> }> {
  const { logger, metrics, config } = deps;
  const destination = sink.name;
  const outcomes = metrics.alertsOutcome;
  const queue = new SinkQueue(sink, deps.deliveries, deps.options, {
    request: (result, seconds) => {
      metrics.sinkRequests.labels(destination, result).inc();
      metrics.sinkDuration.labels(destination).observe(seconds);
    },
    retry: (alerts, reasons, delayMs) => {
      outcomes.labels(destination, "retry").inc(alerts.length);
      logger.warn(
        {
          destination,
          alerts: alerts.length,
          fingerprints: alerts.map((a) => a.fingerprint),
          reasons,
          retryInMs: delayMs,
        },
        "alert delivery failed; will retry",
      );
    },
    recordFailed: (error) =>
      logger.error(
        { destination, error: (error as Error).message },
        "alert delivered but not recorded yet; retrying, and a restart now would send it again",
      ),
  });
  // Messages a destination still owes are kept from redelivery while it retries.
  const inFlight = new Set<JsMsg>();
  const redeliveryMs = config.ALERTER_REDELIVERY_SECONDS * 1000;
  const keepAlive = setInterval(() => {
    for (const message of inFlight) message.working();
  }, redeliveryMs / 3);

  const settle = (message: JsMsg, alert: Alert) => (outcome: SinkOutcome) => {
    inFlight.delete(message);
    outcomes.labels(destination, outcome.type).inc();
    const context = { destination, rule: alert.rule, state: alert.state, fingerprint: alert.fingerprint };
    switch (outcome.type) {
      case "delivered":
        logger.info(context, "alert delivered");
        break;
      case "duplicate":
      case "resolved_unseen":
      case "filtered":
        logger.debug({ ...context, outcome: outcome.type }, "alert not sent");
        break;
      case "failed":
        logger.error(
          { ...context, reasons: outcome.reasons, attempts: outcome.attempts },
          "alert delivery given up; set aside for `postwatch dead-letters --resend`",
        );
        // Acked once stored as a dead letter; if that fails it comes back, and is set aside then.
        deadLetter(
          deps.connection,
          message,
          "delivery_failed",
          outcome.reasons.join("; "),
          destination,
        ).catch(() => message.nak(config.ALERTER_RETRY_BASE_MS));
        return;
      case "deferred":
        logger.warn(
          { ...context, error: outcome.reason },
          "delivery records unreadable; the alert will come again",
        );
        message.nak(config.ALERTER_RETRY_BASE_MS);
        return;
    }
    // Given-up alerts are acked too: a terminated message comes back on some server versions.
    message.ack();
  };

  const consumer: RunningConsumer = await runDurableConsumer(
    deps.connection,
    {
      stream: ALERTS_STREAM,
      durable: alerterDurable(destination),
      maxAckPending: MAX_IN_FLIGHT,
      ackWaitMs: redeliveryMs,
      start: deps.start,
    },
    async (message) => {
      let alert: Alert;
      try {
        alert = neutraliseAlert(Alert.parse(message.json()));
      } catch (error) {
        const detail = (error as Error).message.slice(0, 500);
        if (!(await deadLetter(deps.connection, message, "invalid_alert", detail, destination))) return;
        metrics.alertsInvalid.labels(destination).inc();
        logger.error(
          { destination, seq: message.seq, error: detail },
          "set aside a message that is not a valid alert",
        );
        return;
      }
      metrics.alertsReceived.labels(destination, alert.rule, alert.state).inc();
      inFlight.add(message);
      queue.add({ alert, settle: settle(message, alert) });
    },
    logger,
  );
  return {
    async stop() {
      await consumer.stop();
      await queue.stop();
      clearInterval(keepAlive);
    },
  };
}
