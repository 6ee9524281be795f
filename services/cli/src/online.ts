/** The service commands: one service each, or `start` with all three and, without NATS_URL, a private nats-server. */
import { join } from "node:path";
import type { Env } from "../../../shared/src/runtime/config.js";
import { startEmbeddedNats } from "../../../shared/src/runtime/embedded-nats.js";
import {
  type RunningServices,
  runServices,
  type ServiceDefinition,
} from "../../../shared/src/runtime/service.js";
import { alerterService } from "../../alerter/src/index.js";
import { detectorService } from "../../detector/src/index.js";
import { receiverService } from "../../receiver/src/index.js";

export const SERVICES = {
  receiver: receiverService,
  detector: detectorService,
  alerter: alerterService,
} as const;
export type ServiceName = keyof typeof SERVICES;

export function runOne(name: ServiceName, env: Env): Promise<RunningServices> {
  return runServices([SERVICES[name] as ServiceDefinition], env, { processName: name });
}

/** Placeholder used only to validate the rest of the config before a private nats-server exists. */
export const VALIDATION_NATS_URL = "nats://127.0.0.1:4222";

/** Downstream first, so nothing the receiver publishes waits for a consumer that is still starting. */
const START_ORDER = [alerterService, detectorService, receiverService] as ServiceDefinition[];

export async function runAll(env: Env): Promise<RunningServices> {
  if (env.NATS_URL) return runServices(START_ORDER, env, { processName: "postwatch" });
  // Fail on a bad value before starting a child process.
  for (const service of START_ORDER) service.loadConfig({ ...env, NATS_URL: VALIDATION_NATS_URL });
  const storeDir = env.POSTWATCH_DATA_DIR ?? join(process.cwd(), ".postwatch", "nats");
  const nats = await startEmbeddedNats({ storeDir, env });
  try {
    return await runServices(
      START_ORDER,
      { ...env, NATS_URL: nats.url },
      { processName: "postwatch", onStopped: () => nats.stop() },
    );
  } catch (error) {
    await nats.stop();
    throw error;
  }
}
