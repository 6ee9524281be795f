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
    const listening = receiver.listeners.map(
      (listener) => `${listener.transport.toUpperCase()} ${config.SYSLOG_HOST}:${listener.port}`,
    );
    return {
      readiness: [receiver.readiness],
      banner: { syslog: listening.join(", ") },
      drain: () => receiver.drain(),
    };
  },
};
