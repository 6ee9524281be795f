/** The receiver as a service: config → listeners + publisher, nothing else. */
import type { ServiceDefinition } from "../../../shared/src/runtime/service.js";
import { loadReceiverConfig, type ReceiverConfig } from "./config.js";
import { createReceiver } from "./receiver.js";

export const receiverService: ServiceDefinition<ReceiverConfig> = {
  name: "receiver",
  loadConfig: loadReceiverConfig,
  async start(config, { logger, registry, nats }) {
    const receiver = await createReceiver({
      config,
      logger,
      registry,
      connection: nats.connection,
    });
    return { readiness: [receiver.readiness], drain: () => receiver.drain() };
  },
};
