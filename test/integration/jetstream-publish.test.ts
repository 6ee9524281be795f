/**
 * PipelinedPublisher against a real nats-server: acks resolve in order with the stream's sequence;
 * a subject no stream takes, a stream that refuses, a server gone away and a closed publisher each
 * reject with an error that says which, and publishing works again once the server is back. A
 * message ID makes a retried publish a duplicate the stream drops.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DiscardPolicy, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { JetStreamPublishError, PipelinedPublisher } from "../../shared/src/runtime/jetstream-publish.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

const payload = (n: number) => new TextEncoder().encode(JSON.stringify({ n }));

describe("PipelinedPublisher", () => {
  let nats: TestNats;
  let connection: NatsConnection;

  before(async () => {
    nats = await startTestNats();
    connection = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const manager = await jetstreamManager(connection);
    await manager.streams.add({ name: "T", subjects: ["t.>"] });
    await manager.streams.add({
      name: "FULL",
      subjects: ["full.>"],
      max_msgs: 1,
      discard: DiscardPolicy.New,
    });
  });

  after(async () => {
    await connection?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  it("resolves each publish with the stream's ack, many in flight at once", async () => {
    const publisher = new PipelinedPublisher(connection);
    const acks = await Promise.all(
      Array.from({ length: 2000 }, (_, n) => publisher.publish(`t.${n % 7}`, payload(n))),
    );
    assert.deepEqual(
      acks.map((ack) => ack.seq),
      Array.from({ length: 2000 }, (_, n) => n + 1),
    );
    assert.ok(acks.every((ack) => ack.stream === "T"));
    const info = await (await jetstreamManager(connection)).streams.info("T");
    assert.equal(info.state.messages, 2000);
    publisher.close();
  });

  it("stores a message published again with the same ID once, and says the retry was a duplicate", async () => {
    const publisher = new PipelinedPublisher(connection);
    const manager = await jetstreamManager(connection);
    await manager.streams.add({ name: "DEDUP", subjects: ["dedup.>"], duplicate_window: 60_000_000_000 });
    const first = await publisher.publish("dedup.a", payload(1), "producer-1.0");
    const retry = await publisher.publish("dedup.a", payload(1), "producer-1.0");
    const next = await publisher.publish("dedup.a", payload(2), "producer-1.1");
    assert.deepEqual(
      [first, retry, next].map((ack) => [ack.seq, ack.duplicate ?? false]),
      [
        [1, false],
        [1, true],
        [2, false],
      ],
    );
    assert.equal((await manager.streams.info("DEDUP")).state.messages, 2);
    publisher.close();
  });

  it("rejects a subject no stream takes, and what a stream refuses, saying which", async () => {
    const publisher = new PipelinedPublisher(connection);
    await assert.rejects(publisher.publish("nowhere.x", payload(0)), /503: no stream takes this subject/);
    await publisher.publish("full.a", payload(1));
    await assert.rejects(publisher.publish("full.b", payload(2)), (error: Error) => {
      assert.ok(error instanceof JetStreamPublishError);
      assert.match(error.message, /JetStream refused: maximum messages exceeded/);
      return true;
    });
    publisher.close();
  });

  it("rejects what is unacknowledged when the server goes away, and publishes again once it is back", async () => {
    const publisher = new PipelinedPublisher(connection, { timeoutMs: 500 });
    await nats.stop();
    const started = Date.now();
    await assert.rejects(publisher.publish("t.away", payload(0)), /no PubAck within 500 ms/);
    assert.ok(Date.now() - started < 2000, "the timeout is kept");
    await nats.restart();
    for (let attempt = 0; ; attempt++) {
      const ack = await publisher.publish("t.back", payload(1)).catch(() => undefined);
      if (ack !== undefined) {
        assert.equal(ack.stream, "T");
        break;
      }
      assert.ok(attempt < 50, "publishes again within 10 s of the server's return");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    publisher.close();
  });

  it("rejects what is pending when closed, and anything published afterwards", async () => {
    const publisher = new PipelinedPublisher(connection);
    await nats.stop();
    const pending = publisher.publish("t.closing", payload(0));
    publisher.close();
    await assert.rejects(pending, /publisher closed before the ack/);
    await assert.rejects(publisher.publish("t.late", payload(1)), /publisher closed/);
    await nats.restart();
  });
});
