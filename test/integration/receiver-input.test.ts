/**
 * Hostile and foreign input at the receiver: oversize frames, bad and truncated octet counts, non-
 * syslog bytes, another program's lines, over TCP and UDP. None of it crashes the receiver, each
 * kind is counted under its own label, and a good line sent afterwards still becomes an event.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { PostfixEvent } from "../../shared/src/contracts/events.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { fixtureLines, traditionalForward } from "../helpers/fixtures.js";
import { sample, scrape, waitForMetrics } from "../helpers/metrics.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import type { StreamReader } from "../helpers/stream-reader.js";
import { sendUdp } from "../helpers/syslog-client.js";

const MAX = 2048;

/** Writes raw bytes on one connection and closes it (FIN), waiting for the close. */
async function sendRaw(port: number, payload: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(payload));
    socket.setTimeout(5000, () => socket.destroy(new Error("sendRaw timed out")));
    socket.on("error", reject);
    socket.on("close", () => resolve());
  });
}

describe("receiver input it cannot use", () => {
  let setup: TestReceiver;
  let receiver: RunningServices;
  let port: number;
  let events: StreamReader<PostfixEvent>;
  // Seed 003 lines (host mail.xxx.com): each good line sent after something bad must arrive.
  const good = fixtureLines("seed-003-relay-abuse.log").map((line) => traditionalForward(line));
  const dovecot =
    "<22>Nov 26 10:00:00 mail.xxx.com dovecot[812]: imap-login: Login: user=<a@example.com>, rip=192.0.2.4";

  before(async () => {
    setup = await startTestReceiver({ SYSLOG_MAX_MESSAGE_BYTES: String(MAX) });
    ({ receiver, port, events } = setup);
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
  });

  it("counts every kind of bad input, survives it, and still delivers the good lines", async () => {
    const octets = (frame: string) => `${Buffer.byteLength(frame)} ${frame}`;
    // One TCP stream: each bad thing is followed by a good line, which must survive the resync.
    const stream = Buffer.concat([
      Buffer.from(`${"x".repeat(MAX + 1000)}\n${good[0]}\n`), // oversize LF frame
      Buffer.from(`${MAX + 3000} ${"y".repeat(MAX + 3000)}${octets(good[1] as string)}`), // oversize octet frame
      Buffer.from(`12ab <22>not an octet count\n${good[2]}\n`), // bad octet count: dropped to the LF
      Buffer.from("GET / HTTP/1.1\r\nHost: postwatch\r\n\n"), // HTTP: two bad headers and an empty line
      Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x41, 0x0a]), // binary junk
      Buffer.from(`${dovecot}\n`), // another program
      Buffer.from(`${good[3]}\n`),
    ]);
    await sendRaw(port, stream);
    // An octet-counted frame cut short by the end of the stream.
    await sendRaw(port, Buffer.from(`500 ${good[4]}`));
    // A partial LF frame, then a reset (no FIN): an abrupt close loses the buffered bytes, counted.
    const bytesBefore = sample(
      await scrape(receiver.metricsPort),
      "postwatch_receiver_received_bytes_total",
      {
        transport: "tcp",
      },
    );
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("<22>Nov 26 10:00:00 mail.xxx.com postfix/smtpd[1]: connect from");
        waitForMetrics(
          receiver.metricsPort,
          (text) =>
            sample(text, "postwatch_receiver_received_bytes_total", { transport: "tcp" }) > bytesBefore,
          5000,
          "the partial frame to reach the receiver",
        ).then(() => {
          socket.resetAndDestroy();
          resolve();
        }, reject);
      });
      socket.on("error", () => undefined);
    });
    // UDP: an oversize datagram, garbage, another program, then a good line.
    await sendUdp(port, ["z".repeat(MAX + 1), "\u0000garbage\u0001", dovecot, good[5] as string]);

    const metrics = await waitForMetrics(
      receiver.metricsPort,
      (text) =>
        sample(text, "postwatch_receiver_lines_total", { outcome: "postfix" }) === 5 &&
        sample(text, "postwatch_receiver_framing_errors_total", {
          transport: "tcp",
          reason: "truncated_frame",
        }) === 2,
      5000,
      "every frame to be accounted for",
    );
    const count = (labels: Record<string, string>) =>
      sample(metrics, "postwatch_receiver_lines_total", labels);
    const framing = (reason: string) =>
      sample(metrics, "postwatch_receiver_framing_errors_total", { transport: "tcp", reason });
    assert.equal(framing("oversize_frame"), 2, "oversize LF and oversize octet-counted frame");
    assert.equal(framing("bad_octet_count"), 1);
    assert.equal(framing("truncated_frame"), 2, "cut short at FIN, and at a reset");
    assert.equal(
      count({ outcome: "bad_header" }),
      4,
      "HTTP request line, Host header, binary junk, UDP garbage",
    );
    assert.equal(count({ outcome: "empty" }), 1);
    assert.equal(count({ outcome: "not_postfix" }), 2, "dovecot over TCP and over UDP");
    assert.equal(count({ outcome: "oversize" }), 1, "the oversize datagram");
    assert.equal(count({ outcome: "postfix" }), 5);

    // The good lines became events, in order per transport, and nothing else did.
    await events.waitFor((m) => m.length >= 5, 5000, "five events");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const got = events.messages.map((m) => m.data);
    assert.equal(got.length, 5);
    assert.ok(got.every((e) => e.host === "mail.xxx.com" && e.program.startsWith("postfix/")));
    assert.deepEqual(
      got.map((e) => e.queueId),
      ["EC5A91D727", "B37D31D6FA", "B37D31D6FA", "1A9B71D801", "3BEAB1D9C3"],
    );
    assert.equal(sample(metrics, "postwatch_receiver_connections", { transport: "tcp" }), 0);
    const healthz = await fetch(`http://127.0.0.1:${receiver.metricsPort}/healthz`);
    assert.equal(healthz.status, 200);
  });
});
