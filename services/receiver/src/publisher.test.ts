import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { createReceiverMetrics } from "./metrics.js";
import { EventPublisher, type PublishFn } from "./publisher.js";

const event = (pid: number): PostfixEvent => ({
  v: 1,
  kind: "connect",
  ts: "2026-02-23T11:57:42.000Z",
  host: "mx1",
  program: "postfix/smtpd",
  daemon: "smtpd",
  pid,
  client: { host: "unknown", ip: "176.103.49.30" },
});

/** A JetStream stand-in whose acks the test releases or fails by hand. */
function manualPublish() {
  const pending: { subject: string; pid: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  const publish: PublishFn = (subject, payload) =>
    new Promise((resolve, reject) => {
      const pid = (JSON.parse(new TextDecoder().decode(payload)) as PostfixEvent).pid ?? -1;
      pending.push({ subject, pid, resolve: () => resolve(undefined), reject });
    });
  return { publish, pending };
}

async function counter(registry: Registry, name: string, labels: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

const setup = (maxQueue: number, maxInFlight: number) => {
  const registry = new Registry();
  const metrics = createReceiverMetrics(registry);
  const nats = manualPublish();
  const publisher = new EventPublisher(
    nats.publish,
    { maxQueue, maxInFlight, retryDelayMs: 10 },
    metrics,
    pino({ level: "silent" }),
  );
  return { registry, nats, publisher };
};

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("EventPublisher", () => {
  it("pipelines up to maxInFlight publishes on the event kind's subject", () => {
    const { nats, publisher } = setup(100, 2);
    for (let i = 0; i < 5; i++) publisher.offer(event(i));
    assert.equal(nats.pending.length, 2);
    assert.equal(nats.pending[0]?.subject, "postwatch.events.connect");
    assert.equal(publisher.pending, 5);
  });

  it("counts an event as published only once JetStream acknowledged it", async () => {
    const { registry, nats, publisher } = setup(100, 10);
    publisher.offer(event(1));
    assert.equal(await counter(registry, "postwatch_receiver_events_published_total", '{kind="connect"}'), 0);
    nats.pending[0]?.resolve();
    await publisher.flushed();
    assert.equal(await counter(registry, "postwatch_receiver_events_published_total", '{kind="connect"}'), 1);
  });

  it("drops and counts events beyond the queue bound instead of growing without limit", async () => {
    const { registry, publisher } = setup(3, 1);
    const accepted = [1, 2, 3, 4, 5].map((pid) => publisher.offer(event(pid)));
    assert.deepEqual(accepted, [true, true, true, false, false]);
    assert.equal(
      await counter(registry, "postwatch_receiver_events_dropped_total", '{reason="queue_full"}'),
      2,
    );
  });

  it("reports saturation at three quarters so TCP inputs can pause, and room once below", async () => {
    const { nats, publisher } = setup(4, 4);
    let room = 0;
    publisher.onRoom(() => room++);
    for (let i = 0; i < 3; i++) publisher.offer(event(i));
    assert.equal(publisher.saturated, true);
    nats.pending[0]?.resolve();
    await settle();
    assert.equal(publisher.saturated, false);
    assert.ok(room > 0);
  });

  it("retries a failed publish, first in line, until JetStream takes it", async () => {
    const { registry, nats, publisher } = setup(100, 1);
    publisher.offer(event(1));
    publisher.offer(event(2));
    nats.pending.shift()?.reject(new Error("no responders"));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(nats.pending[0]?.pid, 1, "the failed event goes first again");
    nats.pending.shift()?.resolve();
    await settle();
    nats.pending.shift()?.resolve();
    await publisher.flushed();
    assert.equal(await counter(registry, "postwatch_receiver_publish_errors_total", ""), 1);
    assert.equal(await counter(registry, "postwatch_receiver_events_published_total", '{kind="connect"}'), 2);
  });

  it("counts what is still queued when a shutdown gives up", async () => {
    const { registry, publisher } = setup(100, 1);
    for (let i = 0; i < 4; i++) publisher.offer(event(i));
    publisher.abandon();
    assert.equal(
      await counter(registry, "postwatch_receiver_events_dropped_total", '{reason="shutdown"}'),
      3,
    );
  });
});
