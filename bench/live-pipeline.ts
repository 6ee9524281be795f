/**
 * postwatch under the live scenario, in either shape: as it is deployed (a private nats-server with
 * JetStream, and the receiver, detector and alerter each in a process of its own, `postwatch
 * <service>`), or as `postwatch start` runs it (all three in one process, with the nats-server it
 * starts itself). The alerter posts to a local webhook server. Each process's /metrics is read for
 * counts and memory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
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

export type Shape = "deployed" | "start";

export interface LivePipeline {
  readonly shape: Shape;
  readonly syslogPort: number;
  readonly webhook: WebhookServer;
  /** The /metrics text of one service. */
  metrics(service: Service): Promise<string>;
  /**
   * CPU seconds (user + system) each postwatch process and the nats-server have used so far, from
   * /proc; `start`'s one process under "start", its main thread under "start main thread" and the
   * detector's under "start detector thread" (Node names them MainThread and WorkerThread).
   */
  cpuSeconds(): Record<string, number>;
  /** Resident memory of each service's process, from its process_resident_memory_bytes. */
  residentBytes(): Promise<Record<Service, number>>;
  stop(): Promise<void>;
}

export async function startLivePipeline(shape: Shape): Promise<LivePipeline> {
  const storeDir = mkdtempSync(join(tmpdir(), "postwatch-live-nats-"));
  // `postwatch start` runs its own nats-server in the store directory.
  const nats = shape === "deployed" ? await startEmbeddedNats({ storeDir }) : undefined;
  const webhook = await startWebhookServer();
  const syslogPort = await freePort();
  const running: { command: string; child: ChildProcess; metricsPort: number; log: string }[] = [];
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
    await nats?.stop();
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    for (const command of nats === undefined ? ["start"] : SERVICES) {
      const metricsPort = await freePort();
      const { NATS_URL, ...env } = loopbackServiceEnv({
        natsUrl: nats?.url ?? "",
        metricsPort,
        syslogPort,
        webhookUrl: `${webhook.url}/hook`,
      });
      const child = spawn(process.execPath, [...nodeOptions(), MAIN, command], {
        env: {
          PATH: process.env.PATH ?? "",
          ...env,
          ...(nats === undefined ? { POSTWATCH_DATA_DIR: storeDir } : { NATS_URL }),
          SYSLOG_UDP_PORT: String(syslogPort),
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const entry = { command, child, metricsPort, log: "" };
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
          throw new Error(`postwatch ${entry.command} did not start: ${entry.log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const portOf = (service: Service) =>
    (running.find((r) => r.command === service) ?? (running[0] as (typeof running)[number])).metricsPort;
  return {
    shape,
    syslogPort,
    webhook,
    metrics: (service) => scrape(portOf(service)),
    cpuSeconds() {
      const pids: [string, number | undefined][] = running.map((r) => [r.command, r.child.pid]);
      // `postwatch start`'s nats-server is its child.
      const natsPid = nats?.process.pid ?? childrenOf(running[0]?.child.pid)[0];
      const all: [string, number | undefined][] = [...pids, ["nats-server", natsPid]];
      const threads: Record<string, number> =
        shape === "start"
          ? {
              "start main thread": threadCpuOf(running[0]?.child.pid, "MainThread"),
              "start detector thread": threadCpuOf(running[0]?.child.pid, "WorkerThread"),
            }
          : {};
      return { ...Object.fromEntries(all.map(([name, pid]) => [name, cpuOf(pid)])), ...threads };
    },
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

/**
 * Extra node flags for the postwatch processes, from POSTWATCH_BENCH_NODE_OPTIONS (split on
 * spaces): `--cpu-prof --cpu-prof-dir=/tmp/prof` profiles them under the live load.
 */
function nodeOptions(): string[] {
  return (process.env.POSTWATCH_BENCH_NODE_OPTIONS ?? "").split(" ").filter(Boolean);
}

/** CPU seconds a process has used, user + system, from /proc/<pid>/stat (0 once it is gone). */
function cpuOf(pid: number | undefined, task = ""): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}${task}/stat`, "utf8");
    // Fields after the command (which may hold spaces), from the third: utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's times, on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds of a process's threads named `name` (/proc/<pid>/task/<tid>/comm). */
function threadCpuOf(pid: number | undefined, name: string): number {
  if (pid === undefined) return 0;
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const comm = readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8").trim();
    if (comm === name) total += cpuOf(pid, `/task/${task}`);
  }
  return total;
}

function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number),
  );
}
