/**
 * A connection flood against the real receiver and nats-server: 1,120 idle connections from 40
 * loopback addresses fill every slot, yet the mail server listed in SYSLOG_PREFERRED_SOURCES, and
 * one already seen sending Postfix lines, each get a slot (the most idle stranger's) and deliver
 * every line. Strangers are refused, one address cannot hold more than its share, and a slow-loris
 * sending a byte a second is closed once its frame is overdue. Everything is counted.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { sample, scrape, waitForMetrics } from "../helpers/metrics.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import { sendTcp } from "../helpers/syslog-client.js";

const PREFERRED = "127.0.0.2";
const KNOWN = "127.0.0.3";
const line = (host: string, n: number) =>
  `<22>Nov  3 14:03:01 ${host} postfix/smtpd[${4000 + n}]: connect from unknown[203.0.113.7]`;
const lines = (host: string, count: number) => Array.from({ length: count }, (_, n) => line(host, n));

/** An open connection from `from`, or undefined when the receiver closes it at once. */
function open(port: number, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress: from }, () => resolve(socket));
    socket.on("error", reject);
  });
}

const closed = (socket: Socket) =>
  socket.destroyed
    ? Promise.resolve()
    : new Promise<void>((resolve) => socket.once("close", () => resolve()));

describe("chaos: a connection flood does not lock out the mail servers", () => {
  let setup: TestReceiver;
  const held: Socket[] = [];
  const metric = async (name: string, labels: Record<string, string>) =>
    sample(await scrape(setup.receiver.metricsPort), name, labels);
  const from = (host: string) => setup.events.messages.filter((m) => m.data.host === host).length;

  before(async () => {
    setup = await startTestReceiver({
      SYSLOG_UDP_PORT: "0",
      SYSLOG_MAX_CONNECTIONS: "1024",
      SYSLOG_MAX_CONNECTIONS_PER_SOURCE: "32",
      SYSLOG_PREFERRED_SOURCES: PREFERRED,
      SYSLOG_FRAME_TIMEOUT_SECONDS: "2",
    });
  });

  after(async () => {
    for (const socket of held) socket.destroy();
    await setup?.[Symbol.asyncDispose]();
  });

  it("closes a slow-loris sending a byte a second once its frame is overdue", async () => {
    const socket = await open(setup.port, "127.0.0.90");
    socket.on("error", () => undefined);
    const text = Buffer.from(line("slow", 0));
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(text.subarray(sent, ++sent));
    }, 1000);
    try {
      await Promise.race([
        closed(socket),
        new Promise((_, reject) => setTimeout(() => reject(new Error("slow-loris still open")), 10_000)),
      ]);
    } finally {
      clearInterval(drip);
    }
    assert.ok(sent < text.length, "closed before its frame could complete");
    assert.equal(
      await metric("postwatch_receiver_connections_closed_total", {
        transport: "tcp",
        reason: "frame_timeout",
      }),
      1,
    );
  });

  it("caps the connections one address may hold", async () => {
    const mine = await Promise.all(Array.from({ length: 32 }, () => open(setup.port, "127.0.0.91")));
    const extra = await open(setup.port, "127.0.0.91");
    await closed(extra);
    assert.equal(
      await metric("postwatch_receiver_connections_refused_total", {
        transport: "tcp",
        reason: "max_connections_per_source",
      }),
      1,
    );
    for (const socket of mine) socket.destroy();
    await Promise.all(mine.map(closed));
  });

  it("serves the preferred and the known sender through 1,120 idle connections", async () => {
    // The earlier tests' connections gone on the receiver's side too, so the slots are all free.
    await waitForMetrics(
      setup.receiver.metricsPort,
      (t) => sample(t, "postwatch_receiver_connections", { transport: "tcp" }) === 0,
      5000,
      "no connection left open",
    );
    await sendTcp(setup.port, lines("known-mx", 1), "lf", KNOWN);
    await setup.events.waitFor(() => from("known-mx") === 1, 5000, "the known sender's first line");

    for (let address = 10; address < 50; address++) {
      const batch = await Promise.all(
        Array.from({ length: 28 }, () => open(setup.port, `127.0.0.${address}`)),
      );
      for (const socket of batch) socket.on("error", () => undefined);
      held.push(...batch);
    }
    await waitForMetrics(
      setup.receiver.metricsPort,
      (t) =>
        sample(t, "postwatch_receiver_connections", { transport: "tcp" }) === 1024 &&
        sample(t, "postwatch_receiver_connections_refused_total", {
          transport: "tcp",
          reason: "max_connections",
        }) === 96,
      10_000,
      "1,024 connections held and the other 96 refused",
    );
    // A newcomer nobody knows is refused while the slots are full.
    await sendTcp(setup.port, lines("stranger", 1), "lf", "127.0.0.60").catch(() => undefined);

    // rsyslog keeps its connection open: so does the preferred sender, while the known one connects.
    const preferred = await open(setup.port, PREFERRED);
    preferred.write(
      lines("preferred-mx", 1000)
        .map((l) => `${Buffer.byteLength(l)} ${l}`)
        .join(""),
    );
    await setup.events.waitFor(() => from("preferred-mx") === 1000, 20_000, "the preferred sender's lines");
    await sendTcp(setup.port, lines("known-mx", 100), "lf", KNOWN);
    preferred.end();
    await setup.events.waitFor(
      () => from("preferred-mx") === 1000 && from("known-mx") === 101,
      20_000,
      "every line of the preferred and the known sender",
    );
    const text = await scrape(setup.receiver.metricsPort);
    assert.equal(from("stranger"), 0);
    assert.equal(
      sample(text, "postwatch_receiver_connections_refused_total", {
        transport: "tcp",
        reason: "max_connections",
      }),
      97,
    );
    assert.equal(
      sample(text, "postwatch_receiver_connections_closed_total", { transport: "tcp", reason: "evicted" }),
      2,
      "each of the two took the place of one idle stranger",
    );
  });
});
