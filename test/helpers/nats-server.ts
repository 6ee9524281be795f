/**
 * A real NATS server with JetStream for a test: a `nats-server` child on a free loopback port with a
 * temp store (the default), or a testcontainers NATS container when POSTWATCH_TEST_NATS=container and
 * a Docker engine answers. Async-disposable, so `await using nats = await startTestNats()` cleans up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedNats, startEmbeddedNats } from "../../shared/src/runtime/embedded-nats.js";

export interface TestNats {
  readonly url: string;
  readonly env: Record<string, string>;
  /** Stops the server but keeps its store, for fault tests that bring it back with `restart`. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTestNats(): Promise<TestNats> {
  if (process.env.POSTWATCH_TEST_NATS === "container") return startContainer();
  const storeDir = mkdtempSync(join(tmpdir(), "postwatch-nats-"));
  let server: EmbeddedNats = await startEmbeddedNats({ storeDir });
  const port = server.port;
  return {
    url: server.url,
    env: { NATS_URL: server.url },
    stop: () => server.stop(),
    async restart() {
      await server.stop();
      server = await startEmbeddedNats({ storeDir, port });
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

async function startContainer(): Promise<TestNats> {
  const { NatsContainer } = await import("@testcontainers/nats");
  const container = await new NatsContainer("nats:2.10-alpine").withJetStream().start();
  const options = container.getConnectionOptions();
  const url = String(Array.isArray(options.servers) ? options.servers[0] : options.servers);
  const env = { NATS_URL: url, NATS_USER: options.user ?? "", NATS_PASSWORD: options.pass ?? "" };
  return {
    url,
    env,
    stop: async () => {
      await container.stop({ remove: false });
    },
    restart: async () => {
      await container.restart();
    },
    async [Symbol.asyncDispose]() {
      await container.stop();
    },
  };
}
