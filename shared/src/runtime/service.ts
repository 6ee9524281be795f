/**
 * Running services: one process runs one service (`postwatch receiver`) or all three
 * (`postwatch start`) the same way — config validated first, one NATS connection, streams declared,
 * one /metrics + /healthz + /readyz server, and an orderly drain on SIGINT/SIGTERM.
 */
import { collectDefaultMetrics, Registry } from "prom-client";
import { ConfigError, type Env, type NatsConfig, natsSettings } from "./config.js";
import { type ObservabilityServer, type ReadinessCheck, startObservabilityServer } from "./http.js";
import { createLogger, describeUrl, type Logger, logFormatFor } from "./log.js";
import { connectNats, DEFAULT_STREAM_LIMITS, ensureStreams, type NatsHandle } from "./nats.js";

export interface CommonServiceConfig extends NatsConfig {
  LOG_LEVEL: string;
  LOG_FORMAT: string;
  METRICS_HOST: string;
  METRICS_PORT: number;
}

export interface ServiceContext {
  logger: Logger;
  registry: Registry;
  nats: NatsHandle;
}

export interface ServiceHandle {
  readiness: ReadinessCheck[];
  /** What the service serves and where, for the start banner: `{ syslog: "TCP 0.0.0.0:5514" }`. */
  banner?: Record<string, string>;
  /** Orderly stop: finish in-flight work, flush, release resources. */
  drain(): Promise<void>;
  /**
   * Metrics kept outside the process's registry (a service on its own thread), as Prometheus text:
   * served on the same /metrics. Their names must not repeat the registry's.
   */
  metrics?(): Promise<string>;
}

export interface ServiceDefinition<C extends CommonServiceConfig = CommonServiceConfig> {
  name: string;
  loadConfig(env: Env): C;
  start(config: C, context: ServiceContext): Promise<ServiceHandle>;
}

/** How long each service, and then the NATS connection, may take to drain before it is cut off. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

export interface RunningServices {
  readonly metricsPort: number;
  readonly logger: Logger;
  readonly handles: readonly ServiceHandle[];
  stop(): Promise<void>;
}

/** Each loader's config, or one ConfigError with the problems of all of them (each named once). */
export function loadConfigs<C>(loaders: readonly ((env: Env) => C)[], env: Env): C[] {
  const configs: C[] = [];
  const problems = new Set<string>();
  for (const load of loaders) {
    try {
      configs.push(load(env));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) problems.add(problem);
    }
  }
  if (problems.size > 0) throw new ConfigError([...problems]);
  return configs;
}

/**
 * Starts the given services in order (start them downstream-first: alerter, detector, receiver) and
 * stops them in reverse, so the receiver drains into NATS before its consumers go.
 */
export async function runServices(
  // biome-ignore lint/suspicious/noExplicitAny: each definition carries its own config type
  definitions: readonly ServiceDefinition<any>[],
  env: Env,
  options: {
    processName: string;
    onStopped?: () => Promise<void>;
    shutdownDeadlineMs?: number;
    /** Where NATS runs, for the banner, when the caller knows more than NATS_URL says. */
    natsDescription?: string;
  },
): Promise<RunningServices> {
  const deadlineMs = options.shutdownDeadlineMs ?? SHUTDOWN_DEADLINE_MS;
  const configs = loadConfigs<CommonServiceConfig>(
    definitions.map((definition) => definition.loadConfig),
    env,
  );
  const first = configs[0] as CommonServiceConfig;
  const logger = createLogger({
    level: first.LOG_LEVEL,
    service: options.processName,
    format: logFormatFor(first.LOG_FORMAT, process.stdout.isTTY === true),
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges `_total`, which Prometheus reserves for counters (promtool flags
  // them); the same numbers remain in nodejs_active_{handles,requests,resources} by type.
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ]) {
    registry.removeSingleMetric(name);
  }

  const nats = await connectNats(natsSettings(first, `postwatch-${options.processName}`), logger);
  const handles: ServiceHandle[] = [];
  let server: ObservabilityServer;
  try {
    await ensureStreams(
      nats.connection,
      { limits: DEFAULT_STREAM_LIMITS, replicas: first.NATS_STREAM_REPLICAS },
      logger,
    );
    for (const [index, definition] of definitions.entries()) {
      const context = { logger: logger.child({ component: definition.name }), registry, nats };
      handles.push(await definition.start(configs[index], context));
    }
    const natsReady: ReadinessCheck = () => ({
      ready: nats.isConnected(),
      detail: nats.isConnected() ? "NATS connected" : "NATS disconnected",
    });
    server = await startObservabilityServer({
      host: first.METRICS_HOST,
      port: first.METRICS_PORT,
      registry,
      moreMetrics: handles.flatMap((h) => (h.metrics ? [() => h.metrics?.() ?? Promise.resolve("")] : [])),
      readiness: [natsReady, ...handles.flatMap((h) => h.readiness)],
    });
  } catch (error) {
    // A service that cannot start (a port in use, say) must not leave the others running.
    for (const handle of [...handles].reverse()) await handle.drain().catch(() => undefined);
    await nats.connection.close().catch(() => undefined);
    throw error;
  }
  const banner: Record<string, string> = {
    ...Object.assign({}, ...[...handles].reverse().map((handle) => handle.banner)),
    NATS: options.natsDescription ?? first.NATS_URL.map(describeUrl).join(", "),
    metrics: `http://${first.METRICS_HOST}:${server.port}/metrics (and /healthz, /readyz)`,
  };
  logger.info({ services: definitions.map((d) => d.name), banner }, "postwatch running");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      for (const [index, handle] of [...handles.entries()].reverse())
        await withinDeadline(
          handle.drain(),
          deadlineMs,
          logger,
          (definitions[index] as ServiceDefinition).name,
        );
      await withinDeadline(nats.connection.drain(), deadlineMs, logger, "NATS connection");
      // A drain cut off (NATS away, say) leaves the client reconnecting forever: stop it too.
      if (!nats.connection.isClosed()) await nats.connection.close().catch(() => undefined);
      await server.close();
      await options.onStopped?.();
      logger.info("postwatch stopped");
    })();
    return stopping;
  };
  return { metricsPort: server.port, logger, handles, stop };
}

/**
 * Waits for one part's drain, at most `deadlineMs`: a stop that cannot finish (a server that
 * never answers) is logged and left behind rather than holding the process. A drain that fails is
 * logged too, and the next part still stops.
 */
async function withinDeadline(
  drain: Promise<void>,
  deadlineMs: number,
  logger: Logger,
  part: string,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), deadlineMs);
  });
  try {
    if ((await Promise.race([drain, deadline])) === "late")
      logger.error({ part, deadlineMs }, "drain did not finish in time; stopping anyway");
  } catch (error) {
    logger.error({ part, error: (error as Error).message }, "drain failed; stopping anyway");
  } finally {
    clearTimeout(timer);
  }
}

/** Stops on the first SIGINT or SIGTERM; a second one exits at once. */
export function stopOnSignals(services: RunningServices): void {
  const { logger } = services;
  let received = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) process.exit(130);
    received = true;
    logger.info({ signal }, "draining");
    services.stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ error: error.message }, "error while draining");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
