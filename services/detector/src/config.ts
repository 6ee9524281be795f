import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  ConfigError,
  commonConfig,
  type Env,
  env,
  loadConfig,
  natsConfig,
} from "../../../shared/src/runtime/config.js";
import { RuleConfigError } from "./engine/rule.js";
import { loadRules } from "./rules/index.js";

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

/** A number, or `auto`: the ordinal a Kubernetes StatefulSet puts at the end of the pod name. */
const replicaIndex = z
  .string()
  .default("0")
  .transform((value, context) => {
    const text = value === "auto" ? /-(\d+)$/.exec(process.env.HOSTNAME ?? "")?.[1] : value;
    const index = Number(text);
    if (text === undefined || !Number.isInteger(index) || index < 0) {
      context.addIssue({
        code: "custom",
        message: "must be a whole number ≥ 0, or auto (from a HOSTNAME ending in -N)",
      });
      return z.NEVER;
    }
    return index;
  });

export const detectorConfigSchema = z
  .object({
    ...commonConfig,
    ...natsConfig(),
    DETECTOR_RULES: ruleOverrides.optional(),
    /** A JSON file of rule overrides; DETECTOR_RULES entries win over it. */
    DETECTOR_RULES_FILE: z.string().optional(),
    DETECTOR_MAX_KEYS_PER_RULE: env.positiveInt(250_000),
    /** On start, events this far back (at most; the longest rule window) are re-read to rebuild state. */
    DETECTOR_WARMUP_MAX_SECONDS: env.positiveInt(86_400),
    /** Open messages the correlator follows at once (oldest evicted, counted). */
    CORRELATOR_MAX_MESSAGES: env.positiveInt(100_000),
    /** Postfix's maximal_queue_lifetime (5 days) by default: deferred mail can take that long. */
    CORRELATOR_MAX_MESSAGE_AGE_SECONDS: env.positiveInt(5 * 86_400),
    /** Detector replicas sharing the rule keys; every replica must be given the same count. */
    DETECTOR_REPLICAS: env.positiveInt(1),
    DETECTOR_REPLICA_INDEX: replicaIndex,
  })
  .superRefine((config, context) => {
    if (config.DETECTOR_REPLICA_INDEX >= config.DETECTOR_REPLICAS) {
      context.addIssue({
        code: "custom",
        path: ["DETECTOR_REPLICA_INDEX"],
        message: `must be below DETECTOR_REPLICAS (${config.DETECTOR_REPLICAS})`,
      });
    }
  });

export type DetectorConfig = z.output<typeof detectorConfigSchema>;

/** Validates the rule overrides too, so a bad threshold stops the detector before it connects anywhere. */
export function loadDetectorConfig(source: Env): DetectorConfig {
  const config = loadConfig(detectorConfigSchema, source);
  let overrides: Record<string, unknown>;
  try {
    overrides = ruleOverridesOf(config);
  } catch (error) {
    throw new ConfigError(`invalid configuration: DETECTOR_RULES_FILE: ${(error as Error).message}`);
  }
  try {
    loadRules(overrides);
  } catch (error) {
    if (error instanceof RuleConfigError) {
      throw new ConfigError(`invalid configuration: DETECTOR_RULES: ${error.issues.join("; ")}`);
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
