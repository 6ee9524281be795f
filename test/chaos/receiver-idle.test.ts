/**
 * The idle timeout against a real rsyslog, forwarding with the shipped deploy/rsyslog/60-postwatch.conf:
 * the receiver closes its quiet connection (here after 1 s instead of the default hour), and rsyslog
 * notices, reconnects and delivers its next line: closing an idle mail server costs no line.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sample, waitForMetrics } from "../helpers/metrics.js";
import { freePort } from "../helpers/ports.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import { type Rsyslogd, shippedRsyslogSnippet, startRsyslogd } from "../helpers/rsyslogd.js";
import { sendTcp } from "../helpers/syslog-client.js";

const line = (n: number) =>
  `<22>Nov  3 14:03:01 mx-idle postfix/smtpd[${4000 + n}]: connect from unknown[203.0.113.7]`;

describe("chaos: idle connections closed under a real rsyslog", () => {
  let setup: TestReceiver;
  let rsyslog: Rsyslogd;
  let input: number;

  before(async () => {
    setup = await startTestReceiver({ SYSLOG_UDP_PORT: "0", SYSLOG_IDLE_TIMEOUT_SECONDS: "1" });
    input = await freePort();
    rsyslog = await startRsyslogd({
      readyPorts: [input],
      config: `module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="${input}")\n${shippedRsyslogSnippet("60-postwatch.conf", setup.port)}`,
    });
  });

  after(async () => {
    await rsyslog?.stop();
    await setup?.[Symbol.asyncDispose]();
  });

  it("loses no line when the receiver closes rsyslog's quiet connection", async () => {
    for (let n = 1; n <= 4; n++) {
      await sendTcp(input, [line(n)], "lf");
      await setup.events.waitFor((m) => m.length === n, 10_000, `line ${n} (${rsyslog.output()})`);
      // Quiet past the timeout: the receiver closes the connection before the next line.
      await waitForMetrics(
        setup.receiver.metricsPort,
        (t) =>
          sample(t, "postwatch_receiver_connections_closed_total", {
            transport: "tcp",
            reason: "idle_timeout",
          }) === n,
        10_000,
        `idle close ${n}`,
      );
    }
    assert.deepEqual(
      setup.events.messages.map((m) => m.data.pid),
      [4001, 4002, 4003, 4004],
    );
  });
});
