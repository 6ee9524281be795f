/**
 * The thread side of service-worker.ts: loads one service definition, starts it as runServices
 * would (config from the environment, a logger, a registry, a NATS connection), answers metrics
 * questions, and drains on request.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Registry } from "prom-client";
import { natsSettings } from "./config.js";
import { createLogger, logFormatFor } from "./log.js";
import { connectNats } from "./nats.js";
import type { CommonServiceConfig, ServiceDefinition, ServiceHandle } from "./service.js";
import type { ProcessMessage, ServiceWorkerData, ThreadMessage } from "./service-worker.js";

const data = workerData as ServiceWorkerData;
const port = parentPort as NonNullable<typeof parentPort>;
const post = (message: ThreadMessage) => port.postMessage(message);

try {
  const definition = (await import(data.source.module))[data.source.exportName] as ServiceDefinition;
  const config = definition.loadConfig(data.env) as CommonServiceConfig;
  const logger = createLogger({
    level: config.LOG_LEVEL,
    service: data.processName,
    format: logFormatFor(config.LOG_FORMAT, data.stdoutIsTerminal),
    stdoutIsTerminal: data.stdoutIsTerminal,
  }).child({ component: definition.name });
  // No default metrics here: the process's registry has them, and they are the process's, not a thread's.
  const registry = new Registry();
  const nats = await connectNats(
    natsSettings(config, `postwatch-${data.processName}-${definition.name}`),
    logger,
  );
  let handle: ServiceHandle;
  try {
    handle = await definition.start(config, { logger, registry, nats });
  } catch (error) {
    await nats.connection.close().catch(() => undefined);
    throw error;
  }
  let connected = nats.isConnected();
  const natsState = setInterval(() => {
    if (nats.isConnected() !== connected) {
      connected = nats.isConnected();
      post({ type: "nats", connected });
    }
  }, 1000);
  natsState.unref();
  port.on("message", (message: ProcessMessage) => {
    if (message.type === "metrics") {
      registry.metrics().then(
        (text) => post({ type: "metrics", id: message.id, text }),
        () => post({ type: "metrics", id: message.id, text: "" }),
      );
    } else if (message.type === "drain") {
      clearInterval(natsState);
      void (async () => {
        try {
          await handle.drain();
          await nats.connection.drain();
        } catch (error) {
          logger.error({ error: (error as Error).message }, "drain failed; stopping anyway");
        }
        post({ type: "drained" });
        port.close();
      })();
    }
  });
  post({ type: "started", banner: handle.banner });
} catch (error) {
  const { name, message, stack, code } = error as NodeJS.ErrnoException;
  post({ type: "failed", name, message, stack, code });
}
