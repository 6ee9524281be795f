/**
 * NATS_STREAM_REPLICAS on a real 3-node cluster: services starting together on a fresh cluster all
 * declare their streams (nats-server leaves some concurrent declarations of one stream unanswered),
 * and existing streams are scaled between one and three copies at start, as docs/configuration.md
 * says.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createLogger } from "../../shared/src/runtime/log.js";
import { DEFAULT_STREAM_LIMITS, ensureStreams, streamConfigs } from "../../shared/src/runtime/nats.js";
import { natsServerMissing, startTestNatsCluster, type TestNatsCluster } from "../helpers/nats-cluster.js";
import { waitUntil } from "../helpers/settle.js";

const logger = createLogger({ level: "silent", service: "test" });
const layout = (replicas: number) => ({ limits: DEFAULT_STREAM_LIMITS, replicas });
const STREAMS = streamConfigs(layout(1)).map((config) => config.name);

describe("NATS_STREAM_REPLICAS on a 3-node NATS JetStream cluster", { skip: natsServerMissing() }, () => {
  let cluster: TestNatsCluster;
  const connections: NatsConnection[] = [];
  let jsm: JetStreamManager;

  before(async () => {
    cluster = await startTestNatsCluster();
    // As services do, one connection each, spread over the nodes.
    for (const node of [...cluster.nodes, ...cluster.nodes])
      connections.push(await connect({ servers: node.url }));
    jsm = await jetstreamManager(connections[0] as NatsConnection);
  });

  after(async () => {
    for (const connection of connections) await connection.close();
    await cluster?.[Symbol.asyncDispose]();
  });

  /** Every stream's replica count, once each has a leader and all its copies are current. */
  const copies = async (replicas: number) => {
    await waitUntil(20_000, `every stream kept in ${replicas} current copies`, async () => {
      const infos = await Promise.all(STREAMS.map((name) => jsm.streams.info(name)));
      return infos.every(
        (info) =>
          info.cluster?.leader !== undefined &&
          (info.cluster.replicas ?? []).length === replicas - 1 &&
          (info.cluster.replicas ?? []).every((peer) => peer.current),
      );
    });
    return Promise.all(STREAMS.map(async (name) => (await jsm.streams.info(name)).config.num_replicas));
  };

  it("declares the streams from six services starting at once", async () => {
    await Promise.all(connections.map((connection) => ensureStreams(connection, layout(3), logger)));
    assert.deepEqual(
      await copies(3),
      STREAMS.map(() => 3),
    );
  });

  it("scales existing streams down to one copy and up to three again", async () => {
    await ensureStreams(connections[1] as NatsConnection, layout(1), logger);
    assert.deepEqual(
      await copies(1),
      STREAMS.map(() => 1),
    );
    await ensureStreams(connections[2] as NatsConnection, layout(3), logger);
    assert.deepEqual(
      await copies(3),
      STREAMS.map(() => 3),
    );
  });
});
