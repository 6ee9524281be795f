/**
 * The whole pipeline as `postwatch start` runs it, for a test: a private nats-server, receiver,
 * detector and alerter in this process, syslog on a free loopback port, and a local webhook server
 * (`/hook` for the generic webhook, `/slack` when asked) recording what the alerter delivers.
 */

import { runAll } from "../../services/cli/src/online.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { startTestNats, type TestNats } from "./nats-server.js";
import { freePort } from "./ports.js";
import { loopbackServiceEnv } from "./service-env.js";
import { startWebhookServer, type WebhookServer } from "./webhook-server.js";

export interface TestPipeline {
  nats: TestNats;
  webhook: WebhookServer;
  services: RunningServices;
  syslogPort: number;
  /** Stops the services and starts them again on the same NATS, webhook server and ports. */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTestPipeline(
  options: { slack?: boolean; env?: Record<string, string> } = {},
): Promise<TestPipeline> {
  const nats = await startTestNats();
  const webhook = await startWebhookServer();
  const syslogPort = await freePort();
  const env = {
    ...nats.env,
    ...loopbackServiceEnv({
      natsUrl: nats.url,
      metricsPort: 0,
      syslogPort,
      webhookUrl: `${webhook.url}/hook`,
    }),
    SYSLOG_UDP_PORT: String(syslogPort),
    ...(options.slack ? { SLACK_WEBHOOK_URL: `${webhook.url}/slack` } : {}),
    ALERTER_RETRY_BASE_MS: "100",
    LOG_LEVEL: "silent",
    ...options.env,
  };
  const pipeline: TestPipeline = {
    nats,
    webhook,
    services: await runAll(env),
    syslogPort,
    async restart() {
      await pipeline.services.stop();
      pipeline.services = await runAll(env);
    },
    async [Symbol.asyncDispose]() {
      await pipeline.services.stop();
      await webhook[Symbol.asyncDispose]();
      await nats[Symbol.asyncDispose]();
    },
  };
  return pipeline;
}
