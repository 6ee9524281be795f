/**
 * NATS stops and comes back while the receiver has many batches in flight, of several mail hosts
 * spread over the event partitions. Every line sent must be in the event stream exactly once (a
 * batch retried after its ack was lost is dropped by JetStream as a duplicate), on its host's
 * partition subject, and each host's lines in the order they were sent (a failed batch goes back
 * before every later one): the correlator needs each mail server's lines in order.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { eventPartition } from "../../shared/src/contracts/partitions.js";
import { eventBatchSubject } from "../../shared/src/contracts/subjects.js";
import { DEFAULT_EVENT_PARTITIONS } from "../../shared/src/runtime/config.js";
import { sample, scrape } from "../helpers/metrics.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import { readEvents } from "../helpers/stream-reader.js";

const LINES = 20_000;
const CHUNK = 100;
const CHUNK_EVERY_MS = 5;
const OUTAGE_MS = 1500;

/** Six mail servers in five partitions: mx9 and mx12 share one, so a batch may hold two hosts. */
const HOSTS = ["mx1", "mx2", "mx3", "mx4", "mx9", "mx12"];
const hostOf = (n: number) => HOSTS[n % HOSTS.length] as string;
const partitionOf = (host: string) => eventPartition(host, DEFAULT_EVENT_PARTITIONS);
/** Line n (from 1) comes from hostOf(n) and carries n as its pid. */
const line = (n: number) =>
  `<22>Feb 23 11:57:42 ${hostOf(n)} postfix/smtpd[${n}]: connect from unknown[192.0.2.7]`;

/** One long-lived TCP connection, as rsyslog keeps, sending `LINES` lines in paced chunks. */
async function sendPaced(port: number, onProgress: (sent: number) => Promise<void>): Promise<void> {
  const socket = connect({ port, host: "127.0.0.1" });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  for (let sent = 0; sent < LINES; sent += CHUNK) {
    const chunk = Array.from({ length: CHUNK }, (_, i) => `${line(sent + i + 1)}\n`).join("");
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
    await onProgress(sent + CHUNK);
    await new Promise((resolve) => setTimeout(resolve, CHUNK_EVERY_MS));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

describe("receiver publishing across a NATS outage", () => {
  let setup: TestReceiver;

  before(async () => {
    // Small batches, so that many are in flight when the server goes away.
    setup = await startTestReceiver({ RECEIVER_BATCH_MAX_EVENTS: "16", SYSLOG_UDP_PORT: "0" });
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
  });

  it("stores every line exactly once, on its host's partition, each host's in the order sent", {
    timeout: 60_000,
  }, async () => {
    let outage: Promise<void> | undefined;
    await sendPaced(setup.port, async (sent) => {
      if (outage === undefined && sent >= LINES / 4) {
        outage = (async () => {
          await setup.nats.stop();
          await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
          await setup.nats.restart();
        })();
      }
    });
    await outage;

    // A reader of its own: the setup's reader does not outlive the server's restart.
    await using stream = await readEvents(setup.nats.url);
    const events = await stream.waitFor((m) => m.length >= LINES, 30_000, "every line in the stream");
    // Anything stored twice would arrive right behind the rest.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(events.length, LINES, "each line stored once");
    assert.equal(new Set(HOSTS.map(partitionOf)).size, 5, "the hosts span five partitions");
    for (const host of HOSTS) {
      const stored = events.filter((m) => m.data.host === host);
      const subjects = new Set(stored.map((m) => m.subject));
      assert.deepEqual([...subjects], [eventBatchSubject(partitionOf(host))], `${host} on its partition`);
      const pids = stored.map((m) => m.data.pid);
      const sent = Array.from({ length: LINES }, (_, i) => i + 1).filter((n) => hostOf(n) === host);
      assert.equal(pids.length, sent.length, `${host}: each line stored once`);
      const outOfOrder = pids.findIndex((pid, i) => pid !== sent[i]);
      assert.equal(
        outOfOrder,
        -1,
        `${host}'s order breaks at its event ${outOfOrder}: pid ${pids[outOfOrder]}`,
      );
    }

    const metrics = await scrape(setup.receiver.metricsPort);
    assert.ok(
      sample(metrics, "postwatch_receiver_publish_errors_total") > 0,
      "the outage made publishes fail",
    );
    assert.equal(sample(metrics, "postwatch_receiver_events_dropped_total", { reason: "queue_full" }), 0);
  });
});
