/** The service commands: one service each, or `start` with all three and, without NATS_URL, a private nats-server. */
import { join } from "node:path";
import type { Env } from "../../../shared/src/runtime/config.js";
import { startEmbeddedNats } from "../../../shared/src/runtime/embedded-nats.js";
import {
  loadConfigs,
  type RunningServices,
  runServices,
  type ServiceDefinition,
} from "../../../shared/src/runtime/service.js";
import { onThread } from "../../../shared/src/runtime/service-worker.js";
import { alerterConfigSchema } from "../../alerter/src/config.js";
import { alerterService } from "../../alerter/src/index.js";
import { detectorConfigSchema } from "../../detector/src/config.js";
import { detectorService } from "../../detector/src/index.js";
import { receiverConfigSchema } from "../../receiver/src/config.js";
import { receiverService } from "../../receiver/src/index.js";
import { loadStartConfig, type StartConfig, startConfigSchema } from "./start-config.js";

export const SERVICES = {
  receiver: receiverService,
  detector: detectorService,
  alerter: alerterService,
} as const;
export type ServiceName = keyof typeof SERVICES;

/** Every config schema, by who reads it: the variables postwatch knows (docs/configuration.md lists them). */
export const CONFIG_SCHEMAS = {
  receiver: receiverConfigSchema,
  detector: detectorConfigSchema,
  alerter: alerterConfigSchema,
  start: startConfigSchema,
} as const;

export const knownVariables = (): ReadonlySet<string> =>
  new Set(Object.values(CONFIG_SCHEMAS).flatMap((schema) => Object.keys(schema.shape)));

export function runOne(name: ServiceName, env: Env): Promise<RunningServices> {
  return runServices([SERVICES[name] as ServiceDefinition], env, { processName: name });
}

/** Placeholder used only to validate the rest of the config before a private nats-server exists. */
export const VALIDATION_NATS_URL = "nats://127.0.0.1:4222";

/**
 * Downstream first, so nothing the receiver publishes waits for a consumer that is still starting.
 * The detector, the most work per line, runs on a thread of its own, so that reading and parsing
 * lines and detecting on them use two cores rather than taking turns on one.
 */
const startOrder = (env: Env): ServiceDefinition[] =>
  [
    alerterService,
    onThread(
      detectorService,
      { module: new URL("../../detector/src/index.js", import.meta.url).href, exportName: "detectorService" },
      env,
      PROCESS_NAME,
    ),
    receiverService,
  ] as ServiceDefinition[];
const PROCESS_NAME = "postwatch";

export async function runAll(env: Env): Promise<RunningServices> {
  // Every service's problems at once, and before a child process is started.
  const [start] = loadConfigs<unknown>(
    [loadStartConfig, ...startOrder(env).map((service) => service.loadConfig)],
    env.NATS_URL ? env : { ...env, NATS_URL: VALIDATION_NATS_URL },
  ) as [StartConfig];
  if (env.NATS_URL) return runServices(startOrder(env), env, { processName: PROCESS_NAME });
  const storeDir = start.POSTWATCH_DATA_DIR ?? join(process.cwd(), ".postwatch", "nats");
  const nats = await startEmbeddedNats({ storeDir, env });
  try {
    const withNats = { ...env, NATS_URL: nats.url };
    return await runServices(startOrder(withNats), withNats, {
      processName: PROCESS_NAME,
      onStopped: () => nats.stop(),
      natsDescription: `a private nats-server on ${nats.url.replace("nats://", "")} (pid ${nats.process.pid}), data in ${storeDir}`,
    });
  } catch (error) {
    await nats.stop();
    throw error;
  }
}
