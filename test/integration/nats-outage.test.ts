/**
 * NATS goes away under a running pipeline and comes back on the same port with the same store.
 * Syslog lines received meanwhile are held by the receiver, published after the reconnect, and still
 * become exactly one alert; /readyz says 503 while NATS is away and 200 once it is back.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { fixtureLines, traditionalForward } from "../helpers/fixtures.js";
import { sample, scrape, waitForMetrics } from "../helpers/metrics.js";
import type { TestNats } from "../helpers/nats-server.js";
import { startTestPipeline, type TestPipeline } from "../helpers/pipeline.js";
import { readEvents } from "../helpers/stream-reader.js";
import { sendTcp } from "../helpers/syslog-client.js";
import type { WebhookServer } from "../helpers/webhook-server.js";

const SEED_ATTACKER = "176.103.49.30";
const ATTACKER = "203.0.113.66";

describe("NATS outage under a running pipeline", () => {
  let pipeline: TestPipeline;
  let nats: TestNats;
  let webhook: WebhookServer;
  let services: RunningServices;
  let syslogPort: number;

  before(async () => {
    pipeline = await startTestPipeline();
    ({ nats, webhook, services, syslogPort } = pipeline);
  });

  after(async () => {
    await pipeline?.[Symbol.asyncDispose]();
  });

  const readyz = async () =>
    (await fetch(`http://127.0.0.1:${services.metricsPort}/readyz`, { signal: AbortSignal.timeout(2000) }))
      .status;
  const waitForReadyz = async (status: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await readyz();
      if (got === status) return;
      assert.ok(Date.now() < deadline, `/readyz still ${got} after ${timeoutMs} ms, expected ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it("holds the lines received while NATS is down and alerts once it is back", async () => {
    assert.equal(await readyz(), 200);
    const lines = fixtureLines("sasl-bruteforce-seed002.log").map((line) =>
      traditionalForward(line.replaceAll(SEED_ATTACKER, ATTACKER)),
    );

    await nats.stop();
    await waitForReadyz(503, 5000);

    await sendTcp(syslogPort, lines, "lf");
    // Received and queued, not published: JetStream is not there to acknowledge anything.
    const during = await waitForMetrics(
      services.metricsPort,
      (text) => sample(text, "postwatch_receiver_lines_total", { outcome: "postfix" }) === lines.length,
      5000,
      "the receiver to take every line while NATS is down",
    );
    assert.equal(
      sample(during, "postwatch_receiver_events_published_total", { kind: "sasl_auth_failed" }),
      0,
    );
    assert.equal(sample(during, "postwatch_receiver_publish_queue_events"), lines.length);
    assert.equal(await readyz(), 503);

    await nats.restart();
    await waitForReadyz(200, 10_000);

    const isOurs = (r: { body: unknown }) => {
      const alert = r.body as Alert;
      return alert.rule === "sasl_bruteforce" && alert.key?.value === ATTACKER && alert.state === "firing";
    };
    const hook = await webhook.waitFor("/hook", (r) => r.some(isOurs), 15_000);
    const alert = hook.find(isOurs)?.body as Alert;
    assert.deepEqual(alert.hosts, ["mx1"]);

    // No silent loss and no double publish: every line is in the stream exactly once.
    const after = await waitForMetrics(
      services.metricsPort,
      (text) => sample(text, "postwatch_receiver_publish_queue_events") === 0,
      5000,
      "the receiver's queue to drain",
    );
    const published = after
      .split("\n")
      .filter((l) => l.startsWith("postwatch_receiver_events_published_total{"))
      .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
    assert.equal(published, lines.length);
    assert.equal(sample(after, "postwatch_receiver_events_dropped_total", { reason: "queue_full" }), 0);
    await using events = await readEvents(nats.url);
    await events.waitFor((m) => m.length >= lines.length, 5000, "the events in the stream");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(events.messages.length, lines.length, "each line stored once");

    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(webhook.requests.filter(isOurs).length, 1, "one alert, delivered once");
    const metrics = await scrape(services.metricsPort);
    assert.equal(
      sample(metrics, "postwatch_detector_alerts_total", { rule: "sasl_bruteforce", state: "firing" }),
      1,
    );
  });
});
