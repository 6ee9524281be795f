/**
 * Issue 15: "with 1, 2 and 4 replicas of each stage, each replica processes about 1/N of the events;
 * the alerts are identical to a single-process replay", on a real 3-node JetStream cluster with R3
 * streams. Four mail servers, one on each of four event partitions and each writing as much, go through a
 * receiver, N correlate and N evaluate replicas; each correlator must read exactly its partitions'
 * events, each a share of about 1/N, each evaluator about 1/N of the facts, and the keys alerted on
 * must be those `postwatch replay` alerts on over the same lines, each once.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { runOne } from "../../services/cli/src/online.js";
import { mailServersLog } from "../../services/detector/src/stages/partitioned.testkit.js";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { eventPartition } from "../../shared/src/contracts/partitions.js";
import { ALERTS_STREAM, EVENTS_STREAM, FACTS_STREAM } from "../../shared/src/contracts/subjects.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { traditionalForward } from "../helpers/fixtures.js";
import { sample, scrape } from "../helpers/metrics.js";
import { natsServerMissing, startTestNatsCluster } from "../helpers/nats-cluster.js";
import { freePort } from "../helpers/ports.js";
import { replayLines } from "../helpers/replay.js";
import { consumersCaughtUp, waitUntil } from "../helpers/settle.js";
import { sendTcp } from "../helpers/syslog-client.js";

/** Enough for 4 replicas: on a cluster every partition's consumer is a replicated group, slow to create. */
const PARTITIONS = 4;
const SETTLE_TIMEOUT_MS = 60_000;

/** The first of mx1, mx2, … on each event partition: servers that spread evenly over the partitions. */
const hosts = Array.from({ length: PARTITIONS }, (_, p) => {
  for (let k = 1; ; k++) if (eventPartition(`mx${k}`, PARTITIONS) === p) return `mx${k}`;
});
const lines = mailServersLog(hosts, 2000);
const events = lines.flatMap((line) => {
  const outcome = lineToEvent(line, { referenceTime: Date.now(), fallbackHost: "" });
  return outcome.type === "event" ? [outcome.event] : [];
});
const firingKey = (alert: Alert) => `${alert.rule} ${alert.key.type}=${alert.key.value}`;
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe("detector stages on a 3-node NATS JetStream cluster", { skip: natsServerMissing() }, () => {
  const expected = replayLines(lines).then(
    (result) => new Set(result.alerts.filter((a) => a.state === "firing").map(firingKey)),
  );

  for (const replicas of [1, 2, 4]) {
    it(`${replicas} replica(s) of each stage: each about 1/${replicas} of the work, the replay's alerts`, async () => {
      await using cluster = await startTestNatsCluster();
      const env = {
        ...cluster.env,
        NATS_STREAM_REPLICAS: "3",
        EVENT_PARTITIONS: String(PARTITIONS),
        FACT_PARTITIONS: String(PARTITIONS),
        METRICS_HOST: "127.0.0.1",
        METRICS_PORT: "0",
        LOG_LEVEL: "silent",
      };
      const services: RunningServices[] = [];
      const start = async (name: "receiver" | "detector", extra: Record<string, string>) => {
        const running = await runOne(name, { ...env, ...extra });
        services.push(running);
        return running;
      };
      const client = await connect({
        servers: cluster.nodes.map((node) => node.url),
        name: "postwatch-test",
      });
      try {
        const stage = (name: string) => (index: number) =>
          start("detector", {
            DETECTOR_STAGE: name,
            DETECTOR_REPLICAS: String(replicas),
            DETECTOR_REPLICA_INDEX: String(index),
          });
        const indexes = Array.from({ length: replicas }, (_, i) => i);
        const evaluators: RunningServices[] = [];
        for (const index of indexes) evaluators.push(await stage("evaluate")(index));
        const correlators: RunningServices[] = [];
        for (const index of indexes) correlators.push(await stage("correlate")(index));
        const syslogPort = await freePort();
        await start("receiver", {
          SYSLOG_HOST: "127.0.0.1",
          SYSLOG_TCP_PORT: String(syslogPort),
          SYSLOG_UDP_PORT: "0",
        });
        const jsm = await jetstreamManager(client);
        for (const stream of [EVENTS_STREAM, FACTS_STREAM, ALERTS_STREAM])
          assert.equal(
            (await jsm.streams.info(stream)).config.num_replicas,
            3,
            `${stream} is kept on 3 nodes`,
          );

        await sendTcp(
          syslogPort,
          lines.map((line) => traditionalForward(line)),
          "lf",
        );
        const counter = (name: string) => (replica: RunningServices) =>
          scrape(replica.metricsPort).then((text) => sample(text, name, { outcome: "processed" }));
        await waitUntil(SETTLE_TIMEOUT_MS, "every event through both stages", async () => {
          const read = await Promise.all(correlators.map(counter("postwatch_detector_events_total")));
          return (
            sum(read) >= events.length &&
            (await consumersCaughtUp(jsm, EVENTS_STREAM)) &&
            (await consumersCaughtUp(jsm, FACTS_STREAM))
          );
        });
        const eventsRead = await Promise.all(correlators.map(counter("postwatch_detector_events_total")));
        const factsRead = await Promise.all(evaluators.map(counter("postwatch_detector_facts_total")));
        const factsPublished = await Promise.all(
          correlators.map(async (c) =>
            sample(await scrape(c.metricsPort), "postwatch_detector_facts_published_total"),
          ),
        );
        const ownEvents = (index: number) =>
          events.filter((e) => eventPartition(e.host, PARTITIONS) % replicas === index).length;
        assert.deepEqual(eventsRead, indexes.map(ownEvents), "each correlator read its partitions' events");
        assert.equal(sum(factsRead), sum(factsPublished), "every fact published was read once");
        // Events: the servers spread evenly over the partitions. Facts go by rule key, and a busy
        // attacker's key is one partition's: for these lines, the evaluators' shares are 0.7 to 1.35.
        for (const [what, counts, spread] of [
          ["events", eventsRead, 0.25],
          ["facts", factsRead, 0.5],
        ] as const) {
          const total = sum(counts);
          for (const [index, count] of counts.entries()) {
            const share = (count / total) * replicas;
            assert.ok(
              Math.abs(share - 1) < spread,
              `${what}, replica ${index}: ${count} of ${total} (${counts})`,
            );
          }
        }

        const alerts = await storedAlerts(jsm, client);
        const firing = alerts.filter((a) => a.state === "firing").map(firingKey);
        assert.deepEqual(new Set(firing), await expected, "the keys the replay alerts on");
        assert.equal(firing.length, new Set(firing).size, "each key fires once");
      } finally {
        for (const running of services.reverse()) await running.stop();
        await client.close();
      }
    });
  }
});

async function storedAlerts(
  jsm: JetStreamManager,
  client: Parameters<typeof jetstream>[0],
): Promise<Alert[]> {
  const stored = (await jsm.streams.info(ALERTS_STREAM)).state.messages;
  const alerts: Alert[] = [];
  if (stored === 0) return alerts;
  const consumer = await jetstream(client).consumers.get(ALERTS_STREAM);
  for await (const message of await consumer.fetch({ max_messages: stored, expires: 5000 })) {
    alerts.push(message.json<Alert>());
    if (alerts.length === stored) break;
  }
  return alerts;
}
