/**
 * The mission, live and real, against a real Postfix: a brute force on its SASL AUTH (swaks guessing
 * passwords; seed 002) and then the account, once guessed, relaying mass mail that remote servers
 * partly reject as virus-infected (seed 003), each reach the webhook as one alert within seconds,
 * naming the client and the account. Postfix writes its
 * maillog_file; rsyslog follows it with the shipped deploy/rsyslog/61-postwatch-maillog-file.conf
 * and forwards each line over TCP to the receiver; NATS JetStream, the detector and the alerter do
 * the rest, as `postwatch start` runs them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestPipeline, type TestPipeline } from "../helpers/pipeline.js";
import { type PostfixServer, startPostfix } from "../helpers/postfix.js";
import { type Rsyslogd, shippedRsyslogSnippet, startRsyslogd } from "../helpers/rsyslogd.js";
import { smtpSession } from "../helpers/smtp-clients.js";
import { firingAlerts, type RecordedRequest } from "../helpers/webhook-server.js";

const USER = "alice@example.org";
const PASSWORD = "Corr3ct-horse-battery";
// Common passwords, made distinctive so that finding one in a webhook body can only mean a leak.
const GUESSES = [
  "Password123!q1",
  "Summer2026!q2",
  "alice2026-q3",
  "letmein-q4",
  "qwerty123-q5",
  "Welcome1-q6",
];
/** Mass mail: compromised_sender's default threshold is 300 recipients an hour. */
const MESSAGES = 4;
const RECIPIENTS_PER_MESSAGE = 100;
const DOMAINS = 40;
const recipient = (n: number) => `user${n}@domain${n % DOMAINS}.example`;
/** The recipients of mass-mail message `m`: the same 400 addresses whichever way they are sent. */
const batch = (m: number) =>
  Array.from({ length: RECIPIENTS_PER_MESSAGE }, (_, i) => recipient(m * RECIPIENTS_PER_MESSAGE + i));
const INFECTED = [recipient(7), recipient(77), recipient(177)];
const VIRUS_REPLY = "551 5.7.1 virus infected";
/** Seconds from the line that crosses a rule's threshold to the webhook, at most. */
const DEADLINE_SECONDS = 10;

describe("a brute force against a real Postfix, live", () => {
  let pipeline: TestPipeline;
  let postfix: PostfixServer;
  let rsyslog: Rsyslogd;

  before(async () => {
    pipeline = await startTestPipeline();
    postfix = await startPostfix({
      // Long queue IDs (`enable_long_queue_ids`), so that the correlation behind compromised_sender
      // runs on them; the other real-Postfix test has the short, hex ones.
      longQueueIds: true,
      users: { [USER]: PASSWORD },
      rejectRecipients: Object.fromEntries(INFECTED.map((to) => [to, VIRUS_REPLY])),
    });
    const shipped = shippedRsyslogSnippet("61-postwatch-maillog-file.conf", pipeline.syslogPort).replace(
      'File="/var/log/postfix.log"',
      `File="${postfix.maillog}"`,
    );
    assert.ok(shipped.includes(postfix.maillog), "the shipped snippet's File= was not found");
    rsyslog = await startRsyslogd({ config: shipped, readyPorts: [] });
  });

  after(async () => {
    await rsyslog?.stop();
    await postfix?.stop();
    await pipeline?.[Symbol.asyncDispose]();
  });

  it("alerts once, naming the client, within seconds of the guess that crossed the threshold", async (t) => {
    const { webhook } = pipeline;
    const firing = (requests: readonly RecordedRequest[]) => firingAlerts(requests, "sasl_bruteforce");
    let crossedAt = 0;
    for (const [i, guess] of GUESSES.entries()) {
      await smtpSession({
        port: postfix.ports.submission,
        ehlo: "bot.example.net",
        auth: { mechanism: "PLAIN", user: USER, password: guess },
        authOnly: true,
      });
      // sasl_bruteforce's default threshold is 5 failures.
      if (i === 4) crossedAt = Date.now();
    }
    const requests = await webhook.waitFor(
      "/hook",
      (received) => firing(received).length > 0,
      DEADLINE_SECONDS * 1000,
    );
    t.diagnostic(`alert delivered ${Date.now() - crossedAt} ms after the fifth failed AUTH`);
    const [alert] = firing(requests);
    assert.ok(alert);
    assert.deepEqual(alert.key, { type: "client_ip", value: "127.0.0.1" });
    assert.ok(alert.count >= 5, `count ${alert.count}`);
    assert.deepEqual(alert.hosts, ["mx"]);
    assert.match(String(alert.facts.mechanisms), /PLAIN/);

    // The later guesses and the rest of the session must not repeat the alert.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(firing(webhook.requests.filter((request) => request.path === "/hook")).length, 1);
    const delivered = JSON.stringify(webhook.requests);
    for (const secret of [PASSWORD, ...GUESSES]) {
      assert.ok(!delivered.includes(secret), `a password (${secret}) reached the webhook`);
    }
  });

  it("names the account relaying mass mail, its client, domains and the remote virus rejections", async (t) => {
    const { webhook } = pipeline;
    const alertFor = (requests: readonly RecordedRequest[]) =>
      firingAlerts(requests, "compromised_sender")[0];
    const started = Date.now();
    for (let m = 0; m < MESSAGES; m++) {
      const to = batch(m);
      await smtpSession({
        port: postfix.ports.submission,
        ehlo: "laptop.example.org",
        auth: { mechanism: "PLAIN", user: USER, password: PASSWORD },
        from: USER,
        to,
        header: `Subject: Invoice ${m}`,
      });
    }
    const sent = Date.now();
    const requests = await webhook.waitFor("/hook", (received) => alertFor(received) !== undefined, 30_000);
    t.diagnostic(
      `${MESSAGES * RECIPIENTS_PER_MESSAGE} recipients submitted in ${sent - started} ms; alert ${Date.now() - sent} ms after the last submission`,
    );
    const alert = alertFor(requests);
    assert.ok(alert);
    t.diagnostic(alert.summary);
    assert.deepEqual(alert.key, { type: "sasl_user", value: USER });
    assert.ok(alert.count >= 300, `count ${alert.count}`);
    assert.deepEqual(alert.related.clientIps, ["127.0.0.1"]);
    assert.match(String(alert.facts.topRecipientDomains), /domain\d+\.example/);
    assert.match(String(alert.facts.remoteRejections), /virus infected/);
    assert.ok(!JSON.stringify(webhook.requests).includes(PASSWORD), "the password reached the webhook");
    assert.match(postfix.log(), /\]: [0-9A-Za-z]{10,}z[0-9A-Za-z]+: client=/, "the queue IDs were long ones");
  });

  it("names the local uid behind a sendmail flood, as a hacked web application's mail() makes one", async (t) => {
    const { webhook } = pipeline;
    const alertFor = (requests: readonly RecordedRequest[]) =>
      firingAlerts(requests, "local_sender_flood")[0];
    const started = Date.now();
    // The test runs as root, so pickup logs uid=0; a web server's would be its own (www-data: 33).
    for (let m = 0; m < MESSAGES; m++) {
      const to = batch(m);
      postfix.sendmail("wordpress@example.org", to, `Subject: Special offer ${m}\n\nBuy now.\n`);
    }
    const sent = Date.now();
    const requests = await webhook.waitFor("/hook", (received) => alertFor(received) !== undefined, 30_000);
    t.diagnostic(
      `${MESSAGES * RECIPIENTS_PER_MESSAGE} recipients handed to sendmail in ${sent - started} ms; alert ${Date.now() - sent} ms later`,
    );
    const alert = alertFor(requests);
    assert.ok(alert);
    t.diagnostic(alert.summary);
    assert.deepEqual(alert.key, { type: "local_uid", value: "0" });
    assert.ok(alert.count >= 300, `count ${alert.count}`);
    assert.match(String(alert.facts.senders), /wordpress@example\.org/);
    assert.match(String(alert.facts.remoteRejections), /virus infected/);
  });
});
