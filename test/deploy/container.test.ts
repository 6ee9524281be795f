/**
 * The image Docker builds from deploy/Dockerfile, unchanged, run alone and in the Compose stack of
 * deploy/docker-compose.yml, wherever a Docker engine answers (.ci/run starts one). Every container
 * is on the host's network and listens on loopback ports the test picks.
 *
 * Where no registry can be reached (CI here), the base images are TEST STAND-INS that
 * .ci/stand-in-images.sh builds from Debian's packages under the tags the files name
 * (node:24-bookworm-slim, nats:2.10-alpine, prom/prometheus:v2.53.0); production pulls the real
 * ones from Docker Hub. Grafana has no stand-in, so the Compose test starts every service but it.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { composeCommand, docker, dockerUnavailable, run } from "../helpers/docker.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { freePort } from "../helpers/ports.js";
import { assertSeedBruteForceAlerts } from "../helpers/seed-bruteforce.js";
import { loopbackServiceEnv } from "../helpers/service-env.js";
import { startWebhookServer, type WebhookServer } from "../helpers/webhook-server.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const IMAGE = "postwatch:test";
const SERVICES = ["receiver", "detector", "alerter"] as const;
type Service = (typeof SERVICES)[number];

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The container's main process as the host sees it: its user IDs and how its root is mounted. */
async function mainProcess(container: string): Promise<{ uids: string[]; rootMount: string[] }> {
  const pid = await docker(["inspect", "-f", "{{.State.Pid}}", container]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/) ?? [];
  // mountinfo: ID, parent, major:minor, root, mount point, mount options, ...
  const root = readFileSync(`/proc/${pid}/mountinfo`, "utf8")
    .split("\n")
    .map((line) => line.split(" "))
    .find((fields) => fields[4] === "/");
  return { uids, rootMount: root?.[5]?.split(",") ?? [] };
}

/** Where the Compose stack listens when it runs on the host's network: loopback ports of its own. */
interface HostPorts {
  nats: number;
  natsMonitor: number;
  syslog: number;
  prometheus: number;
  metrics: Record<Service, number>;
}

/** The shipped scrape config, its targets pointed where the services listen on the host. */
function scrapeConfigOnHost(ports: HostPorts): string {
  let config = readFileSync(join(ROOT, "deploy/prometheus/prometheus.yml"), "utf8");
  for (const [target, address] of [
    ...SERVICES.map((service) => [`postwatch-${service}:9464`, `127.0.0.1:${ports.metrics[service]}`]),
    ["localhost:9090", `127.0.0.1:${ports.prometheus}`],
  ] as const) {
    assert.ok(config.includes(target), `deploy/prometheus/prometheus.yml scrapes ${target}`);
    config = config.replace(target, address);
  }
  return config;
}

/**
 * The Compose override that puts every service on the host's network with its own loopback ports.
 * The postwatch services keep the image's health check, run every 2 s instead of every 30.
 */
function hostNetworkOverride(ports: HostPorts, work: string) {
  const postwatch = (service: Service) => ({
    network_mode: "host",
    healthcheck: { interval: "2s" },
    environment: {
      NATS_URL: `nats://127.0.0.1:${ports.nats}`,
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: String(ports.metrics[service]),
      ...(service === "receiver"
        ? { SYSLOG_HOST: "127.0.0.1", SYSLOG_TCP_PORT: String(ports.syslog), SYSLOG_UDP_PORT: "0" }
        : {}),
    },
  });
  const natsHealth = `http://127.0.0.1:${ports.natsMonitor}/healthz?js-enabled-only=true`;
  return {
    networks: { default: { name: "host", external: true } }, // no network of the project's own
    services: {
      nats: {
        network_mode: "host",
        command: `-js -sd /data -a 127.0.0.1 -p ${ports.nats} -m ${ports.natsMonitor}`,
        healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", natsHealth] },
      },
      "postwatch-receiver": postwatch("receiver"),
      "postwatch-detector": postwatch("detector"),
      "postwatch-alerter": postwatch("alerter"),
      prometheus: {
        network_mode: "host",
        command: [
          "--config.file=/etc/prometheus/prometheus.yml",
          "--storage.tsdb.path=/prometheus",
          `--web.listen-address=127.0.0.1:${ports.prometheus}`,
        ],
        volumes: [`${join(work, "prometheus.yml")}:/etc/prometheus/prometheus.yml:ro`],
      },
    },
  };
}

describe("postwatch in containers", { skip: dockerUnavailable() }, () => {
  const name = `postwatch-test-${process.pid}`;
  let webhook: WebhookServer;

  before(async () => {
    await docker(["build", "--network", "host", "-f", "deploy/Dockerfile", "-t", IMAGE, "."], {
      cwd: ROOT,
      timeoutMs: 15 * 60_000,
    });
    webhook = await startWebhookServer();
  });

  after(async () => {
    await webhook?.[Symbol.asyncDispose]();
  });

  describe("the image, one container per service", () => {
    const containers: string[] = [];
    let nats: TestNats;
    let syslogPort: number;

    before(async () => {
      nats = await startTestNats();
      syslogPort = await freePort();
      for (const service of SERVICES) {
        const env = {
          ...nats.env,
          ...loopbackServiceEnv({
            natsUrl: nats.url,
            metricsPort: await freePort(),
            syslogPort,
            webhookUrl: `${webhook.url}/image`,
          }),
        };
        const container = `${name}-${service}`;
        await docker([
          "run",
          "--detach",
          `--name=${container}`,
          "--network=host",
          "--read-only",
          "--tmpfs=/tmp",
          ...Object.entries(env).flatMap(([key, value]) => ["--env", `${key}=${value}`]),
          IMAGE,
          service,
        ]);
        containers.push(container);
      }
      for (const container of containers)
        await until(`${container} running`, 60_000, async () =>
          (await docker(["logs", container])).includes('"msg":"postwatch running') ? true : undefined,
        );
    });

    after(async () => {
      if (containers.length > 0) await docker(["rm", "--force", ...containers]);
      await nats?.[Symbol.asyncDispose]();
    });

    it("runs every service as the image's unprivileged user, on a read-only root filesystem", async (t) => {
      assert.equal(await docker(["image", "inspect", "-f", "{{.Config.User}}", IMAGE]), "1000:1000");
      for (const container of containers) {
        const { uids, rootMount } = await mainProcess(container);
        assert.deepEqual(
          uids,
          ["1000", "1000", "1000", "1000"],
          `${container}'s real, effective, saved, fs uid`,
        );
        assert.ok(rootMount.includes("ro"), `${container}'s / is mounted ${rootMount.join(",")}`);
      }
      const bytes = Number(await docker(["image", "inspect", "-f", "{{.Size}}", IMAGE]));
      t.diagnostic(`${IMAGE}: ${(bytes / 1e6).toFixed(0)} MB`);
    });

    it("delivers the seed's brute force to the webhook", async () => {
      await assertSeedBruteForceAlerts(syslogPort, webhook, "/image", 20_000);
    });
  });

  describe("the Compose stack, on the host's network", () => {
    const work = mkdtempSync(join(tmpdir(), "postwatch-compose-"));
    const [command = "", ...prefix] = composeCommand();
    const started = ["nats", "postwatch-receiver", "postwatch-detector", "postwatch-alerter", "prometheus"];
    let compose: (args: string[], timeoutMs?: number) => Promise<string>;
    let ports: HostPorts;

    before(async () => {
      ports = {
        nats: await freePort(),
        natsMonitor: await freePort(),
        syslog: await freePort(),
        prometheus: await freePort(),
        metrics: { receiver: await freePort(), detector: await freePort(), alerter: await freePort() },
      };

      writeFileSync(join(work, "prometheus.yml"), scrapeConfigOnHost(ports));
      writeFileSync(join(work, "host-network.yml"), JSON.stringify(hostNetworkOverride(ports, work)));
      chmodSync(work, 0o755); // Prometheus reads its config as nobody

      // Docker refuses published ports on the host's network, and an override can only add to a
      // list, so Compose reads a copy of the file without its `ports:` lists.
      const shipped = readFileSync(join(ROOT, "deploy/docker-compose.yml"), "utf8");
      const portLists = /^ {4}ports:\n(?: {6}- .*\n)+/gm;
      assert.equal(shipped.match(portLists)?.length, 3, "the receiver, Prometheus and Grafana publish ports");
      writeFileSync(join(work, "docker-compose.yml"), shipped.replace(portLists, ""));
      writeFileSync(join(work, "empty.env"), "");
      const files = [
        ...["--project-directory", join(ROOT, "deploy"), "--env-file", join(work, "empty.env")],
        ...["-f", join(work, "docker-compose.yml"), "-f", join(work, "host-network.yml")],
      ];
      const env = { ...process.env, POSTWATCH_IMAGE: IMAGE, WEBHOOK_URL: `${webhook.url}/compose` };
      compose = (args, timeoutMs = 120_000) =>
        run(command, [...prefix, "--project-name", name, ...files, ...args], { cwd: ROOT, env, timeoutMs });
      await compose(["up", "--detach", "--no-build", ...started], 300_000);
    });

    after(async () => {
      await compose?.(["down", "--volumes", "--timeout", "5"]).catch((error) => console.error(error));
      rmSync(work, { recursive: true, force: true });
    });

    it("turns every health check green", async () => {
      for (const service of ["nats", "postwatch-receiver", "postwatch-detector", "postwatch-alerter"]) {
        const container = await compose(["ps", "-q", service]);
        const health = await until(`${service} healthy`, 90_000, async () => {
          const status = await docker(["inspect", "-f", "{{.State.Health.Status}}", container]);
          return status === "starting" ? undefined : status;
        });
        assert.equal(health, "healthy", `${service}: ${await docker(["logs", "--tail", "20", container])}`);
      }
    });

    it("delivers the seed's brute force to the webhook", async () => {
      await assertSeedBruteForceAlerts(ports.syslog, webhook, "/compose", 30_000);
    });

    it("has Prometheus scrape every service's /metrics", async () => {
      interface Target {
        labels: Record<string, string>;
        health: string;
      }
      const up = await until("Prometheus scraping receiver, detector and alerter", 90_000, async () => {
        const response = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/targets`);
        const body = (await response.json()) as { data: { activeTargets: Target[] } };
        const services = body.data.activeTargets
          .filter((target) => target.labels.job === "postwatch" && target.health === "up")
          .map((target) => target.labels.service)
          .sort();
        return services.length === SERVICES.length ? services : undefined;
      });
      assert.deepEqual(up, [...SERVICES].sort());
    });
  });
});
