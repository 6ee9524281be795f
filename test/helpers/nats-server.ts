/**
 * A real NATS server with JetStream for a test: a `nats-server` child on a free loopback port with a
 * temp store (the default), or a NATS container through testcontainers when
 * POSTWATCH_TEST_NATS=container (test/deploy/testcontainers.test.ts runs the integration tests so).
 * Async-disposable, so `await using nats = await startTestNats()` cleans up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedNats } from "../../shared/src/runtime/embedded-nats.js";
import { freePort } from "./ports.js";

export interface TestNats {
  readonly url: string;
  readonly env: Record<string, string>;
  /** Stops the server but keeps its store, for fault tests that bring it back with `restart`. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One nats-server run on a JetStream store that outlives it; `port` brings it back where it was. */
interface NatsRun {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}
type StartNats = (storeDir: string, port?: number) => Promise<NatsRun>;

export async function startTestNats(): Promise<TestNats> {
  const start: StartNats =
    process.env.POSTWATCH_TEST_NATS === "container"
      ? startContainer
      : (storeDir, port) => startEmbeddedNats({ storeDir, port });
  const storeDir = mkdtempSync(join(tmpdir(), "postwatch-nats-"));
  let server = await start(storeDir);
  const { url, port } = server;
  return {
    url,
    env: { NATS_URL: url },
    stop: () => server.stop(),
    async restart() {
      await server.stop();
      server = await start(storeDir, port);
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/**
 * nats-server in a container, through testcontainers, on the host's network: it listens on a
 * loopback port (published ports would need a bridge network), without credentials like the child
 * process, with its store in `storeDir` mounted. The image is the one deploy/docker-compose.yml runs;
 * without a registry, .ci/stand-in-images.sh builds a stand-in under its tag.
 */
async function startContainer(storeDir: string, port?: number): Promise<NatsRun> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const listen = port ?? (await freePort());
  const container = await new GenericContainer("nats:2.10-alpine")
    .withNetworkMode("host")
    .withBindMounts([{ source: storeDir, target: "/data" }])
    .withCommand(["--jetstream", "--store_dir", "/data", "--addr", "127.0.0.1", "--port", String(listen)])
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .withStartupTimeout(60_000)
    .start();
  return {
    url: `nats://127.0.0.1:${listen}`,
    port: listen,
    stop: async () => {
      await container.stop(); // and removes it; a second call does nothing
    },
  };
}
