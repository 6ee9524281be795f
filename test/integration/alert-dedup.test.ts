/**
 * Alerts are published with their identity as JetStream message ID, so an alert derived a second
 * time (its events redelivered because their acks were lost) is stored once. Losing every ack is
 * simulated by deleting the detector's durable consumer: the next detector reads the stream from
 * the start and derives the same alert again.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { runOne } from "../../services/cli/src/online.js";
import { ALERTS_STREAM, DETECTOR_DURABLE, EVENTS_STREAM } from "../../shared/src/contracts/subjects.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import { eventSubjectOf } from "../helpers/event-subjects.js";
import { startTestNats } from "../helpers/nats-server.js";

describe("alert message IDs", { timeout: 60_000 }, () => {
  it("store an alert derived twice from redelivered events once", async () => {
    await using nats = await startTestNats();
    const client = await connect({ servers: nats.url });
    const env = { ...nats.env, METRICS_HOST: "127.0.0.1", METRICS_PORT: "0", LOG_LEVEL: "silent" };
    try {
      const jsm = await jetstreamManager(client);
      const until = async (what: string, done: () => Promise<boolean>) => {
        const deadline = Date.now() + 15_000;
        while (!(await done())) {
          assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      const alertsStored = async () => (await jsm.streams.info(ALERTS_STREAM)).state.messages;
      const caughtUp = async () => {
        const [stream, consumer] = await Promise.all([
          jsm.streams.info(EVENTS_STREAM),
          jsm.consumers.info(EVENTS_STREAM, DETECTOR_DURABLE),
        ]);
        return consumer.ack_floor.stream_seq === stream.state.last_seq;
      };

      let detector = await runOne("detector", env);
      const js = jetstream(client);
      for (let i = 0; i < 5; i++) {
        const line = `${new Date(Date.now() - 60_000 + i * 2000).toISOString()} mx1 postfix/smtpd[${100 + i}]: warning: unknown[203.0.113.88]: SASL PLAIN authentication failed: `;
        const outcome = lineToEvent(line, { referenceTime: Date.now(), fallbackHost: "" });
        assert.equal(outcome.type, "event");
        if (outcome.type === "event")
          await js.publish(eventSubjectOf(outcome.event.host), JSON.stringify(outcome.event));
      }
      await until("the alert", async () => (await alertsStored()) >= 1);
      await until("the detector to ack every event", caughtUp);
      await detector.stop();
      // The brute force may raise other rules' alerts too; each must be stored once.
      const stored = await alertsStored();

      await jsm.consumers.delete(EVENTS_STREAM, DETECTOR_DURABLE);
      detector = await runOne("detector", env);
      try {
        await until("the events read again", async () => await caughtUp().catch(() => false));
        const metrics = await (await fetch(`http://127.0.0.1:${detector.metricsPort}/metrics`)).text();
        assert.match(
          metrics,
          /postwatch_detector_alerts_total\{rule="sasl_bruteforce",state="firing"\} 1/,
          "derived again",
        );
        assert.equal(await alertsStored(), stored, "stored once");
      } finally {
        await detector.stop();
      }
    } finally {
      await client.close();
    }
  });
});
