/**
 * NATS_STREAM_REPLICAS against a real single nats-server: one copy of every stream postwatch
 * declares (the alerter's delivery bucket too) works; more than one fails at once with an error that
 * names the variable, whether the streams are new or exist already (nats-server 2.9 accepts raising
 * an existing stream's count outside a cluster and keeps one copy: that must not pass for applied).
 * Raising and lowering the count in a real cluster is the cluster tests' part.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { openDeliveryLog } from "../../services/alerter/src/delivery-log.js";
import { createLogger } from "../../shared/src/runtime/log.js";
import {
  DEFAULT_STREAM_LIMITS,
  ensureStreams,
  StreamReplicasError,
  streamConfigs,
  withReplicasNamed,
} from "../../shared/src/runtime/nats.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { freePort } from "../helpers/ports.js";

const logger = createLogger({ level: "silent", service: "test" });
const layout = (replicas: number) => ({ limits: DEFAULT_STREAM_LIMITS, replicas });
const DELIVERY_STREAM = "KV_postwatch-alerter-deliveries";
const MAIN = new URL("../../services/cli/src/main.js", import.meta.url).pathname;

describe("NATS_STREAM_REPLICAS on a single nats-server", () => {
  let nats: TestNats;
  let connection: NatsConnection;

  before(async () => {
    nats = await startTestNats();
    connection = await connect({ servers: nats.url });
  });

  after(async () => {
    await connection?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  const replicasOf = async (stream: string) =>
    (await (await jetstreamManager(connection)).streams.info(stream)).config.num_replicas;

  it("refuses more than one copy before any stream exists, naming the variable", async () => {
    await assert.rejects(
      ensureStreams(connection, layout(3), logger),
      (error: Error) =>
        error instanceof StreamReplicasError &&
        /NATS_STREAM_REPLICAS is 3, but the NATS server .* is not part of a cluster/.test(error.message),
    );
    const jsm = await jetstreamManager(connection);
    assert.deepEqual(await jsm.streams.names().next(), [], "no stream was created");
  });

  it("keeps one copy of every stream, and refuses to raise them on a single server", async () => {
    await ensureStreams(connection, layout(1), logger);
    await openDeliveryLog(connection, 60_000, 1);
    const streams = [...streamConfigs(layout(1)).map((config) => config.name), DELIVERY_STREAM];
    for (const stream of streams) assert.equal(await replicasOf(stream), 1, stream);

    await assert.rejects(ensureStreams(connection, layout(3), logger), StreamReplicasError);
    for (const stream of streams) assert.equal(await replicasOf(stream), 1, `${stream} left as it was`);
  });

  it("refuses more than one copy of the delivery bucket too", async () => {
    await assert.rejects(
      openDeliveryLog(connection, 60_000, 3),
      (error: Error) =>
        error instanceof StreamReplicasError && /NATS_STREAM_REPLICAS is 3/.test(error.message),
    );
    assert.equal(await replicasOf(DELIVERY_STREAM), 1);
  });

  it("names the stream and the variable when the server refuses the copies", async () => {
    const jsm = await jetstreamManager(connection);
    await assert.rejects(
      withReplicasNamed("R3", 3, () => jsm.streams.add({ name: "R3", subjects: ["r3.>"], num_replicas: 3 })),
      (error: Error) =>
        error instanceof StreamReplicasError &&
        error.message.startsWith("cannot declare JetStream stream R3 with NATS_STREAM_REPLICAS=3: ") &&
        /replicas > 1 not supported/.test(error.message),
    );
  });

  it("stops a service at start with one line naming the variable", { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [MAIN, "receiver"], {
      env: {
        PATH: process.env.PATH ?? "",
        NATS_URL: nats.url,
        NATS_STREAM_REPLICAS: "3",
        SYSLOG_HOST: "127.0.0.1",
        SYSLOG_UDP_PORT: "0",
        SYSLOG_TCP_PORT: String(await freePort()),
        METRICS_PORT: "0",
        LOG_FORMAT: "json",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 1, output);
    assert.match(output, /NATS_STREAM_REPLICAS is 3, but the NATS server .* is not part of a cluster/);
    assert.doesNotMatch(output, /\n\s+at /, "one line, no stack trace");
  });
});
