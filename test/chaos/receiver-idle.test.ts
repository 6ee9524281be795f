/**
 * The idle timeout against a real rsyslog, forwarding over TCP with the shipped
 * deploy/rsyslog/60-postwatch.conf and over TLS with its gtls driver: the receiver closes the quiet
 * connection (here after 1 s instead of the default hour), and rsyslog notices, reconnects and
 * delivers its next line. Closing an idle mail server's connection costs no line.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeCertificates } from "../helpers/certificates.js";
import { sample, waitForMetrics } from "../helpers/metrics.js";
import { freePort } from "../helpers/ports.js";
import { startTestReceiver, type TestReceiver } from "../helpers/receiver.js";
import { type Rsyslogd, shippedRsyslogSnippet, startRsyslogd } from "../helpers/rsyslogd.js";
import { sendTcp } from "../helpers/syslog-client.js";

const line = (host: string, n: number) =>
  `<22>Nov  3 14:03:01 ${host} postfix/smtpd[${4000 + n}]: connect from unknown[203.0.113.7]`;

describe("chaos: idle connections closed under a real rsyslog", () => {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-idle-"));
  let setup: TestReceiver;
  let rsyslog: Rsyslogd;
  let tcpInput: number;
  let tlsInput: number;

  before(async () => {
    makeCertificates(dir);
    const tlsPort = await freePort();
    setup = await startTestReceiver({
      SYSLOG_UDP_PORT: "0",
      SYSLOG_IDLE_TIMEOUT_SECONDS: "1",
      SYSLOG_TLS_PORT: String(tlsPort),
      SYSLOG_TLS_CERT_FILE: join(dir, "server.pem"),
      SYSLOG_TLS_KEY_FILE: join(dir, "server.key"),
    });
    [tcpInput, tlsInput] = [await freePort(), await freePort()];
    // Each input has its own ruleset: TCP through the shipped snippet, TLS through gtls.
    rsyslog = await startRsyslogd({
      readyPorts: [tcpInput, tlsInput],
      config: `module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${tcpInput}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="${tlsInput}" ruleset="tls")
ruleset(name="tcp") { ${shippedRsyslogSnippet("60-postwatch.conf", setup.port)} }
ruleset(name="tls") {
  action(type="omfwd" target="127.0.0.1" port="${tlsPort}" protocol="tcp"
         StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
         StreamDriverPermittedPeers="localhost" template="RSYSLOG_ForwardFormat"
         action.resumeRetryCount="-1")
}`,
      globals: `DefaultNetstreamDriverCAFile="${join(dir, "ca.pem")}"`,
    });
  });

  after(async () => {
    await rsyslog?.stop();
    await setup?.[Symbol.asyncDispose]();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const transport of ["tcp", "tls"] as const) {
    it(`loses no line when the receiver closes rsyslog's quiet ${transport.toUpperCase()} connection`, async () => {
      const host = `mx-idle-${transport}`;
      const input = transport === "tcp" ? tcpInput : tlsInput;
      const pids = () => setup.events.messages.filter((m) => m.data.host === host).map((m) => m.data.pid);
      for (let n = 1; n <= 3; n++) {
        await sendTcp(input, [line(host, n)], "lf");
        await setup.events.waitFor(() => pids().length === n, 10_000, `line ${n} (${rsyslog.output()})`);
        // Quiet past the timeout: the receiver closes the connection before the next line.
        await waitForMetrics(
          setup.receiver.metricsPort,
          (t) =>
            sample(t, "postwatch_receiver_connections_closed_total", {
              transport,
              reason: "idle_timeout",
            }) === n,
          10_000,
          `idle close ${n}`,
        );
      }
      assert.deepEqual(pids(), [4001, 4002, 4003]);
    });
  }
});
