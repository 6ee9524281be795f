/** The alerter as a service: config → durable alert consumer → sinks. */
import type { ServiceDefinition } from "../../../shared/src/runtime/service.js";
import { createAlerter } from "./alerter.js";
import { type AlerterConfig, loadAlerterConfig } from "./config.js";

export const alerterService: ServiceDefinition<AlerterConfig> = {
  name: "alerter",
  loadConfig: loadAlerterConfig,
  async start(config, { logger, registry, nats }) {
    const alerter = await createAlerter({ config, logger, registry, connection: nats.connection });
    return {
      readiness: [() => ({ ready: true, detail: `alert sinks: ${alerter.sinks.join(", ")}` })],
      banner: {
        alerts:
          alerter.sinks.join() === "log"
            ? "printed here; set SLACK_WEBHOOK_URL, WEBHOOK_URL or ALERTER_DESTINATIONS to deliver them"
            : `to ${alerter.sinks.join(", ")}`,
      },
      drain: () => alerter.stop(),
    };
  },
};
