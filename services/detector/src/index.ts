/** The detector as a service: config → event consumer → pipeline → alert publisher. */
import type { ServiceDefinition } from "../../../shared/src/runtime/service.js";
import { type DetectorConfig, loadDetectorConfig } from "./config.js";
import { createDetector } from "./detector.js";

export const detectorService: ServiceDefinition<DetectorConfig> = {
  name: "detector",
  loadConfig: loadDetectorConfig,
  async start(config, { logger, registry, nats }) {
    const detector = await createDetector({ config, logger, registry, connection: nats.connection });
    return { readiness: [], drain: () => detector.drain() };
  },
};
