/**
 * The deployment the README describes, with nothing stood in for: a stock Postfix logging through
 * syslog(3), the mail server's rsyslog forwarding `mail.*` with the shipped
 * deploy/rsyslog/60-postwatch.conf, and postwatch (receiver, NATS JetStream, detector, alerter)
 * turning a SASL brute force into a webhook alert. Postfix runs in a mount namespace of its own whose
 * /dev/log is the test rsyslogd's imuxsock socket (test/helpers/postfix.ts), so the host's logging
 * is never touched. Needs root, postfix, swaks, sasl2-bin, rsyslog and util-linux's unshare.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestPipeline, type TestPipeline } from "../helpers/pipeline.js";
import { type PostfixServer, startPostfix } from "../helpers/postfix.js";
import { type Rsyslogd, shippedRsyslogSnippet, startRsyslogd } from "../helpers/rsyslogd.js";
import { smtpSession } from "../helpers/smtp-clients.js";
import { firingAlerts, type RecordedRequest } from "../helpers/webhook-server.js";

const USER = "carol@example.org";
const PASSWORD = "Stock-syslog-pw-1";
const GUESSES = ["syslog-guess-1", "syslog-guess-2", "syslog-guess-3", "syslog-guess-4", "syslog-guess-5"];

describe("a stock Postfix logging through syslog, forwarded by rsyslog with the shipped snippet", () => {
  let pipeline: TestPipeline;
  let rsyslog: Rsyslogd;
  let postfix: PostfixServer;
  const socketDir = mkdtempSync(join(tmpdir(), "postwatch-devlog-"));
  const socket = join(socketDir, "log.sock");

  before(async () => {
    pipeline = await startTestPipeline();
    const shipped = shippedRsyslogSnippet("60-postwatch.conf", pipeline.syslogPort);
    rsyslog = await startRsyslogd({
      readyPorts: [],
      config: `module(load="imuxsock" SysSock.Use="off")\ninput(type="imuxsock" Socket="${socket}")\n${shipped}`,
    });
    for (let waited = 0; !existsSync(socket); waited += 50) {
      if (waited > 10_000) throw new Error(`rsyslogd made no ${socket}: ${rsyslog.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    postfix = await startPostfix({ users: { [USER]: PASSWORD }, syslogSocket: socket });
  });

  after(async () => {
    await postfix?.stop();
    await rsyslog?.stop();
    await pipeline?.[Symbol.asyncDispose]();
    rmSync(socketDir, { recursive: true, force: true });
  });

  it("alerts on the brute force, naming the client and the user it tried", async (t) => {
    const firing = (requests: readonly RecordedRequest[]) => firingAlerts(requests, "sasl_bruteforce");
    const started = Date.now();
    for (const guess of GUESSES) {
      await smtpSession({
        port: postfix.ports.submission,
        ehlo: "bot.example.net",
        auth: { mechanism: "LOGIN", user: USER, password: guess },
        authOnly: true,
      });
    }
    const sent = Date.now();
    const requests = await pipeline.webhook.waitFor(
      "/hook",
      (received) => firing(received).length > 0,
      10_000,
    );
    t.diagnostic(`5 guesses in ${sent - started} ms; alert ${Date.now() - sent} ms after the last`);
    const [alert] = firing(requests);
    assert.ok(alert);
    assert.deepEqual(alert.key, { type: "client_ip", value: "127.0.0.1" });
    assert.equal(alert.count, 5);
    assert.equal(alert.hosts.length, 1, "rsyslog names the mail server");
    assert.deepEqual(alert.related.saslUsers, [USER]);
    assert.match(String(alert.facts.mechanisms), /LOGIN/);
    const delivered = JSON.stringify(pipeline.webhook.requests);
    for (const secret of [PASSWORD, ...GUESSES]) assert.ok(!delivered.includes(secret), secret);
  });
});
