/**
 * The detector service: wires the stage DETECTOR_STAGE names (service/) to NATS, the metrics and
 * the rules. `all` runs both stages in memory over every event (service/all.ts); `correlate` and
 * `evaluate` are the two stages of the partitioned detector (service/correlate.ts,
 * service/evaluate.ts), with facts on JetStream between them.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import type { Logger } from "../../../shared/src/runtime/log.js";
import { type DetectorConfig, replicaSlotOf, ruleOverridesOf } from "./config.js";
import { createDetectorMetrics } from "./metrics.js";
import type { PipelineStats } from "./pipeline.js";
import { loadRules } from "./rules/index.js";
import { runBothStages } from "./service/all.js";
import { runCorrelation } from "./service/correlate.js";
import { runEvaluation } from "./service/evaluate.js";
import { createStageRuntime, type StageService } from "./service/runtime.js";
import { combinedStats } from "./stages/stats.js";
import { longestWindowSeconds } from "./warmup.js";

export interface DetectorService {
  drain(): Promise<void>;
}

const STAGES: Record<DetectorConfig["DETECTOR_STAGE"], StageService> = {
  all: runBothStages,
  correlate: runCorrelation,
  evaluate: runEvaluation,
};

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
  logger.info(
    {
      rules: rules.filter((r) => r.settings.enabled).map((r) => r.id),
      stage: config.DETECTOR_STAGE,
      replica: slot.index,
      replicas: slot.count,
    },
    "detection rules loaded",
  );
  // Scraped before the stage has started: empty until then.
  let stats = (): PipelineStats => combinedStats([], []);
  const metrics = createDetectorMetrics(registry, () => stats());
  const runtime = createStageRuntime({ connection, logger, metrics });
  const warmupSeconds = Math.min(config.DETECTOR_WARMUP_MAX_SECONDS, longestWindowSeconds(rules));
  try {
    stats = await STAGES[config.DETECTOR_STAGE]({
      config,
      rules,
      logger,
      registry,
      connection,
      runtime,
      metrics,
      now,
      warmupSeconds,
    });
  } catch (error) {
    await runtime.drain();
    throw error;
  }
  return { drain: () => runtime.drain() };
}
