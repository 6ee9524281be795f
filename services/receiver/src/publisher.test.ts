import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { decodeEventMessage } from "../../../shared/src/contracts/event-batch.js";
import { eventPartition } from "../../../shared/src/contracts/partitions.js";
import { connectEvent as event } from "../../../shared/src/postfix/testing.js";
import { createReceiverMetrics } from "./metrics.js";
import { EventPublisher, type PublisherOptions, type PublishFn } from "./publisher.js";

interface PendingPublish {
  subject: string;
  messageId: string;
  pids: number[];
  hosts: string[];
  resolve(duplicate?: boolean): void;
  reject(error: Error): void;
}

/** A JetStream stand-in whose acks the test releases or fails by hand. */
function manualPublish() {
  const pending: PendingPublish[] = [];
  const publish: PublishFn = (subject, payload, messageId) =>
    new Promise((resolve, reject) => {
      const events = decodeEventMessage(payload).map((d) => ("event" in d ? d.event : undefined));
      pending.push({
        subject,
        messageId,
        pids: events.map((e) => e?.pid ?? -1),
        hosts: events.map((e) => e?.host ?? "?"),
        resolve: (duplicate) => resolve({ duplicate }),
        reject,
      });
    });
  return { publish, pending };
}

async function counter(registry: Registry, name: string, labels: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

const setup = (options: Partial<PublisherOptions>) => {
  const registry = new Registry();
  const metrics = createReceiverMetrics(registry);
  const nats = manualPublish();
  const publisher = new EventPublisher(
    nats.publish,
    {
      maxQueue: 100,
      partitions: 1,
      maxInFlight: 4,
      retryDelayMs: 10,
      maxBatchEvents: 1,
      maxBatchChars: 1 << 20,
      flushMs: 1,
      producerId: "p",
      ...options,
    },
    metrics,
    pino({ level: "silent" }),
  );
  return { registry, nats, publisher };
};

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("EventPublisher", () => {
  it("gathers events into batches of at most maxBatchEvents, in order, on the batch subject", () => {
    const { nats, publisher } = setup({ maxBatchEvents: 3 });
    for (let i = 0; i < 7; i++) publisher.offer(event(i));
    assert.deepEqual(
      nats.pending.map((p) => p.pids),
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
    );
    assert.equal(nats.pending[0]?.subject, "postwatch.events.batch.0");
    assert.equal(publisher.pending, 7, "the open batch's event counts as pending");
  });

  it("reports every event it holds as queued at a scrape, those of a batch still open included", async () => {
    const { registry, nats, publisher } = setup({ maxBatchEvents: 3, flushMs: 60_000 });
    const queued = () => counter(registry, "postwatch_receiver_publish_queue_events", "");
    for (let i = 0; i < 5; i++) publisher.offer(event(i));
    assert.equal(await queued(), 5, "3 in flight, 2 in the open batch");
    nats.pending[0]?.resolve();
    await settle();
    assert.equal(await queued(), 2);
    publisher.abandon();
    assert.equal(await queued(), 0);
  });

  it("sends a partial batch once flushMs has passed", async () => {
    const { nats, publisher } = setup({ maxBatchEvents: 100, flushMs: 5 });
    publisher.offer(event(1));
    publisher.offer(event(2));
    assert.equal(nats.pending.length, 0);
    await wait(30);
    assert.deepEqual(nats.pending[0]?.pids, [1, 2]);
  });

  it("starts a new batch before one would exceed maxBatchChars", () => {
    const oneEvent = JSON.stringify(event(1)).length + 1;
    const { nats, publisher } = setup({ maxBatchEvents: 100, maxBatchChars: oneEvent * 2 + 1 });
    for (let i = 0; i < 5; i++) publisher.offer(event(i));
    assert.deepEqual(
      nats.pending.map((p) => p.pids),
      [
        [0, 1],
        [2, 3],
      ],
    );
  });

  it("gives every batch its own message ID, and pipelines up to maxInFlight batches", () => {
    const { nats, publisher } = setup({ maxInFlight: 2 });
    for (let i = 0; i < 5; i++) publisher.offer(event(i));
    assert.deepEqual(
      nats.pending.map((p) => p.messageId),
      ["p.0", "p.1"],
    );
    assert.equal(publisher.pending, 5);
  });

  it("counts an event as published only once JetStream acknowledged its batch", async () => {
    const { registry, nats, publisher } = setup({ maxBatchEvents: 2 });
    publisher.offer(event(1));
    publisher.offer(event(2));
    assert.equal(await counter(registry, "postwatch_receiver_events_published_total", '{kind="connect"}'), 0);
    nats.pending[0]?.resolve();
    await publisher.flushed();
    assert.equal(await counter(registry, "postwatch_receiver_events_published_total", '{kind="connect"}'), 2);
  });

  it("counts a batch JetStream had stored already as a duplicate, its events as published once", async () => {
    const { registry, nats, publisher } = setup({});
    publisher.offer(event(1));
    nats.pending[0]?.resolve(true);
    await publisher.flushed();
    assert.equal(await counter(registry, "postwatch_receiver_publish_duplicates_total", ""), 1);
    assert.equal(await counter(registry, "postwatch_receiver_events_published_total", '{kind="connect"}'), 1);
  });

  it("drops and counts events beyond the queue bound instead of growing without limit", async () => {
    const { registry, publisher } = setup({ maxQueue: 3, maxInFlight: 1 });
    const accepted = [1, 2, 3, 4, 5].map((pid) => publisher.offer(event(pid)));
    assert.deepEqual(accepted, [true, true, true, false, false]);
    assert.equal(
      await counter(registry, "postwatch_receiver_events_dropped_total", '{reason="queue_full"}'),
      2,
    );
  });

  it("reports saturation at three quarters so TCP inputs can pause, and room once below", async () => {
    const { nats, publisher } = setup({ maxQueue: 4 });
    let room = 0;
    publisher.onRoom(() => room++);
    for (let i = 0; i < 3; i++) publisher.offer(event(i));
    assert.equal(publisher.saturated, true);
    nats.pending[0]?.resolve();
    await settle();
    assert.equal(publisher.saturated, false);
    assert.ok(room > 0);
  });

  it("retries failed batches with the same IDs, in the order they were sealed, whatever order they fail in", async () => {
    const { registry, nats, publisher } = setup({ maxInFlight: 4 });
    for (let i = 0; i < 6; i++) publisher.offer(event(i));
    const [zero, one, two, three] = nats.pending.splice(0, 4);
    // An outage: failures arrive in any order (timeouts oldest first, a dropped connection at once).
    for (const publish of [one, three, zero, two]) publish?.reject(new Error("no PubAck within 5000 ms"));
    await wait(40);
    assert.deepEqual(
      nats.pending.map((p) => p.messageId),
      ["p.0", "p.1", "p.2", "p.3"],
      "each failed batch goes back before every batch sealed after it",
    );
    for (let round = 0; round < 3 && nats.pending.length > 0; round++) {
      for (const publish of nats.pending.splice(0)) publish.resolve();
      await settle();
    }
    await publisher.flushed();
    assert.equal(await counter(registry, "postwatch_receiver_publish_errors_total", ""), 4);
    assert.equal(await counter(registry, "postwatch_receiver_events_published_total", '{kind="connect"}'), 6);
  });

  it("counts what is not yet in flight when a shutdown gives up, and in-flight batches that then fail", async () => {
    const { registry, nats, publisher } = setup({ maxInFlight: 1 });
    for (let i = 0; i < 4; i++) publisher.offer(event(i));
    publisher.abandon();
    assert.equal(
      await counter(registry, "postwatch_receiver_events_dropped_total", '{reason="shutdown"}'),
      3,
    );
    nats.pending[0]?.reject(new Error("publisher closed before the ack"));
    await settle();
    assert.equal(
      await counter(registry, "postwatch_receiver_events_dropped_total", '{reason="shutdown"}'),
      4,
    );
    assert.equal(nats.pending.length, 1, "an abandoned batch is not retried");
  });

  describe("with event partitions", () => {
    const PARTITIONS = 12;
    const on = (host: string, pid: number) => ({ ...event(pid), host });
    const subjectOf = (host: string) => `postwatch.events.batch.${eventPartition(host, PARTITIONS)}`;
    // mx9 and mx12 share a partition; mx1 and mx2 each have one of their own.
    const [shared, alsoShared, alone, other] = ["mx9", "mx12", "mx1", "mx2"] as const;

    it("puts each partition's events in batches of their own, on its subject, each host's in order", () => {
      assert.equal(eventPartition(shared, PARTITIONS), eventPartition(alsoShared, PARTITIONS));
      assert.equal(new Set([shared, alone, other].map((h) => eventPartition(h, PARTITIONS))).size, 3);
      const { nats, publisher } = setup({ partitions: PARTITIONS, maxBatchEvents: 3, maxInFlight: 100 });
      const hosts = [shared, alone, alsoShared, other, alone, shared, other, alone, alsoShared, other];
      hosts.forEach((host, pid) => {
        publisher.offer(on(host, pid));
      });
      assert.deepEqual(
        nats.pending.map((p) => ({ subject: p.subject, hosts: p.hosts, pids: p.pids })),
        [
          { subject: subjectOf(shared), hosts: [shared, alsoShared, shared], pids: [0, 2, 5] },
          { subject: subjectOf(alone), hosts: [alone, alone, alone], pids: [1, 4, 7] },
          { subject: subjectOf(other), hosts: [other, other, other], pids: [3, 6, 9] },
        ],
        "each batch full at three events, in the order its third event came",
      );
      assert.deepEqual(
        nats.pending.map((p) => p.messageId),
        ["p.0", "p.1", "p.2"],
        "one sequence of IDs across partitions",
      );
      assert.equal(publisher.pending, 10, "the open batch of the shared partition counts as pending");
    });

    it("sends every partition's partial batch flushMs after its first event", async () => {
      const { nats, publisher } = setup({ partitions: PARTITIONS, maxBatchEvents: 100, flushMs: 5 });
      publisher.offer(on(alone, 1));
      publisher.offer(on(other, 2));
      publisher.offer(on(alone, 3));
      assert.equal(nats.pending.length, 0);
      await wait(30);
      assert.deepEqual(
        nats.pending.map((p) => [p.subject, p.pids]).sort(),
        [
          [subjectOf(alone), [1, 3]],
          [subjectOf(other), [2]],
        ].sort(),
      );
    });

    it("bounds the events of all partitions together by maxQueue, open batches included", async () => {
      const { registry, publisher } = setup({ partitions: PARTITIONS, maxQueue: 5, maxBatchEvents: 100 });
      const accepted = Array.from({ length: 12 }, (_, i) => publisher.offer(on(`mx${i + 1}`, i)));
      assert.deepEqual(
        accepted,
        Array.from({ length: 12 }, (_, i) => i < 5),
      );
      assert.equal(publisher.pending, 5);
      assert.equal(
        await counter(registry, "postwatch_receiver_events_dropped_total", '{reason="queue_full"}'),
        7,
      );
    });

    it("retries failed batches of every partition in the order they were sealed, on their subjects", async () => {
      const { registry, nats, publisher } = setup({ partitions: PARTITIONS, maxBatchEvents: 2 });
      const hosts = [alone, other, alone, other, alone, other, alone, other];
      hosts.forEach((host, pid) => {
        publisher.offer(on(host, pid));
      });
      const first = nats.pending.splice(0, 4);
      for (const index of [3, 0, 2, 1]) first[index]?.reject(new Error("no PubAck within 5000 ms"));
      await wait(40);
      assert.deepEqual(
        nats.pending.map((p) => [p.messageId, p.subject, p.pids]),
        [
          ["p.0", subjectOf(alone), [0, 2]],
          ["p.1", subjectOf(other), [1, 3]],
          ["p.2", subjectOf(alone), [4, 6]],
          ["p.3", subjectOf(other), [5, 7]],
        ],
      );
      for (const publish of nats.pending.splice(0)) publish.resolve();
      await publisher.flushed();
      assert.equal(
        await counter(registry, "postwatch_receiver_events_published_total", '{kind="connect"}'),
        8,
      );
    });

    it("gives up the open batches of every partition on a shutdown, counting them", async () => {
      const { registry, nats, publisher } = setup({ partitions: PARTITIONS, maxBatchEvents: 100 });
      for (const [pid, host] of [alone, other, shared].entries()) publisher.offer(on(host, pid));
      publisher.abandon();
      await wait(20);
      assert.equal(nats.pending.length, 0, "no flush timer outlives the shutdown");
      assert.equal(publisher.pending, 0);
      assert.equal(
        await counter(registry, "postwatch_receiver_events_dropped_total", '{reason="shutdown"}'),
        3,
      );
    });
  });
});
