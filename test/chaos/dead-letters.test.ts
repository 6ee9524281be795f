/**
 * Dead letters against the whole pipeline on the nats-server installed here (Debian's 2.9, which
 * redelivers a message answered with `term`). 5,000 events of a schema this detector does not know
 * (as a newer receiver sends during a rolling upgrade), more than the detector keeps in flight, must
 * be set aside and acked, and a brute force after them must still alert; an alert no sink takes
 * must be set aside after its last attempt rather than come back; `postwatch dead-letters` lists
 * them and `--resend` puts them back.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  ALERTS_STREAM,
  alerterDurable,
  DEAD_LETTERS_STREAM,
  DETECTOR_DURABLE,
  EVENTS_STREAM,
} from "../../shared/src/contracts/subjects.js";
import { readDeadLetters } from "../../shared/src/runtime/dead-letters.js";
import { bruteForceLines } from "../helpers/attack.js";
import { eventSubjectOf } from "../helpers/event-subjects.js";
import { sample, scrape, waitForMetrics } from "../helpers/metrics.js";
import { startTestPipeline } from "../helpers/pipeline.js";
import { freePort } from "../helpers/ports.js";
import { sendTcp } from "../helpers/syslog-client.js";

/** The sum of every sample of a metric, whatever its labels. */
const sumOf = (text: string, name: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);

const MAIN = fileURLToPath(new URL("../../services/cli/src/main.js", import.meta.url));
const UNREADABLE = 5000;
const ATTACKER = "203.0.113.77";

describe("chaos: dead letters", { timeout: 120_000 }, () => {
  it("sets unreadable events and undeliverable alerts aside, once each, and detection goes on", async () => {
    // Nothing listens on this port: every webhook attempt fails at once.
    const deadWebhook = `http://127.0.0.1:${await freePort()}/hook`;
    await using pipeline = await startTestPipeline({
      env: { WEBHOOK_URL: deadWebhook, ALERTER_MAX_ATTEMPTS: "2", ALERTER_RETRY_MAX_MS: "200" },
    });
    const client = await connect({ servers: pipeline.nats.url });
    try {
      const js = jetstream(client);
      const jsm = await jetstreamManager(client);
      const newer = JSON.stringify({
        v: 2,
        ts: new Date().toISOString(),
        host: "mx1",
        kind: "connect",
        peer: { address: "192.0.2.5" },
      });
      await Promise.all(Array.from({ length: UNREADABLE }, () => js.publish(eventSubjectOf("mx1"), newer)));
      await sendTcp(pipeline.syslogPort, bruteForceLines({ count: 5, attacker: ATTACKER }), "lf");

      const metricsPort = pipeline.services.metricsPort;
      await waitForMetrics(
        metricsPort,
        (text) =>
          sample(text, "postwatch_detector_alerts_total", { rule: "sasl_bruteforce", state: "firing" }) === 1,
        60_000,
        "the brute force alert after 5,000 unreadable events",
      );
      // Every alert fails twice at the dead webhook, then is set aside. The brute force may raise
      // other rules' alerts too: each one published is given up, and set aside, once.
      const failedAll = await waitForMetrics(
        metricsPort,
        (text) => {
          const failed = sample(text, "postwatch_alerter_alerts_total", {
            sink: "webhook",
            outcome: "failed",
          });
          return failed >= 1 && failed === sumOf(text, "postwatch_detector_alerts_total");
        },
        20_000,
        "every alert given up",
      );
      const published = sumOf(failedAll, "postwatch_detector_alerts_total");
      await sleep(2000);

      const metrics = await scrape(metricsPort);
      assert.equal(
        sample(metrics, "postwatch_detector_events_total", { outcome: "unsupported_version" }),
        UNREADABLE,
      );
      assert.equal(
        sample(metrics, "postwatch_alerter_alerts_total", { sink: "webhook", outcome: "failed" }),
        published,
        "given up once each, not once per redelivery",
      );
      for (const [stream, durable] of [
        [EVENTS_STREAM, DETECTOR_DURABLE],
        [ALERTS_STREAM, alerterDurable("webhook")],
      ] as const) {
        const consumer = await jsm.consumers.info(stream, durable);
        assert.equal(consumer.num_ack_pending, 0, `${durable}: nothing left in flight`);
        assert.equal(consumer.num_redelivered, 0, `${durable}: nothing redelivered`);
      }
      const letters = await readDeadLetters(client);
      const reasons = new Map<string, number>();
      for (const letter of letters) reasons.set(letter.reason, (reasons.get(letter.reason) ?? 0) + 1);
      assert.deepEqual(Object.fromEntries(reasons), {
        unsupported_version: UNREADABLE,
        delivery_failed: published,
      });

      const cli = (...args: string[]) =>
        spawnSync(process.execPath, [MAIN, "dead-letters", ...args], {
          env: { PATH: process.env.PATH ?? "", NATS_URL: pipeline.nats.url },
          encoding: "utf8",
          timeout: 60_000,
        });
      const listed = cli();
      assert.equal(listed.status, 0, listed.stderr);
      const lines = listed.stdout.trimEnd().split("\n");
      const total = UNREADABLE + published;
      assert.equal(lines.at(-1), `${total} dead letters`);
      assert.ok(
        (lines[0] ?? "").endsWith(`POSTWATCH_EVENTS #1  ${eventSubjectOf("mx1")}  unsupported_version: v=2`),
        lines[0],
      );
      assert.ok(
        lines.some((line) =>
          /POSTWATCH_ALERTS #\d+ +postwatch\.alerts\.sasl_bruteforce \(webhook\) +delivery_failed: /.test(
            line,
          ),
        ),
        lines.slice(-3).join("\n"),
      );

      const eventsBefore = (await jsm.streams.info(EVENTS_STREAM)).state.messages;
      const resent = cli("--resend");
      assert.equal(resent.status, 0, resent.stderr);
      assert.match(resent.stdout, new RegExp(`resent ${total} to their original subjects\\n$`));
      assert.equal((await jsm.streams.info(EVENTS_STREAM)).state.messages, eventsBefore + UNREADABLE);
      assert.ok(
        (await jsm.streams.info(DEAD_LETTERS_STREAM)).state.first_seq > total,
        "the letters resent are gone",
      );
    } finally {
      await client.close();
    }
  });
});
