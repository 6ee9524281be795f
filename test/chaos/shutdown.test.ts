/**
 * Shutdown with a deadline: a detector whose alert publish keeps failing (its alert stream is gone)
 * must still stop, leave the event behind the unstored alert unacked (it is redelivered after a
 * restart, so the alert is not lost), and the whole process must stop within its deadline. Stopped
 * while NATS is away, the services stop for good: their client does not reconnect once it is back.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { z } from "zod";
import { ALERTS_STREAM, DETECTOR_DURABLE, EVENTS_STREAM } from "../../shared/src/contracts/subjects.js";
import { commonConfig, loadConfig, natsConfig } from "../../shared/src/runtime/config.js";
import {
  runServices,
  type ServiceDefinition,
  SHUTDOWN_DEADLINE_MS,
} from "../../shared/src/runtime/service.js";
import { bruteForceLines } from "../helpers/attack.js";
import { sample, waitForMetrics } from "../helpers/metrics.js";
import { startTestNats } from "../helpers/nats-server.js";
import { startTestPipeline } from "../helpers/pipeline.js";
import { readEvents } from "../helpers/stream-reader.js";
import { sendTcp } from "../helpers/syslog-client.js";

describe("chaos: shutdown while alerts cannot be stored", { timeout: 60_000 }, () => {
  it("stops within the deadline and leaves the alert's event unacked", async () => {
    await using pipeline = await startTestPipeline({ env: { LOG_LEVEL: process.env.CHAOS_LOG ?? "silent" } });
    const client = await connect({ servers: pipeline.nats.url });
    try {
      const jsm = await jetstreamManager(client);
      await jsm.streams.delete(ALERTS_STREAM);
      await sendTcp(pipeline.syslogPort, bruteForceLines({ count: 5, attacker: "203.0.113.7" }), "lf");
      await waitForMetrics(
        pipeline.services.metricsPort,
        (text) => sample(text, "postwatch_detector_alert_publish_errors_total") >= 2,
        15_000,
        "the detector retrying its alert publish",
      );

      // The deadline is the last resort for a stuck part; the detector must not need it.
      const patience = new AbortController();
      const outcome = await Promise.race([
        pipeline.services.stop().then(() => "stopped"),
        sleep(SHUTDOWN_DEADLINE_MS / 2, "still stopping", { signal: patience.signal }),
      ]);
      patience.abort();
      assert.equal(outcome, "stopped");

      const [stream, consumer] = await Promise.all([
        jsm.streams.info(EVENTS_STREAM),
        jsm.consumers.info(EVENTS_STREAM, DETECTOR_DURABLE),
      ]);
      await using events = await readEvents(pipeline.nats.url);
      await events.waitFor((m) => m.length === 5, 5000, "the five failures in the event stream");
      assert.ok(
        consumer.ack_floor.stream_seq < stream.state.last_seq,
        "the event whose alert was never stored must not be acked",
      );
    } finally {
      await client.close();
    }
  });
});

describe("shutdown deadline", { timeout: 30_000 }, () => {
  it("stops the process when one service's drain never finishes, and the others still drain", async () => {
    await using nats = await startTestNats();
    const drained: string[] = [];
    const service = (name: string, drain: () => Promise<void>): ServiceDefinition => ({
      name,
      loadConfig: (env) => loadConfig(z.object({ ...commonConfig, ...natsConfig() }), env),
      start: async () => ({ readiness: [], drain }),
    });
    const services = await runServices(
      [
        service("first", async () => {
          drained.push("first");
        }),
        service("stuck", () => new Promise<void>(() => undefined)),
      ],
      { NATS_URL: nats.url, METRICS_HOST: "127.0.0.1", METRICS_PORT: "0", LOG_LEVEL: "silent" },
      { processName: "test", shutdownDeadlineMs: 300 },
    );
    const patience = new AbortController();
    const outcome = await Promise.race([
      services.stop().then(() => "stopped"),
      sleep(10_000, "still stopping", { signal: patience.signal }),
    ]);
    patience.abort();
    assert.equal(outcome, "stopped");
    assert.deepEqual(drained, ["first"]);
  });

  it("stops for good while NATS is away: nothing dials NATS's address after it has stopped", async () => {
    await using nats = await startTestNats();
    const quiet: ServiceDefinition = {
      name: "quiet",
      loadConfig: (env) => loadConfig(z.object({ ...commonConfig, ...natsConfig() }), env),
      start: async () => ({ readiness: [], drain: async () => undefined }),
    };
    const services = await runServices(
      [quiet],
      { NATS_URL: nats.url, METRICS_HOST: "127.0.0.1", METRICS_PORT: "0", LOG_LEVEL: "silent" },
      { processName: "test", shutdownDeadlineMs: 300 },
    );
    await nats.stop();
    await services.stop();
    // In NATS's place, a listener that counts who dials it: a client still reconnecting would.
    let dialled = 0;
    const listener = createServer((socket) => {
      dialled++;
      socket.destroy();
    });
    await new Promise<void>((resolve) =>
      listener.listen(Number(new URL(nats.url).port), "127.0.0.1", resolve),
    );
    try {
      // Clients try again every second (connectNats).
      await sleep(3000);
      assert.equal(dialled, 0, "a stopped service's NATS client is still reconnecting");
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
