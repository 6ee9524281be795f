/**
 * Issue: "two or more detector replicas share the work ... and produce the same alerts as one."
 * Two replicas read one stream of the generator's compromised-account day; the rule keys they
 * alert on must be exactly those an offline run of the same log alerts on, each named once, and
 * both replicas must have done part of the work.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Registry } from "prom-client";
import { runOne } from "../../services/cli/src/online.js";
import { replicaDurable } from "../../services/detector/src/partition.js";
import { DetectionPipeline, EventTimeReplay } from "../../services/detector/src/pipeline.js";
import { loadRules } from "../../services/detector/src/rules/index.js";
import { createReceiverMetrics } from "../../services/receiver/src/metrics.js";
import { EventPublisher } from "../../services/receiver/src/publisher.js";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { ALERTS_STREAM, DETECTOR_DURABLE, EVENTS_STREAM } from "../../shared/src/contracts/subjects.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import { DEFAULT_EVENT_PARTITIONS } from "../../shared/src/runtime/config.js";
import { createLogger } from "../../shared/src/runtime/log.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { generateMixedLog } from "../generator/mixed-log.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

const REPLICAS = 2;
const lines = [...generateMixedLog({ lines: 20_000, seed: 7, scenario: "compromised-account" })];
const events = lines.flatMap((line) => {
  const outcome = lineToEvent(line, { referenceTime: Date.now(), fallbackHost: "" });
  return outcome.type === "event" ? [outcome.event] : [];
});
const keyOf = (alert: Alert) => `${alert.rule} ${alert.key.type}=${alert.key.value}`;

describe("detector replicas", () => {
  let nats: TestNats;
  let client: NatsConnection;
  const replicas: RunningServices[] = [];

  before(async () => {
    nats = await startTestNats();
    client = await connect({ servers: nats.url });
    for (let index = 0; index < REPLICAS; index++) {
      replicas.push(
        await runOne("detector", {
          ...nats.env,
          DETECTOR_REPLICAS: String(REPLICAS),
          DETECTOR_REPLICA_INDEX: String(index),
          METRICS_HOST: "127.0.0.1",
          METRICS_PORT: "0",
          LOG_LEVEL: "silent",
        }),
      );
    }
  });

  after(async () => {
    for (const replica of replicas) await replica.stop();
    await client?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  it("alert on exactly the keys one detector alerts on, sharing the keys between them", async () => {
    // As the receiver publishes them: each partition's events in batches of 256, on its subject.
    const js = jetstream(client);
    const publisher = new EventPublisher(
      async (subject, payload, messageId) => {
        await js.publish(subject, payload, { msgID: messageId });
        return {};
      },
      {
        maxQueue: events.length,
        partitions: DEFAULT_EVENT_PARTITIONS,
        maxInFlight: 64,
        retryDelayMs: 100,
        maxBatchEvents: 256,
        maxBatchChars: 256 * 1024,
        flushMs: 5,
        producerId: "test",
      },
      createReceiverMetrics(new Registry()),
      createLogger({ level: "silent", service: "test" }),
    );
    for (const event of events) assert.ok(publisher.offer(event));
    await publisher.flushed();

    const jsm = await jetstreamManager(client);
    const durables = Array.from({ length: REPLICAS }, (_, index) =>
      replicaDurable(DETECTOR_DURABLE, { index, count: REPLICAS }),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const last = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
      const floors = await Promise.all(
        durables.map(async (d) => (await jsm.consumers.info(EVENTS_STREAM, d)).ack_floor.stream_seq),
      );
      if (floors.every((floor) => floor === last)) break;
      assert.ok(Date.now() < deadline, `replicas did not catch up: ${floors} of ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const stored = (await jsm.streams.info(ALERTS_STREAM)).state.messages;
    const live: Alert[] = [];
    const consumer = await js.consumers.get(ALERTS_STREAM);
    for await (const message of await consumer.fetch({ max_messages: stored, expires: 3000 })) {
      live.push(message.json<Alert>());
      if (live.length === stored) break;
    }

    // One detector over the same events; not finished, as a live detector never flushes open messages.
    const single = new EventTimeReplay(new DetectionPipeline({ rules: loadRules({}) }));
    for (const event of events) single.push(event);
    const expected = new Set(single.alerts.filter((a) => a.state === "firing").map(keyOf));
    assert.ok(expected.has("compromised_sender sasl_user=erin@example.org"), [...expected].join(", "));
    const firing = live.filter((a) => a.state === "firing");
    assert.ok(expected.size > 3, `the scenario should raise several alerts, got ${[...expected]}`);
    assert.deepEqual(new Set(firing.map(keyOf)), expected);

    const perReplica = await Promise.all(
      replicas.map(async (replica) => {
        const text = await (await fetch(`http://127.0.0.1:${replica.metricsPort}/metrics`)).text();
        return [...text.matchAll(/^postwatch_detector_alerts_total\{[^}]*state="firing"\} (\d+)$/gm)].reduce(
          (sum, m) => sum + Number(m[1]),
          0,
        );
      }),
    );
    assert.ok(
      perReplica.every((n) => n > 0),
      `each replica should own some alerting keys: ${perReplica}`,
    );
    assert.equal(
      perReplica.reduce((a, b) => a + b, 0),
      firing.length,
      "no alert is published by two replicas",
    );
  });
});
