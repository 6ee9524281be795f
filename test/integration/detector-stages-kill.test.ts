/**
 * Issue 15: the partitioned detector's replicas killed as a crash kills them (SIGKILL: no drain, no
 * last acks, no flush) while lines keep coming. A receiver, two correlate and two evaluate replicas
 * (child processes) and an alerter posting to a local webhook; one correlator is killed while facts
 * of a batch it had not acked were stored already, one evaluator while it held batches unacked, and
 * both are started again, twice. Every event is read, and the webhook gets the keys `postwatch replay`
 * alerts on over the same lines, each once.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { runOne } from "../../services/cli/src/online.js";
import { ownedPartitions } from "../../services/detector/src/config.js";
import { fourServersLog } from "../../services/detector/src/stages/partitioned.testkit.js";
import { type Alert, alertIdentity } from "../../shared/src/contracts/alerts.js";
import { eventPartition } from "../../shared/src/contracts/partitions.js";
import {
  correlatorDurable,
  EVENTS_STREAM,
  evaluatorDurable,
  FACTS_STREAM,
} from "../../shared/src/contracts/subjects.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";
import { traditionalForward } from "../helpers/fixtures.js";
import { sample, scrape } from "../helpers/metrics.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { freePort } from "../helpers/ports.js";
import { replayLines } from "../helpers/replay.js";
import { type ServiceProcess, spawnService } from "../helpers/service-process.js";
import { waitUntil } from "../helpers/settle.js";
import { sendRaw } from "../helpers/syslog-client.js";
import { startWebhookServer } from "../helpers/webhook-server.js";

const PARTITIONS = 4;
const REPLICAS = 2;
/** The replica killed in each stage: its event partitions are mx3's and mx1's. */
const KILLED = 1;
/** The partitions replica `index` owns, by the rule the replicas use. */
const partitionsOf = (index: number) => ownedPartitions({ index, count: REPLICAS }, PARTITIONS);

/**
 * Every tenth line of the killed correlator's hosts is followed by an SMTP session of two SASL
 * failures from an address of its own (a /24 of its own too): 2 is under every threshold, so a
 * session whose facts were stored twice (a batch redone after the kill, its facts not recognised
 * as stored) counts 4 and fires client_auth_failures, which the replay does not.
 */
function withTwoFailureSessions(log: readonly string[]): string[] {
  const out: string[] = [];
  let sessions = 0;
  for (const line of log) {
    out.push(line);
    const host = line.slice(33).split(" ", 1)[0] ?? "";
    if (!partitionsOf(KILLED).includes(eventPartition(host, PARTITIONS)) || out.length % 10 !== 0) continue;
    const ip = `198.${18 + (sessions >> 8)}.${sessions & 255}.7`;
    const pid = 30_000 + sessions++;
    const at = (text: string) => `${line.slice(0, 32)} ${host} postfix/smtpd[${pid}]: ${text}`;
    const failure = at(`warning: unknown[${ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`);
    out.push(
      at(`connect from unknown[${ip}]`),
      failure,
      failure,
      at(`disconnect from unknown[${ip}] ehlo=1 auth=0/2 quit=1 commands=2/4`),
    );
  }
  return out;
}

const lines = withTwoFailureSessions(fourServersLog(3_000));
const events = lines.flatMap((line) => {
  const outcome = lineToEvent(line, { referenceTime: Date.now(), fallbackHost: "" });
  return outcome.type === "event" ? [outcome.event] : [];
});
const keyOf = (alert: Alert) => `${alert.rule} ${alert.key.type}=${alert.key.value}`;
/** Events the receiver has published, all kinds. */
const publishedIn = (metrics: string) =>
  [...metrics.matchAll(/^postwatch_receiver_events_published_total\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
/** Lines per write and the pause between writes: the load outlasts the kills and restarts. */
const CHUNK_LINES = 200;
const CHUNK_PAUSE_MS = 80;

/** Writes the lines on one TCP connection, a chunk at a time, as a busy relay would. */
async function sendPaced(port: number, some: readonly string[]): Promise<void> {
  const socket = await sendRaw(port, "", { keepOpen: true });
  assert.ok(socket);
  for (let i = 0; i < some.length; i += CHUNK_LINES) {
    const chunk = some.slice(i, i + CHUNK_LINES).map((line) => `${traditionalForward(line)}\n`);
    await new Promise((resolve) => socket.write(chunk.join(""), resolve));
    await sleep(CHUNK_PAUSE_MS);
  }
  await new Promise((resolve) => {
    socket.once("close", resolve);
    socket.end();
  });
}

/**
 * Facts stored for event batches of `partitions` that their correlator's consumer has not acked:
 * the facts' message IDs (`<p>.<events' stream sequence>.<q>.<n>`) name the batch they came from.
 */
async function factsOfUnackedBatches(
  jsm: JetStreamManager,
  client: NatsConnection,
  partitions: readonly number[],
): Promise<number> {
  const floors = new Map<number, number>();
  for (const p of partitions)
    floors.set(p, (await jsm.consumers.info(EVENTS_STREAM, correlatorDurable(p))).ack_floor.stream_seq);
  const last = (await jsm.streams.info(FACTS_STREAM)).state.last_seq;
  if (last === 0) return 0;
  let unacked = 0;
  const reader = await jetstream(client).consumers.get(FACTS_STREAM);
  for await (const message of await reader.consume()) {
    const [p, seq] = (message.headers?.get("Nats-Msg-Id") ?? "").split(".").map(Number);
    const floor = floors.get(p ?? -1);
    if (floor !== undefined && (seq ?? 0) > floor) unacked++;
    if (message.seq >= last) break;
  }
  return unacked;
}

describe("detector stages killed hard", () => {
  it("a correlator killed with facts of an unacked batch stored and an evaluator killed mid-batch lose nothing and fire every key once", async () => {
    const expected = replayLines(lines).then(
      (result) => new Set(result.alerts.filter((a) => a.state === "firing").map(keyOf)),
    );
    await using nats: TestNats = await startTestNats();
    await using webhook = await startWebhookServer();
    const client = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(client);
    const common = {
      ...nats.env,
      EVENT_PARTITIONS: String(PARTITIONS),
      FACT_PARTITIONS: String(PARTITIONS),
      METRICS_HOST: "127.0.0.1",
    };
    const alerter = await runOne("alerter", {
      ...common,
      METRICS_PORT: "0",
      WEBHOOK_URL: `${webhook.url}/hook`,
      ALERTER_RETRY_BASE_MS: "100",
      LOG_LEVEL: "silent",
    });
    const metricsPorts = new Map<ServiceProcess, number>();
    const detector = async (stage: "correlate" | "evaluate", index: number) => {
      const port = await freePort();
      const replica = spawnService("detector", {
        ...common,
        METRICS_PORT: String(port),
        LOG_LEVEL: "info",
        DETECTOR_STAGE: stage,
        DETECTOR_REPLICAS: String(REPLICAS),
        DETECTOR_REPLICA_INDEX: String(index),
      });
      metricsPorts.set(replica, port);
      await replica.running(20_000);
      return replica;
    };
    const evaluators: ServiceProcess[] = [];
    const correlators: ServiceProcess[] = [];
    const syslogPort = await freePort();
    let receiver: Awaited<ReturnType<typeof runOne>> | undefined;
    try {
      for (let index = 0; index < REPLICAS; index++) evaluators.push(await detector("evaluate", index));
      for (let index = 0; index < REPLICAS; index++) correlators.push(await detector("correlate", index));
      receiver = await runOne("receiver", {
        ...common,
        METRICS_PORT: "0",
        LOG_LEVEL: "silent",
        SYSLOG_HOST: "127.0.0.1",
        SYSLOG_TCP_PORT: String(syslogPort),
        SYSLOG_UDP_PORT: "0",
      });
      const load = sendPaced(syslogPort, lines);

      // One replica of each stage killed at once with work in hand: the correlator with facts
      // stored of a batch it has not acked, the evaluator holding fact batches unacked. Both are
      // frozen (SIGSTOP) at moments under load until the streams show them so, then killed as they
      // are, and started again; twice, the second time with the first crash's batches maybe still
      // pending, as in a crash loop.
      const unackedFacts = async () => {
        const infos = await Promise.all(
          partitionsOf(KILLED).map((q) => jsm.consumers.info(FACTS_STREAM, evaluatorDurable(q))),
        );
        return infos.reduce((n, info) => n + info.num_ack_pending, 0);
      };
      for (const crash of [1, 2]) {
        const doomed = [correlators[KILLED], evaluators[KILLED]] as ServiceProcess[];
        for (let attempt = 1; ; attempt++) {
          assert.ok(attempt <= 100, `crash ${crash}: never froze both replicas with work in hand`);
          await sleep(50);
          for (const replica of doomed) replica.child.kill("SIGSTOP");
          const inHand = [
            await factsOfUnackedBatches(jsm, client, partitionsOf(KILLED)),
            await unackedFacts(),
          ];
          if (inHand.every((n) => n > 0)) break;
          for (const replica of doomed) replica.child.kill("SIGCONT");
        }
        await Promise.all(doomed.map((replica) => replica.kill("SIGKILL")));
        correlators[KILLED] = await detector("correlate", KILLED);
        evaluators[KILLED] = await detector("evaluate", KILLED);
      }
      await load;

      // Every event stored, and read by both stages to the end.
      await waitUntil(50_000, "every event published and read by both stages", async () => {
        const published = publishedIn(await scrape(receiver?.metricsPort ?? 0));
        if (published < events.length) return false;
        const infos = await Promise.all([
          ...Array.from({ length: PARTITIONS }, (_, p) =>
            jsm.consumers.info(EVENTS_STREAM, correlatorDurable(p)),
          ),
          ...Array.from({ length: PARTITIONS }, (_, q) =>
            jsm.consumers.info(FACTS_STREAM, evaluatorDurable(q)),
          ),
        ]);
        return infos.every((info) => info.num_pending === 0 && info.num_ack_pending === 0);
      });
      const own = (index: number) =>
        events.filter((e) => partitionsOf(index).includes(eventPartition(e.host, PARTITIONS))).length;
      const kept = await scrape(metricsPorts.get(correlators[0] as ServiceProcess) ?? 0);
      assert.equal(sample(kept, "postwatch_detector_events_total", { outcome: "processed" }), own(0));

      const wanted = await expected;
      assert.ok(wanted.size > 0);
      // Waits for the replay's keys; the comparison below says which are missing if some never come.
      await webhook
        .waitFor(
          "/hook",
          (requests) => {
            const keys = new Set(
              requests
                .map((r) => r.body as Alert)
                .filter((a) => a.state === "firing")
                .map(keyOf),
            );
            return [...wanted].every((key) => keys.has(key));
          },
          10_000,
        )
        .catch(() => undefined);
      // Anything else on its way would come within the alerter's group wait.
      await sleep(2000);
      const alerts = webhook.requests.filter((r) => r.path === "/hook").map((r) => r.body as Alert);
      const identities = alerts.map(alertIdentity);
      assert.equal(new Set(identities).size, identities.length, "no alert posted twice");
      const firing = alerts.filter((a) => a.state === "firing");
      assert.deepEqual(new Set(firing.map(keyOf)), wanted, "the keys the replay alerts on");
      const twice = firing.filter((a) => firing.filter((b) => keyOf(b) === keyOf(a)).length > 1);
      assert.deepEqual(
        twice.map((a) => `${keyOf(a)} from ${a.startsAt}, count ${a.count}`),
        [],
        "each key fired once",
      );
    } finally {
      await receiver?.stop();
      for (const replica of [...correlators, ...evaluators]) await replica.kill("SIGTERM");
      await alerter.stop();
      await client.close();
    }
  });
});
