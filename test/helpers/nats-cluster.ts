/**
 * A real 3-node NATS JetStream cluster for a test: the machine's `nats-server` three times on free
 * loopback ports (clients, routes, monitoring), each node with a server name and a store of its own,
 * ready once every running node reports the same JetStream meta leader and its /healthz (which on
 * 2.9 and later also waits for the node's streams and consumers to be current) answers 200. A node
 * can be killed (SIGKILL: no graceful step-down) and restarted on its ports and store. Disposing
 * kills every node and removes the stores; nodes still running when the test process exits are
 * killed too, so a failed or timed-out test leaves nothing behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer, NatsServerMissingError } from "../../shared/src/runtime/embedded-nats.js";
import { freePort } from "./ports.js";

export interface ClusterNode {
  /** The node's server_name, as JetStream names stream and consumer leaders. */
  readonly name: string;
  readonly url: string;
  readonly monitorUrl: string;
  /** Whether the node's process runs (false between `kill` and `restart`). */
  readonly running: boolean;
  /** Its process, while it runs (a bench reads its CPU time). */
  readonly pid: number | undefined;
}

export interface TestNatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL, comma-separated, as NATS_URL takes a cluster. */
  readonly url: string;
  readonly env: Record<string, string>;
  /** SIGKILLs the node and waits for its process to be gone. */
  kill(name: string): Promise<void>;
  /** Starts a killed node again on its ports and store; resolves once the cluster is ready again. */
  restart(name: string): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Why the cluster tests cannot run here (no nats-server), in one line; false when they can. */
export function natsServerMissing(): string | false {
  try {
    findNatsServer();
    return false;
  } catch (error) {
    if (error instanceof NatsServerMissingError) return `no nats-server: ${error.message}`;
    throw error;
  }
}

const CLUSTER_NAME = "postwatch-test";
const NODE_COUNT = 3;
const READY_TIMEOUT_MS = 30_000;

interface NodeSpec {
  name: string;
  clientPort: number;
  routePort: number;
  monitorPort: number;
  dir: string;
}

/**
 * The ports are free when picked, but another test may bind one before the node does: the cluster
 * is then started again on other ports, a few times.
 */
const START_ATTEMPTS = 3;

export async function startTestNatsCluster(): Promise<TestNatsCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePorts(findNatsServer());
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnFreePorts(binary: string): Promise<TestNatsCluster> {
  const root = mkdtempSync(join(tmpdir(), "postwatch-nats-cluster-"));
  const specs: NodeSpec[] = [];
  for (let i = 1; i <= NODE_COUNT; i++) {
    specs.push({
      name: `n${i}`,
      clientPort: await freePort(),
      routePort: await freePort(),
      monitorPort: await freePort(),
      dir: join(root, `n${i}`),
    });
  }
  const routes = specs.map((spec) => `nats-route://127.0.0.1:${spec.routePort}`);
  const processes = new Map<string, RunningNode>();
  const killAll = () => {
    for (const node of processes.values()) node.child.kill("SIGKILL");
  };
  process.once("exit", killAll);

  const launch = (spec: NodeSpec) => {
    processes.set(spec.name, runNode(binary, spec, routes));
  };
  const nodes: ClusterNode[] = specs.map((spec) => ({
    name: spec.name,
    url: `nats://127.0.0.1:${spec.clientPort}`,
    monitorUrl: `http://127.0.0.1:${spec.monitorPort}`,
    get running() {
      return processes.has(spec.name);
    },
    get pid() {
      return processes.get(spec.name)?.child.pid;
    },
  }));
  const specOf = (name: string) => {
    const spec = specs.find((s) => s.name === name);
    if (!spec)
      throw new Error(`no cluster node named ${name}; nodes: ${specs.map((s) => s.name).join(", ")}`);
    return spec;
  };
  const ready = () =>
    waitUntilReady(
      nodes.filter((node) => node.running),
      processes,
      READY_TIMEOUT_MS,
    );
  const kill = async (name: string) => {
    const node = processes.get(specOf(name).name);
    if (!node) return;
    processes.delete(name);
    node.child.kill("SIGKILL");
    await node.exited;
  };

  const url = nodes.map((node) => node.url).join(",");
  const cluster: TestNatsCluster = {
    nodes,
    url,
    env: { NATS_URL: url },
    kill,
    async restart(name) {
      const spec = specOf(name);
      if (processes.has(name)) throw new Error(`cluster node ${name} is running; kill it first`);
      launch(spec);
      await ready();
    },
    async [Symbol.asyncDispose]() {
      process.removeListener("exit", killAll);
      await Promise.all([...processes.keys()].map(kill));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    for (const spec of specs) launch(spec);
    await ready();
  } catch (error) {
    await cluster[Symbol.asyncDispose]();
    throw error;
  }
  return cluster;
}

interface RunningNode {
  child: ChildProcess;
  exited: Promise<void>;
  /** The last lines the node wrote, for an error that says why it stopped or never got ready. */
  log(): string;
}

function runNode(binary: string, spec: NodeSpec, routes: readonly string[]): RunningNode {
  mkdirSync(spec.dir, { recursive: true });
  const config = join(spec.dir, "nats-server.conf");
  // A node lists every route, its own included: nats-server skips the route to itself.
  writeFileSync(
    config,
    [
      `server_name: ${spec.name}`,
      `listen: "127.0.0.1:${spec.clientPort}"`,
      `http: "127.0.0.1:${spec.monitorPort}"`,
      `jetstream { store_dir: "${join(spec.dir, "store")}" }`,
      "cluster {",
      `  name: ${CLUSTER_NAME}`,
      `  listen: "127.0.0.1:${spec.routePort}"`,
      `  routes: [${routes.map((route) => `"${route}"`).join(", ")}]`,
      "}",
      "",
    ].join("\n"),
  );
  const child = spawn(binary, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  return { child, exited, log: () => log };
}

interface JetStreamStatus {
  meta_cluster?: { leader?: string };
}

async function waitUntilReady(
  nodes: readonly ClusterNode[],
  processes: ReadonlyMap<string, RunningNode>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const exited = nodes.find((node) => processes.get(node.name)?.child.exitCode !== null);
    if (exited) {
      const tail = processes.get(exited.name)?.log().trim().split("\n").slice(-3).join(" | ");
      throw new Error(`nats-server ${exited.name} exited while the cluster was starting: ${tail}`);
    }
    const states = await Promise.all(nodes.map(nodeState));
    const leaders = new Set(states.map((state) => state.leader));
    if (states.every((state) => state.healthy) && leaders.size === 1 && !leaders.has(undefined)) return;
    last = nodes.map((node, i) => `${node.name}: ${JSON.stringify(states[i])}`).join("; ");
    if (Date.now() > deadline)
      throw new Error(`NATS cluster not ready within ${timeoutMs} ms (leader and health per node: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function nodeState(node: ClusterNode): Promise<{ healthy: boolean; leader?: string }> {
  try {
    const signal = AbortSignal.timeout(1000);
    const [health, jsz] = await Promise.all([
      fetch(`${node.monitorUrl}/healthz`, { signal }),
      fetch(`${node.monitorUrl}/jsz`, { signal }).then((r) => r.json() as Promise<JetStreamStatus>),
    ]);
    await health.body?.cancel();
    return { healthy: health.ok, leader: jsz.meta_cluster?.leader };
  } catch {
    return { healthy: false };
  }
}
