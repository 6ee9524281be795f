/**
 * DETECTOR_STAGE=all (the default): both stages in one process, in memory (DetectionPipeline), over
 * every event partition with one durable consumer. Replicas (DETECTOR_REPLICAS) each read
 * everything and own a share of the rule keys.
 */

import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import { decodeEventMessage } from "../../../../shared/src/contracts/event-batch.js";
import { eventTimeMs } from "../../../../shared/src/contracts/event-time.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { DETECTOR_DURABLE, EVENTS_STREAM } from "../../../../shared/src/contracts/subjects.js";
import { storedAtMs } from "../../../../shared/src/runtime/consumer.js";
import { correlationOptionsOf, replicaSlotOf } from "../config.js";
import { LOGIN_HISTORY_DEFAULTS } from "../engine/login-history.js";
import { ownsKey, replicaDurable } from "../partition.js";
import { DetectionPipeline, TICK_MS } from "../pipeline.js";
import { createPostfixMetrics, observePostfixEvent } from "../postfix-metrics.js";
import { warmUp } from "../warmup.js";
import type { StageService } from "./runtime.js";

export const runBothStages: StageService = async ({
  config,
  rules,
  logger,
  registry,
  connection,
  runtime,
  metrics,
  now,
  warmupSeconds,
}) => {
  const slot = replicaSlotOf(config);
  const durable = replicaDurable(DETECTOR_DURABLE, slot);
  const pipeline = new DetectionPipeline({
    ownsKey: (type, value) => ownsKey(slot, type, value),
    rules,
    maxKeysPerRule: config.DETECTOR_MAX_KEYS_PER_RULE,
    ...correlationOptionsOf(config),
  });
  // Every replica sees every event; only the first exports Postfix's numbers, so sums stay right.
  const postfixMetrics =
    slot.index === 0 ? createPostfixMetrics(registry, { hosts: config.DETECTOR_METRICS_HOSTS }) : undefined;
  const observe = (events: readonly PostfixEvent[]) => {
    if (postfixMetrics) for (const event of events) observePostfixEvent(postfixMetrics, event);
  };
  await warmUp(connection, pipeline, {
    durable,
    fromMs: now() - warmupSeconds * 1000,
    loginsFromMs: now() - LOGIN_HISTORY_DEFAULTS.forgetAfterMs,
    logger,
  });
  await runtime.consume(
    { stream: EVENTS_STREAM, durable, consumers: 1, decode: decodeEventMessage, outcomes: metrics.events },
    async (items, message) => {
      const alerts: Alert[] = [];
      const wallMs = now();
      const seenMs = Math.min(storedAtMs(message), wallMs);
      for (const { event } of items)
        observe(pipeline.processInto(event, seenMs, wallMs, eventTimeMs(event.ts), alerts));
      await runtime.publishAlerts(alerts);
    },
  );
  runtime.every(TICK_MS, async () => {
    const output = pipeline.tick(now());
    observe(output.events);
    await runtime.publishAlerts(output.alerts);
  });
  return () => pipeline.stats();
};
