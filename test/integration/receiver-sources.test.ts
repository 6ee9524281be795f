/**
 * Who may send: with SYSLOG_ALLOWED_SOURCES set, datagrams and connections from any other address
 * are refused (TLS before its handshake) and counted, and the first refusal is logged; lines from
 * a listed address still become events. SYSLOG_MAX_CONNECTIONS caps open streams the same way.
 * Loopback has all of 127.0.0.0/8, so 127.0.0.2 is the listed sender and 127.0.0.1 a stranger.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { makeCertificates } from "../helpers/certificates.js";
import { sample, waitForMetrics } from "../helpers/metrics.js";
import { freePort } from "../helpers/ports.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import { sendTcp, sendUdp } from "../helpers/syslog-client.js";

const LISTED = "127.0.0.2";
const STRANGER = "127.0.0.1";
const line = (host: string) =>
  `<22>Nov  3 14:03:01 ${host} postfix/smtpd[4242]: connect from unknown[203.0.113.7]`;

/** A TLS client that sends one frame; resolves with the error that ended it, if any. */
function sendTls(port: number, from: string, frame: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const tcp = connect({ port, host: "127.0.0.1", localAddress: from });
    const socket = tlsConnect({ socket: tcp, rejectUnauthorized: false }, () =>
      socket.end(`${Buffer.byteLength(frame)} ${frame}`),
    );
    let failure: Error | undefined;
    socket.on("error", (error) => {
      failure = error;
    });
    socket.on("close", () => resolve(failure));
  });
}

function hold(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress: LISTED }, () => resolve(socket));
    socket.on("error", reject);
  });
}

describe("receiver: allowed sources and connection limit", () => {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-sources-"));
  let setup: TestReceiver;
  let tlsPort: number;
  const metricsPort = () => setup.receiver.metricsPort;
  const hosts = () => setup.events.messages.map((m) => m.data.host);

  before(async () => {
    makeCertificates(dir);
    tlsPort = await freePort();
    setup = await startTestReceiver({
      SYSLOG_ALLOWED_SOURCES: `${LISTED}/32`,
      SYSLOG_MAX_CONNECTIONS: "2",
      SYSLOG_TLS_PORT: String(tlsPort),
      SYSLOG_TLS_CERT_FILE: join(dir, "server.pem"),
      SYSLOG_TLS_KEY_FILE: join(dir, "server.key"),
    });
  });

  after(async () => {
    await setup?.[Symbol.asyncDispose]();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses and counts a stranger's UDP, TCP and TLS, and reads the listed sender's", async () => {
    await sendUdp(setup.port, [line("stranger-udp")], STRANGER);
    await sendTcp(setup.port, [line("stranger-tcp")], "lf", STRANGER).catch(() => undefined);
    const tlsRefusal = await sendTls(tlsPort, STRANGER, line("stranger-tls"));
    assert.ok(tlsRefusal, "the stranger's TLS connection ends in an error, before any handshake");

    await sendUdp(setup.port, [line("listed-udp")], LISTED);
    await sendTcp(setup.port, [line("listed-tcp")], "octet-counted", LISTED);
    assert.equal(await sendTls(tlsPort, LISTED, line("listed-tls")), undefined);
    await setup.events.waitFor((m) => m.length >= 3, 5000, "the listed sender's three lines");

    const text = await waitForMetrics(
      metricsPort(),
      (t) => sample(t, "postwatch_receiver_lines_total", { outcome: "source_not_allowed" }) === 1,
      5000,
      "the refused datagram counted",
    );
    for (const transport of ["tcp", "tls"]) {
      const labels = { transport, reason: "source_not_allowed" };
      assert.equal(sample(text, "postwatch_receiver_connections_refused_total", labels), 1, transport);
    }
    assert.equal(sample(text, "postwatch_receiver_lines_total", { outcome: "postfix" }), 3);
    assert.deepEqual(hosts().sort(), ["listed-tcp", "listed-tls", "listed-udp"]);
  });

  it("refuses connections beyond SYSLOG_MAX_CONNECTIONS, counted, and takes new ones once one closes", async () => {
    const held = [await hold(setup.port), await hold(setup.port)];
    await waitForMetrics(
      metricsPort(),
      (t) => sample(t, "postwatch_receiver_connections", { transport: "tcp" }) === 2,
      5000,
      "two open connections",
    );
    await sendTcp(setup.port, [line("over-limit")], "lf", LISTED).catch(() => undefined);
    await waitForMetrics(
      metricsPort(),
      (t) =>
        sample(t, "postwatch_receiver_connections_refused_total", {
          transport: "tcp",
          reason: "max_connections",
        }) === 1,
      5000,
      "the third connection refused",
    );

    await new Promise<void>((resolve) => {
      held[0]?.once("close", () => resolve());
      held[0]?.end();
    });
    await waitForMetrics(
      metricsPort(),
      (t) => sample(t, "postwatch_receiver_connections", { transport: "tcp" }) === 1,
      5000,
      "one connection closed",
    );
    await sendTcp(setup.port, [line("after-limit")], "lf", LISTED);
    await setup.events.waitFor((m) => m.some((e) => e.data.host === "after-limit"), 5000, "the later line");
    assert.ok(!hosts().includes("over-limit"), "nothing from the refused connection was read");
    held[1]?.destroy();
  });

  it("frees a TLS connection's slot when it closes", async () => {
    for (let n = 0; n < 4; n++) assert.equal(await sendTls(tlsPort, LISTED, line(`tls-${n}`)), undefined);
    await setup.events.waitFor(
      (m) => m.filter((e) => e.data.host.startsWith("tls-")).length === 4,
      5000,
      "four TLS connections in turn under a cap of two",
    );
    await waitForMetrics(
      metricsPort(),
      (t) => sample(t, "postwatch_receiver_connections", { transport: "tls" }) === 0,
      5000,
      "no TLS connection left open",
    );
  });
});
