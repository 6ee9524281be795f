/**
 * The alerter: a durable consumer of the alert stream. Alerts arriving together are batched for a
 * moment (ALERTER_GROUP_WAIT_MS) and handed to the dispatcher; each alert message is acked only once
 * every sink accepted it (or it was a duplicate, or it was given up on).
 */

import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import { Alert } from "../../../shared/src/contracts/alerts.js";
import { ALERTER_DURABLE, ALERTS_STREAM } from "../../../shared/src/contracts/subjects.js";
import { type RunningConsumer, runDurableConsumer } from "../../../shared/src/runtime/consumer.js";
import { describeUrl, type Logger } from "../../../shared/src/runtime/log.js";
import { Batcher } from "./batcher.js";
import type { AlerterConfig } from "./config.js";
import { AlertDispatcher, type Sink } from "./dispatcher.js";
import { postJson } from "./http-sink.js";
import { createAlerterMetrics } from "./metrics.js";
import { signatureHeaders } from "./signature.js";
import { alertTitle, formatSlackBatch } from "./slack.js";

export function configuredSinks(config: AlerterConfig, logger: Logger, now: () => number = Date.now): Sink[] {
  const sinks: Sink[] = [];
  const timeout = config.WEBHOOK_TIMEOUT_MS;
  if (config.SLACK_WEBHOOK_URL) {
    const url = config.SLACK_WEBHOOK_URL;
    sinks.push({
      name: "slack",
      grouping: "grouped",
      send: (alerts) => postJson(url, formatSlackBatch(alerts), timeout),
    });
  }
  if (config.WEBHOOK_URL) {
    const url = config.WEBHOOK_URL;
    const secret = config.WEBHOOK_SECRET;
    const authorization = config.WEBHOOK_AUTHORIZATION;
    const headersFor =
      secret || authorization
        ? (body: string) => ({
            ...(authorization ? { authorization } : {}),
            ...(secret ? signatureHeaders(secret, body, now()) : {}),
          })
        : undefined;
    // The generic webhook's body is exactly one alert (docs/contracts.md), so one request each.
    sinks.push({
      name: "webhook",
      grouping: "each",
      send: ([alert]) => postJson(url, alert, timeout, headersFor),
    });
  }
  if (sinks.length === 0) {
    sinks.push({
      name: "log",
      grouping: "each",
      send: async ([alert]) => {
        if (alert) logger.warn({ alert }, alertTitle(alert));
        return { type: "delivered", status: 0 };
      },
    });
  }
  return sinks;
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
      sinks: sinks.map((s) => s.name),
      slack: config.SLACK_WEBHOOK_URL ? describeUrl(config.SLACK_WEBHOOK_URL) : undefined,
      webhook: config.WEBHOOK_URL ? describeUrl(config.WEBHOOK_URL) : undefined,
      webhookSigned: config.WEBHOOK_SECRET !== undefined,
      webhookAuthorized: config.WEBHOOK_AUTHORIZATION !== undefined,
    },
    "alert sinks configured",
  );
  const dispatcher = new AlertDispatcher(
    sinks,
    {
      dedupWindowMs: config.ALERTER_DEDUP_SECONDS * 1000,
      maxAttempts: config.ALERTER_MAX_ATTEMPTS,
      baseRetryDelayMs: config.ALERTER_RETRY_BASE_MS,
      maxRetryDelayMs: config.ALERTER_RETRY_MAX_MS,
      now,
    },
    {
      sinkResult: (sink, result, seconds) => {
        metrics.sinkRequests.labels(sink, result).inc();
        metrics.sinkDuration.labels(sink).observe(seconds);
      },
    },
  );

  const deliver = async (batch: { alert: Alert; message: JsMsg }[]) => {
    const outcomes = await dispatcher.dispatch(
      batch.map(({ alert, message }) => ({ alert, attempt: message.info.deliveryCount })),
    );
    for (const [index, { alert, message }] of batch.entries()) {
      const outcome = outcomes[index];
      if (!outcome) continue;
      metrics.alertsOutcome.labels(outcome.type).inc();
      const context = { rule: alert.rule, state: alert.state, fingerprint: alert.fingerprint };
      switch (outcome.type) {
        case "delivered":
          logger.info({ ...context, batch: batch.length }, "alert delivered");
          message.ack();
          break;
        case "duplicate":
          logger.debug(context, "alert already delivered; skipped");
          message.ack();
          break;
        case "retry":
          logger.warn(
            { ...context, reasons: outcome.reasons, retryInMs: outcome.delayMs },
            "alert delivery failed; will retry",
          );
          message.nak(outcome.delayMs);
          break;
        case "failed":
          logger.error(
            { ...context, reasons: outcome.reasons, attempts: message.info.deliveryCount },
            "alert delivery given up",
          );
          message.term("delivery failed");
          break;
      }
    }
  };
  const batcher = new Batcher(config.ALERTER_GROUP_WAIT_MS, config.ALERTER_GROUP_MAX, deliver, (error) =>
    logger.error(
      { error: (error as Error).message },
      "alert batch delivery failed; the alerts will be redelivered",
    ),
  );

  const consumer: RunningConsumer = await runDurableConsumer(
    connection,
    { stream: ALERTS_STREAM, durable: ALERTER_DURABLE, maxAckPending: 256, ackWaitMs: 60_000 },
    async (message) => {
      let alert: Alert;
      try {
        alert = Alert.parse(message.json());
      } catch (error) {
        metrics.alertsInvalid.inc();
        logger.error(
          { seq: message.seq, error: (error as Error).message.slice(0, 500) },
          "dropped a message that is not a valid alert",
        );
        message.term("invalid alert");
        return;
      }
      metrics.alertsReceived.labels(alert.rule, alert.state).inc();
      batcher.add({ alert, message });
    },
    logger,
  );
  return {
    sinks: sinks.map((s) => s.name),
    async stop() {
      await consumer.stop();
      await batcher.drain();
    },
  };
}
