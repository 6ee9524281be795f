/**
 * postwatch under the live scenario, in one of its shapes: as it is deployed (a private nats-server
 * with JetStream, and the receiver, detector and alerter each in a process of its own, `postwatch
 * <service>`), deployed with the partitioned detector (the receiver, N correlate and N evaluate
 * replicas, `DETECTOR_STAGE=correlate|evaluate`, and the alerter, each a process), or as `postwatch
 * start` runs it (all three in one process, with the nats-server it starts itself). The alerter
 * posts to a local webhook server. Each process's /metrics is read for counts and memory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { EVENTS_STREAM, FACTS_STREAM } from "../shared/src/contracts/subjects.js";
import { startEmbeddedNats } from "../shared/src/runtime/embedded-nats.js";
import { sample, scrape } from "../test/helpers/metrics.js";
import { startTestNatsCluster } from "../test/helpers/nats-cluster.js";
import { freePort } from "../test/helpers/ports.js";
import { loopbackServiceEnv } from "../test/helpers/service-env.js";
import { startWebhookServer, type WebhookServer } from "../test/helpers/webhook-server.js";

/**
 * The postwatch measured: this build's, or another's named by POSTWATCH_BENCH_MAIN (its
 * dist/services/cli/src/main.js), to compare two builds under the same harness in one sitting.
 */
const MAIN =
  process.env.POSTWATCH_BENCH_MAIN || fileURLToPath(new URL("../services/cli/src/main.js", import.meta.url));
const SERVICES = ["receiver", "detector", "alerter"] as const;
export type Service = (typeof SERVICES)[number];

export type Shape = "deployed" | "start" | "partitioned";

/** One postwatch process: its name in the tables, its `postwatch` command, and what it adds to the environment. */
interface Process {
  name: string;
  command: Service | "start";
  env: Record<string, string>;
}

/** The processes of a shape; `partitioned` with `replicas` of each detector stage, named `correlate 1` … `evaluate N`. */
function processesOf(shape: Shape, replicas: number): Process[] {
  if (shape === "start") return [{ name: "start", command: "start", env: {} }];
  if (shape === "deployed") return SERVICES.map((service) => ({ name: service, command: service, env: {} }));
  const stage = (name: "correlate" | "evaluate") =>
    Array.from({ length: replicas }, (_, index) => ({
      name: `${name} ${index + 1}`,
      command: "detector" as const,
      env: {
        DETECTOR_STAGE: name,
        DETECTOR_REPLICAS: String(replicas),
        DETECTOR_REPLICA_INDEX: String(index),
      },
    }));
  return [
    { name: "receiver", command: "receiver", env: {} },
    ...stage("correlate"),
    ...stage("evaluate"),
    { name: "alerter", command: "alerter", env: {} },
  ];
}

export interface LivePipeline {
  readonly shape: Shape;
  /** The names of postwatch's processes, in the order they started (`start`'s one is `start`). */
  readonly processes: readonly string[];
  readonly syslogPort: number;
  readonly webhook: WebhookServer;
  /** The /metrics text of one process (a service's name reaches `start`'s one process). */
  metrics(process: string): Promise<string>;
  /**
   * CPU seconds (user + system) each postwatch process and the nats-server have used so far, from
   * /proc; `start`'s one process under "start", its main thread under "start main thread" and the
   * detector's under "start detector thread" (Node names them MainThread and WorkerThread).
   */
  cpuSeconds(): Record<string, number>;
  /** Resident memory of each process, from its process_resident_memory_bytes. */
  residentBytes(): Promise<Record<string, number>>;
  /**
   * Whether every consumer of the events and facts streams has acked all its messages (none
   * pending, none delivered and unacked): redelivered batches count twice in the detectors'
   * counters. Undefined for `start`, whose nats-server the bench does not reach.
   */
  detectorsIdle?(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * `replicas`: of each detector stage, for the `partitioned` shape. `cluster`: the services use a
 * 3-node JetStream cluster with every stream kept in 3 copies (NATS_STREAM_REPLICAS=3), as a
 * production cluster runs, instead of one nats-server; not for `start`, which runs its own.
 */
export async function startLivePipeline(
  shape: Shape,
  replicas = 1,
  options: { cluster?: boolean } = {},
): Promise<LivePipeline> {
  const storeDir = mkdtempSync(join(tmpdir(), "postwatch-live-nats-"));
  const nats = await startNats(shape, storeDir, options.cluster === true);
  const client = nats === undefined ? undefined : await connect({ servers: nats.urls });
  const webhook = await startWebhookServer();
  const syslogPort = await freePort();
  const running: { name: string; child: ChildProcess; metricsPort: number; log: string }[] = [];
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
    await client?.close();
    await nats?.stop();
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    for (const { name, command, env: own } of processesOf(shape, replicas)) {
      const metricsPort = await freePort();
      const { NATS_URL, ...env } = loopbackServiceEnv({
        natsUrl: nats?.urls.join(",") ?? "",
        metricsPort,
        syslogPort,
        webhookUrl: `${webhook.url}/hook`,
      });
      const child = spawn(process.execPath, [...nodeOptions(), MAIN, command], {
        env: {
          PATH: process.env.PATH ?? "",
          ...env,
          ...(nats === undefined
            ? { POSTWATCH_DATA_DIR: storeDir }
            : { NATS_URL, NATS_STREAM_REPLICAS: String(nats.streamReplicas) }),
          SYSLOG_UDP_PORT: String(syslogPort),
          LOG_LEVEL: "warn",
          ...own,
          ...benchEnv(),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const entry = { name, child, metricsPort, log: "" };
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
          throw new Error(`postwatch ${entry.name} did not start: ${entry.log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const portOf = (name: string) =>
    (running.find((r) => r.name === name) ?? (running[0] as (typeof running)[number])).metricsPort;
  return {
    shape,
    processes: running.map((r) => r.name),
    syslogPort,
    webhook,
    metrics: (name) => scrape(portOf(name)),
    cpuSeconds() {
      const pids: [string, number | undefined][] = running.map((r) => [r.name, r.child.pid]);
      // `postwatch start`'s nats-server is its child.
      const natsPids: (number | undefined)[] = nats?.pids() ?? [childrenOf(running[0]?.child.pid)[0]];
      const natsSeconds = natsPids.reduce((sum: number, pid) => sum + cpuOf(pid), 0);
      const threads: Record<string, number> =
        shape === "start"
          ? {
              "start main thread": threadCpuOf(running[0]?.child.pid, "MainThread"),
              "start detector thread": threadCpuOf(running[0]?.child.pid, "WorkerThread"),
            }
          : {};
      return {
        ...Object.fromEntries(pids.map(([name, pid]) => [name, cpuOf(pid)])),
        "nats-server": natsSeconds,
        ...threads,
      };
    },
    async residentBytes() {
      const entries = await Promise.all(
        running.map(async ({ name, metricsPort }) => [
          name,
          sample(await scrape(metricsPort), "process_resident_memory_bytes"),
        ]),
      );
      return Object.fromEntries(entries) as Record<string, number>;
    },
    ...(client !== undefined && {
      async detectorsIdle() {
        const jsm = await jetstreamManager(client);
        for (const stream of [EVENTS_STREAM, FACTS_STREAM]) {
          const consumers = await jsm.consumers
            .list(stream)
            .next()
            .catch(() => []); // no facts stream unpartitioned
          // Durable ones: a warm-up's ephemeral reader is not the detector's backlog.
          const durables = consumers.filter((info) => info.config.durable_name !== undefined);
          if (durables.some((info) => info.num_pending > 0 || info.num_ack_pending > 0)) return false;
        }
        return true;
      },
    }),
    stop,
  };
}

interface BenchNats {
  urls: string[];
  streamReplicas: number;
  /** The nats-server processes, for their CPU time. */
  pids(): (number | undefined)[];
  stop(): Promise<void>;
}

/** The NATS the services use: none for `postwatch start` (it runs its own in `storeDir`), one node, or a cluster of 3. */
async function startNats(shape: Shape, storeDir: string, cluster: boolean): Promise<BenchNats | undefined> {
  if (shape === "start") {
    if (cluster) throw new Error("postwatch start runs a nats-server of its own");
    return undefined;
  }
  if (cluster) {
    const nodes = await startTestNatsCluster();
    return {
      urls: nodes.nodes.map((node) => node.url),
      streamReplicas: 3,
      pids: () => nodes.nodes.map((node) => node.pid),
      stop: () => nodes[Symbol.asyncDispose](),
    };
  }
  const node = await startEmbeddedNats({ storeDir });
  return { urls: [node.url], streamReplicas: 1, pids: () => [node.process.pid], stop: () => node.stop() };
}

/**
 * Extra node flags for the postwatch processes, from POSTWATCH_BENCH_NODE_OPTIONS (split on
 * spaces): `--cpu-prof --cpu-prof-dir=/tmp/prof` profiles them under the live load.
 */
function nodeOptions(): string[] {
  return (process.env.POSTWATCH_BENCH_NODE_OPTIONS ?? "").split(" ").filter(Boolean);
}

/**
 * Settings for the postwatch processes, from POSTWATCH_BENCH_ENV (space-separated NAME=value):
 * `RECEIVER_BATCH_MAX_EVENTS=64` measures another setting under the same load.
 */
function benchEnv(): Record<string, string> {
  const pairs = (process.env.POSTWATCH_BENCH_ENV ?? "").split(" ").filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
  );
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
