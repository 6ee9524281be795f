/**
 * Issue: "A test kills the detector in the middle of an attack and starts it again: the alert fires
 * once." The detector is stopped after three of the attacker's failures; a new detector must rebuild
 * its windows from the stream, fire on the fifth failure, and never fire the same alert again.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { runOne } from "../../services/cli/src/online.js";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { encodeEventBatch } from "../../shared/src/contracts/event-batch.js";
import { ALERTS_STREAM, DETECTOR_DURABLE, EVENTS_STREAM } from "../../shared/src/contracts/subjects.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { eventSubjectOf } from "../helpers/event-subjects.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

const ATTACKER = "176.103.49.30";

/** Seed 002's failure line, one SMTP session per guess, a few seconds apart, timestamped now-ish. */
function failureLines(count: number, startSecond: number): string[] {
  const base = Date.now() - 60_000;
  return Array.from({ length: count }, (_, i) => {
    const ts = new Date(base + (startSecond + i) * 3000).toISOString();
    return `${ts} mx1 postfix/smtpd[${32451 + startSecond + i}]: warning: unknown[${ATTACKER}]: SASL PLAIN authentication failed: `;
  });
}

describe("detector restart in the middle of an attack", () => {
  let nats: TestNats;
  let client: NatsConnection;
  let detector: RunningServices | undefined;
  const env = () => ({ ...nats.env, METRICS_HOST: "127.0.0.1", METRICS_PORT: "0", LOG_LEVEL: "silent" });

  before(async () => {
    nats = await startTestNats();
    client = await connect({ servers: nats.url });
  });

  after(async () => {
    await detector?.stop();
    await client?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  const publish = async (lines: string[]) => {
    const js = jetstream(client);
    for (const line of lines) {
      const outcome = lineToEvent(line, { referenceTime: Date.now(), fallbackHost: "" });
      assert.equal(outcome.type, "event");
      if (outcome.type === "event")
        await js.publish(
          eventSubjectOf(outcome.event.host),
          encodeEventBatch([JSON.stringify(outcome.event)]),
        );
    }
  };

  /** Waits until the detector has acked everything in the event stream. */
  const caughtUp = async () => {
    const jsm = await jetstreamManager(client);
    const deadline = Date.now() + 5000;
    for (;;) {
      const [stream, consumer] = await Promise.all([
        jsm.streams.info(EVENTS_STREAM),
        jsm.consumers.info(EVENTS_STREAM, DETECTOR_DURABLE),
      ]);
      if (consumer.ack_floor.stream_seq === stream.state.last_seq) return;
      assert.ok(Date.now() < deadline, "detector did not catch up within 5 s");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const storedAlerts = async (): Promise<Alert[]> => {
    const consumer = await jetstream(client).consumers.get(ALERTS_STREAM, {
      deliver_policy: DeliverPolicy.All,
    });
    const alerts: Alert[] = [];
    const pending = (await jetstreamManager(client).then((jsm) => jsm.streams.info(ALERTS_STREAM))).state
      .messages;
    if (pending === 0) return alerts;
    for await (const message of await consumer.fetch({ max_messages: pending, expires: 2000 })) {
      alerts.push(message.json<Alert>());
      if (alerts.length === pending) break;
    }
    return alerts;
  };
  const bruteForceAlerts = async () =>
    (await storedAlerts()).filter(
      (a) => a.rule === "sasl_bruteforce" && a.key.value === ATTACKER && a.state === "firing",
    );

  it("fires once when the attack straddles a restart, and not again after another restart", async () => {
    detector = await runOne("detector", env());
    await publish(failureLines(3, 0));
    await caughtUp();
    await detector.stop();
    assert.equal((await bruteForceAlerts()).length, 0, "three failures are below the threshold of five");

    detector = await runOne("detector", env());
    await publish(failureLines(3, 3));
    await caughtUp();
    const fired = await bruteForceAlerts();
    assert.equal(fired.length, 1, "the restarted detector must count the failures from before the restart");
    assert.equal(fired[0]?.count, 5);

    await detector.stop();
    detector = await runOne("detector", env());
    await publish(failureLines(2, 6));
    await caughtUp();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal((await bruteForceAlerts()).length, 1, "a second restart must not fire the same alert again");
  });

  it("remembers a user's usual address across a restart, older than the rule windows' warm-up", async () => {
    const at = (second: number) => new Date(Date.now() - 30_000 + second * 1000).toISOString();
    const shortWarmup = () => ({ ...env(), DETECTOR_WARMUP_MAX_SECONDS: "1" });
    await detector?.stop();
    detector = await runOne("detector", shortWarmup());
    await publish([
      `${at(0)} mx1 postfix/smtpd[4001]: 1A2B3C4D5E: client=home.example[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@example.org`,
    ]);
    await caughtUp();
    await detector.stop();
    // The login is now older than the windows' warm-up (1 s): only the login history pass reads it.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    detector = await runOne("detector", shortWarmup());
    await publish([
      ...[1, 2, 3].map(
        (n) =>
          `${at(n)} mx1 postfix/smtpd[${4010 + n}]: warning: unknown[203.0.113.99]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=alice@example.org`,
      ),
      `${at(5)} mx1 postfix/smtpd[4020]: 2B3C4D5E6F: client=home.example[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@example.org`,
    ]);
    await caughtUp();
    const fired = (await storedAlerts()).filter(
      (a) => a.key.value === "alice@example.org" && a.state === "firing",
    );
    assert.deepEqual(
      fired.map((a) => a.rule),
      ["account_targeted"],
      "alice logged in from her usual address: targeted, not a guessed password",
    );
  });
});
