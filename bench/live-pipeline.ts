/**
 * postwatch as it is deployed, for the live scenario: a private nats-server with JetStream, and the
 * receiver, detector and alerter each in a process of its own (`postwatch <service>`), the alerter
 * posting to a local webhook server. Each service's /metrics is read for counts and memory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedNats } from "../shared/src/runtime/embedded-nats.js";
import { sample, scrape } from "../test/helpers/metrics.js";
import { freePort } from "../test/helpers/ports.js";
import { loopbackServiceEnv } from "../test/helpers/service-env.js";
import { startWebhookServer, type WebhookServer } from "../test/helpers/webhook-server.js";

const MAIN = fileURLToPath(new URL("../services/cli/src/main.js", import.meta.url));
const SERVICES = ["receiver", "detector", "alerter"] as const;
export type Service = (typeof SERVICES)[number];

export interface DeployedPipeline {
  readonly syslogPort: number;
  readonly webhook: WebhookServer;
  /** The /metrics text of one service. */
  metrics(service: Service): Promise<string>;
  /** Resident memory of each service, from its process_resident_memory_bytes. */
  residentBytes(): Promise<Record<Service, number>>;
  stop(): Promise<void>;
}

export async function startDeployedPipeline(): Promise<DeployedPipeline> {
  const storeDir = mkdtempSync(join(tmpdir(), "postwatch-live-nats-"));
  const nats = await startEmbeddedNats({ storeDir });
  const webhook = await startWebhookServer();
  const syslogPort = await freePort();
  const running: { service: Service; child: ChildProcess; metricsPort: number; log: string }[] = [];
  const stop = async () => {
    await Promise.all(
      running.map(({ child }) => {
        if (child.exitCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        return exited;
      }),
    );
    await webhook[Symbol.asyncDispose]();
    await nats.stop();
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    for (const service of SERVICES) {
      const metricsPort = await freePort();
      const child = spawn(process.execPath, [MAIN, service], {
        env: {
          PATH: process.env.PATH ?? "",
          ...loopbackServiceEnv({
            natsUrl: nats.url,
            metricsPort,
            syslogPort,
            webhookUrl: `${webhook.url}/hook`,
          }),
          SYSLOG_UDP_PORT: String(syslogPort),
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const entry = { service, child, metricsPort, log: "" };
      const keep = (chunk: Buffer) => {
        entry.log = (entry.log + chunk.toString()).slice(-4000);
      };
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      running.push(entry);
    }
    const deadline = Date.now() + 30_000;
    for (const entry of running) {
      while (
        !(await scrape(entry.metricsPort).then(
          () => true,
          () => false,
        ))
      ) {
        if (entry.child.exitCode !== null || Date.now() > deadline)
          throw new Error(`postwatch ${entry.service} did not start: ${entry.log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const portOf = (service: Service) => running.find((r) => r.service === service)?.metricsPort as number;
  return {
    syslogPort,
    webhook,
    metrics: (service) => scrape(portOf(service)),
    async residentBytes() {
      const entries = await Promise.all(
        SERVICES.map(async (service) => [
          service,
          sample(await scrape(portOf(service)), "process_resident_memory_bytes"),
        ]),
      );
      return Object.fromEntries(entries) as Record<Service, number>;
    },
    stop,
  };
}
