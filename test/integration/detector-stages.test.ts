/**
 * Issue 15: the partitioned detector on a real nats-server. Four mail servers' lines go through a
 * receiver (events partitioned by host), two correlate replicas (facts partitioned by rule key) and
 * two evaluate replicas. The keys they alert on are exactly those one in-memory pipeline alerts on;
 * each replica read only its own partitions; one evaluate replica stopped midway and started
 * again loses nothing and fires nothing twice.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { runOne } from "../../services/cli/src/online.js";
import { ownedPartitions } from "../../services/detector/src/config.js";
import { DetectionPipeline, EventTimeReplay } from "../../services/detector/src/pipeline.js";
import { loadRules } from "../../services/detector/src/rules/index.js";
import { IN_FLIGHT_BATCHES } from "../../services/detector/src/service/runtime.js";
import { fourServersLog } from "../../services/detector/src/stages/partitioned.testkit.js";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { decodeFactMessage } from "../../shared/src/contracts/facts.js";
import { eventPartition } from "../../shared/src/contracts/partitions.js";
import {
  ALERTS_STREAM,
  correlatorDurable,
  EVENTS_STREAM,
  evaluatorDurable,
  FACTS_STREAM,
} from "../../shared/src/contracts/subjects.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { traditionalForward } from "../helpers/fixtures.js";
import { sample, scrape } from "../helpers/metrics.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { freePort } from "../helpers/ports.js";
import { sendTcp } from "../helpers/syslog-client.js";

const PARTITIONS = 4;
const REPLICAS = 2;
const log = fourServersLog(2_500);
const [first, second] = [Math.floor(log.length / 3), Math.floor((2 * log.length) / 3)];
/**
 * An SMTP session of mx1 (partition 3, correlator 1's) cut by that correlator's restart: two
 * failures before it, the disconnect's `auth=0/2` after. Counted once they are 2, under every
 * threshold; a correlator that forgot the session would count them again, 4, and client_auth_failures
 * would fire for an address that tried twice.
 */
const CUT_SESSION_IP = "198.51.100.99";
const at = (line: string, text: string) => `${line.slice(0, 32)} mx1 postfix/smtpd[4242]: ${text}`;
const failure = `warning: unknown[${CUT_SESSION_IP}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`;
const parts = [
  log.slice(0, first),
  [
    ...log.slice(first, second),
    ...[`connect from unknown[${CUT_SESSION_IP}]`, failure, failure].map((text) =>
      at(log[second - 1] ?? "", text),
    ),
  ],
  [
    at(log[second] ?? "", `disconnect from unknown[${CUT_SESSION_IP}] ehlo=1 auth=0/2 quit=1 commands=2/4`),
    ...log.slice(second),
  ],
];
const lines = parts.flat();
const eventsOf = (some: readonly string[]) =>
  some.flatMap((line) => {
    const outcome = lineToEvent(line, { referenceTime: Date.now(), fallbackHost: "" });
    return outcome.type === "event" ? [outcome.event] : [];
  });
const events = eventsOf(lines);
/** Events the receiver has published, all kinds. */
const published = (text: string) =>
  [...text.matchAll(/^postwatch_receiver_events_published_total\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
const keyOf = (alert: Alert) => `${alert.rule} ${alert.key.type}=${alert.key.value}`;
/** The partitions replica `index` owns, by the rule the replicas use. */
const partitionsOf = (index: number) => ownedPartitions({ index, count: REPLICAS }, PARTITIONS);

describe("partitioned detector stages on NATS", () => {
  let nats: TestNats;
  let client: NatsConnection;
  let jsm: JetStreamManager;
  let syslogPort: number;
  let receiver: RunningServices;
  const correlators: RunningServices[] = [];
  const evaluators: RunningServices[] = [];
  const common = () => ({
    ...nats.env,
    EVENT_PARTITIONS: String(PARTITIONS),
    FACT_PARTITIONS: String(PARTITIONS),
    METRICS_HOST: "127.0.0.1",
    METRICS_PORT: "0",
    LOG_LEVEL: "silent",
  });
  const detector = (stage: "correlate" | "evaluate", index: number) =>
    runOne("detector", {
      ...common(),
      DETECTOR_STAGE: stage,
      DETECTOR_REPLICAS: String(REPLICAS),
      DETECTOR_REPLICA_INDEX: String(index),
    });

  /** Waits until every named consumer has acked everything stored on its subject. */
  async function caughtUp(stream: string, durables: readonly string[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const infos = await Promise.all(
        durables.map((d) => jsm.consumers.info(stream, d).catch(() => undefined)),
      );
      if (infos.every((i) => i !== undefined && i.num_pending === 0 && i.num_ack_pending === 0)) return;
      assert.ok(Date.now() < deadline, `${stream} consumers did not catch up`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  /**
   * The receiver has stored every event sent, then the consumers of the running replicas' partitions
   * (correlated event partitions, evaluated fact partitions; all by default) have read everything.
   */
  async function settled(sent: number, running: { correlated?: number[]; evaluated?: number[] } = {}) {
    const all = Array.from({ length: PARTITIONS }, (_, p) => p);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const count = published(await scrape(receiver.metricsPort));
      if (count >= sent) break;
      assert.ok(Date.now() < deadline, `the receiver published ${count} of ${sent} events`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await caughtUp(EVENTS_STREAM, (running.correlated ?? all).map(correlatorDurable));
    await caughtUp(FACTS_STREAM, (running.evaluated ?? all).map(evaluatorDurable));
  }
  const send = (some: readonly string[]) =>
    sendTcp(
      syslogPort,
      some.map((line) => traditionalForward(line)),
      "lf",
    );

  /** Facts stored per fact partition, read back from the stream. */
  async function factsPerPartition(): Promise<number[]> {
    const counts = new Array<number>(PARTITIONS).fill(0);
    const total = (await jsm.streams.info(FACTS_STREAM)).state.messages;
    const reader = await jetstream(client).consumers.get(FACTS_STREAM);
    let read = 0;
    for await (const message of await reader.fetch({ max_messages: total, expires: 3000 })) {
      const q = Number(message.subject.split(".").at(-1));
      counts[q] = (counts[q] ?? 0) + decodeFactMessage(message.data).length;
      if (++read === total) break;
    }
    return counts;
  }

  before(async () => {
    nats = await startTestNats();
    client = await connect({ servers: nats.url });
    jsm = await jetstreamManager(client);
    syslogPort = await freePort();
    for (let index = 0; index < REPLICAS; index++) evaluators.push(await detector("evaluate", index));
    for (let index = 0; index < REPLICAS; index++) correlators.push(await detector("correlate", index));
    receiver = await runOne("receiver", {
      ...common(),
      SYSLOG_HOST: "127.0.0.1",
      SYSLOG_TCP_PORT: String(syslogPort),
      SYSLOG_UDP_PORT: "0",
    });
  });

  after(async () => {
    await receiver?.stop();
    for (const replica of [...correlators, ...evaluators]) await replica.stop();
    await client?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  it("alert as one pipeline, each replica on its own partitions, through an evaluator's and a correlator's restart", async () => {
    const [part1, part2, part3] = parts as [string[], string[], string[]];
    await send(part1);
    await settled(eventsOf(part1).length);

    // One evaluator goes away; the facts of its partitions wait for it in the stream.
    await (evaluators[1] as RunningServices).stop();
    await send(part2);
    const untilSecond = eventsOf([...part1, ...part2]).length;
    await settled(untilSecond, { evaluated: partitionsOf(0) });
    evaluators[1] = await detector("evaluate", 1);
    await settled(untilSecond);

    // Then one correlator: the events of its hosts wait, and it rebuilds their sessions and messages.
    await (correlators[1] as RunningServices).stop();
    await send(part3);
    await settled(events.length, { correlated: partitionsOf(0), evaluated: [] });
    correlators[1] = await detector("correlate", 1);
    await settled(events.length);

    const stored = (await jsm.streams.info(ALERTS_STREAM)).state.messages;
    const live: Alert[] = [];
    const consumer = await jetstream(client).consumers.get(ALERTS_STREAM);
    for await (const message of await consumer.fetch({ max_messages: stored, expires: 3000 })) {
      live.push(message.json<Alert>());
      if (live.length === stored) break;
    }
    const firing = live.filter((a) => a.state === "firing");

    // One pipeline over the same events; not finished, as a live detector never flushes open messages.
    const single = new EventTimeReplay(new DetectionPipeline({ rules: loadRules({}) }));
    for (const event of events) single.push(event);
    const expected = new Set(single.alerts.filter((a) => a.state === "firing").map(keyOf));
    assert.ok(expected.has("compromised_sender sasl_user=erin@example.org"), [...expected].join(", "));
    assert.deepEqual(new Set(firing.map(keyOf)), expected);
    assert.equal(firing.length, expected.size, "every key fired once, the restarts included");
    assert.deepEqual(
      live.filter((a) => a.key.value === CUT_SESSION_IP).map(keyOf),
      [],
      "the session cut by the restart counted once",
    );

    // A replica's consumers share one in-flight budget, so a backlog waits in the stream rather than
    // outlasting the ack wait in the replica (and being handed out again).
    for (const [stream, durableOf] of [
      [EVENTS_STREAM, correlatorDurable],
      [FACTS_STREAM, evaluatorDurable],
    ] as const) {
      const pending = await Promise.all(
        partitionsOf(0).map(
          async (p) => (await jsm.consumers.info(stream, durableOf(p))).config.max_ack_pending ?? 0,
        ),
      );
      assert.ok(
        pending.reduce((a, b) => a + b, 0) <= IN_FLIGHT_BATCHES,
        `${stream}: max_ack_pending ${pending.join(" + ")} for one replica`,
      );
    }

    // Each correlator read the events of its partitions' hosts, and only those (the restarted one,
    // those since its restart).
    const own = (index: number) =>
      events.filter((e) => partitionsOf(index).includes(eventPartition(e.host, PARTITIONS))).length;
    const [kept, restarted] = await Promise.all(correlators.map((c) => scrape(c.metricsPort)));
    assert.equal(sample(kept ?? "", "postwatch_detector_events_total", { outcome: "processed" }), own(0));
    const since = sample(restarted ?? "", "postwatch_detector_events_total", { outcome: "processed" });
    assert.ok(since > 0 && since < own(1), `restarted correlator: ${since} of ${own(1)}`);
    for (const text of [kept, restarted])
      assert.equal(
        sample(text ?? "", "postwatch_detector_partitions_owned", { partitions: "event" }),
        REPLICAS,
      );
    // Each evaluator read the facts of its own partitions (the restarted one, those since its restart).
    const factsStored = await factsPerPartition();
    const factsIn = await Promise.all(
      evaluators.map(async (e) =>
        sample(await scrape(e.metricsPort), "postwatch_detector_facts_total", { outcome: "processed" }),
      ),
    );
    const ownFacts = (index: number) => partitionsOf(index).reduce((n, q) => n + (factsStored[q] ?? 0), 0);
    assert.equal(factsIn[0], ownFacts(0), "the evaluator that ran throughout read all its partitions' facts");
    assert.ok(
      (factsIn[1] ?? 0) > 0 && (factsIn[1] ?? 0) < ownFacts(1),
      `restarted evaluator: ${factsIn[1]} of ${ownFacts(1)}`,
    );
  });
});
