import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  ConfigError,
  commonConfig,
  type Env,
  env,
  eventPartitionsConfig,
  loadConfig,
  natsConfig,
} from "../../../shared/src/runtime/config.js";
import { RuleConfigError } from "./engine/rule.js";
import type { ReplicaSlot } from "./partition.js";
import { loadRules } from "./rules/index.js";
import type { CorrelationOptions } from "./stages/correlation-stage.js";

/** DETECTOR_RULES is JSON: `{ "sasl_bruteforce": { "threshold": 10, "windowSeconds": 300 } }`. */
const ruleOverrides = z.string().transform((text, context) => {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  context.addIssue({
    code: "custom",
    message: 'must be a JSON object such as {"sasl_bruteforce":{"threshold":10}}',
  });
  return z.NEVER;
});

/** A number, or `auto`: the ordinal a Kubernetes StatefulSet puts at the end of the pod name (HOSTNAME). */
const replicaIndex = z
  .string()
  .default("0")
  .refine((value) => value === "auto" || /^\d+$/.test(value), "must be a whole number ≥ 0, or auto");
export const detectorConfigSchema = z
  .object({
    ...commonConfig,
    ...natsConfig(),
    ...eventPartitionsConfig(),
    DETECTOR_RULES: ruleOverrides.optional(),
    /** A JSON file of rule overrides; DETECTOR_RULES entries win over it. */
    DETECTOR_RULES_FILE: z.string().optional(),
    DETECTOR_MAX_KEYS_PER_RULE: env.positiveInt(250_000),
    /** How far a line's own time may be ahead of its arrival before it is clamped (docs/rules.md). */
    DETECTOR_MAX_CLOCK_AHEAD_SECONDS: env.positiveInt(60),
    /** On start, events this far back (at most; the longest rule window) are re-read to rebuild state. */
    DETECTOR_WARMUP_MAX_SECONDS: env.positiveInt(86_400),
    /** Open messages the correlator follows at once (oldest evicted, counted). */
    CORRELATOR_MAX_MESSAGES: env.positiveInt(100_000),
    /** Postfix's maximal_queue_lifetime (5 days) by default: deferred mail can take that long. */
    CORRELATOR_MAX_MESSAGE_AGE_SECONDS: env.positiveInt(5 * 86_400),
    /**
     * Which detector stages this process runs: `all` (both, in memory, over every event), or one
     * stage of the partitioned detector, `correlate` or `evaluate` (docs/architecture.md).
     */
    DETECTOR_STAGE: z
      .enum(["all", "correlate", "evaluate"], { error: "must be all, correlate or evaluate" })
      .default("all"),
    /** Partitions of the facts between the stages, by rule key; every detector must be given the same count. */
    FACT_PARTITIONS: z.coerce
      .number({ error: "must be a number of partitions, 1 to 1024" })
      .int("must be a whole number")
      .min(1, "must be 1 to 1024")
      .max(1024, "must be 1 to 1024 (each partition is a durable consumer of its own)")
      .default(12),
    /**
     * Detector replicas sharing the work (of their stage, when partitioned): rule keys under `all`,
     * partitions otherwise. Every replica of a stage must be given the same count.
     */
    DETECTOR_REPLICAS: env.positiveInt(1),
    /**
     * The mail servers' host names (as in their syslog lines): always a `host` label of their own in
     * Postfix's metrics, however many spoofed names arrive before them.
     */
    DETECTOR_METRICS_HOSTS: z
      .string()
      .default("")
      .transform((text) => text.split(/[\s,]+/).filter((name) => name !== ""))
      .refine((names) => names.length <= 1000, "at most 1,000 host names"),
    DETECTOR_REPLICA_INDEX: replicaIndex,
    HOSTNAME: z.string().optional(),
  })
  .superRefine((config, context) => {
    const partitions = {
      all: undefined,
      correlate: "EVENT_PARTITIONS",
      evaluate: "FACT_PARTITIONS",
    } as const;
    const shared = partitions[config.DETECTOR_STAGE];
    if (shared !== undefined && config.DETECTOR_REPLICAS > config[shared])
      context.addIssue({
        code: "custom",
        path: ["DETECTOR_REPLICAS"],
        message: `must be at most ${shared} (${config[shared]}) under DETECTOR_STAGE=${config.DETECTOR_STAGE}: a replica shares out partitions, and one without any would idle`,
      });
    const index = replicaIndexOf(config);
    if (index === undefined || index >= config.DETECTOR_REPLICAS) {
      context.addIssue({
        code: "custom",
        path: ["DETECTOR_REPLICA_INDEX"],
        message:
          index === undefined
            ? `is auto, but HOSTNAME (${JSON.stringify(config.HOSTNAME ?? "")}) does not end in -N`
            : `must be below DETECTOR_REPLICAS (${config.DETECTOR_REPLICAS})`,
      });
    }
  });

function replicaIndexOf(config: {
  DETECTOR_REPLICA_INDEX: string;
  HOSTNAME?: string | undefined;
}): number | undefined {
  const text =
    config.DETECTOR_REPLICA_INDEX === "auto"
      ? /-(\d+)$/.exec(config.HOSTNAME ?? "")?.[1]
      : config.DETECTOR_REPLICA_INDEX;
  return text === undefined ? undefined : Number(text);
}

export type DetectorConfig = z.output<typeof detectorConfigSchema>;

/** This replica's share of the rule keys (validated by the schema, so the index is defined). */
export function replicaSlotOf(config: DetectorConfig): ReplicaSlot {
  return { index: replicaIndexOf(config) ?? 0, count: config.DETECTOR_REPLICAS };
}

/** The correlation stage's settings (correlator limits, clock-ahead bound). */
export function correlationOptionsOf(config: DetectorConfig): CorrelationOptions {
  return {
    correlator: {
      maxMessages: config.CORRELATOR_MAX_MESSAGES,
      maxMessageAgeSeconds: config.CORRELATOR_MAX_MESSAGE_AGE_SECONDS,
    },
    maxAheadMs: config.DETECTOR_MAX_CLOCK_AHEAD_SECONDS * 1000,
  };
}

/** The partitions of `partitions` a replica owns: every `count`-th, from its index. */
export function ownedPartitions(slot: ReplicaSlot, partitions: number): number[] {
  return Array.from({ length: partitions }, (_, p) => p).filter((p) => p % slot.count === slot.index);
}

/** Validates the rule overrides too, so a bad threshold stops the detector before it connects anywhere. */
export function loadDetectorConfig(source: Env): DetectorConfig {
  const config = loadConfig(detectorConfigSchema, source);
  let overrides: Record<string, unknown>;
  try {
    overrides = ruleOverridesOf(config);
  } catch (error) {
    throw new ConfigError(`DETECTOR_RULES_FILE: ${(error as Error).message}`);
  }
  try {
    loadRules(overrides);
  } catch (error) {
    if (error instanceof RuleConfigError) {
      throw new ConfigError(error.issues.map((issue) => `DETECTOR_RULES: ${issue}`));
    }
    throw error;
  }
  return config;
}

/** Rule overrides from DETECTOR_RULES_FILE, then DETECTOR_RULES on top (per rule, per field). */
export function ruleOverridesOf(
  config: DetectorConfig,
  read = (path: string) => readFileSync(path, "utf8"),
): Record<string, unknown> {
  const fromFile = config.DETECTOR_RULES_FILE
    ? (JSON.parse(read(config.DETECTOR_RULES_FILE)) as Record<string, unknown>)
    : {};
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [rule, settings] of Object.entries(config.DETECTOR_RULES ?? {})) {
    merged[rule] = { ...((fromFile[rule] as object | undefined) ?? {}), ...(settings as object) };
  }
  return merged;
}
