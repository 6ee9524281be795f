/**
 * End to end, as a mail admin runs it: syslog lines over TCP and UDP → receiver → NATS JetStream →
 * detector → alerter → a local HTTP server standing in for Slack and a generic webhook.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { fixtureLines, traditionalForward } from "../helpers/fixtures.js";
import { startTestPipeline, type TestPipeline } from "../helpers/pipeline.js";
import { sendTcp, sendUdp } from "../helpers/syslog-client.js";
import type { WebhookServer } from "../helpers/webhook-server.js";

const SEED_ATTACKER = "176.103.49.30";
const UDP_ATTACKER = "198.51.100.23";
/** The base64 AUTH PLAIN payload from seed 002: it holds a password and must never leave the receiver. */
const SEED_AUTH_PAYLOAD = "AGFkbWluQGZpcGljay5jb20Ad2lsb";
const WEBHOOK_SECRET = "e2e-webhook-secret-0123456789";
const WEBHOOK_AUTHORIZATION = "Splunk e2e-hec-token";

describe("pipeline end to end", () => {
  let pipeline: TestPipeline;
  let webhook: WebhookServer;
  let services: RunningServices;
  let syslogPort: number;
  const bruteForce = fixtureLines("sasl-bruteforce-seed002.log");

  before(async () => {
    pipeline = await startTestPipeline({ slack: true, env: { WEBHOOK_SECRET, WEBHOOK_AUTHORIZATION } });
    ({ webhook, services, syslogPort } = pipeline);
  });

  after(async () => {
    await pipeline?.[Symbol.asyncDispose]();
  });

  const firingFor = (ip: string) => (requests: { body: unknown }[]) =>
    requests.filter((r) => (r.body as Alert).key?.value === ip && (r.body as Alert).state === "firing");
  const alertsFor = (ip: string) => (requests: { body: unknown }[]) =>
    firingFor(ip)(requests).filter((r) => (r.body as Alert).rule === "sasl_bruteforce");

  it("turns the seed's brute force sent over TCP into exactly one sasl_bruteforce alert within 5 s", async () => {
    const sent = Date.now();
    await sendTcp(
      syslogPort,
      bruteForce.map((line) => traditionalForward(line)),
      "lf",
    );
    const requests = await webhook.waitFor("/hook", (r) => alertsFor(SEED_ATTACKER)(r).length > 0, 5000);
    assert.ok(Date.now() - sent < 5000);
    const alert = alertsFor(SEED_ATTACKER)(requests)[0]?.body as Alert;
    assert.equal(alert.rule, "sasl_bruteforce");
    assert.equal(alert.state, "firing");
    assert.deepEqual(alert.key, { type: "client_ip", value: SEED_ATTACKER });
    assert.ok(alert.count >= 5, `count ${alert.count}`);
    assert.equal(alert.threshold, 5);
    assert.equal(alert.windowSeconds, 600);
    assert.deepEqual(alert.hosts, ["mx1"]);
    assert.match(alert.summary, /176\.103\.49\.30/);
    assert.match(String(alert.facts.mechanisms), /PLAIN/);

    // The seed also trips weak_tls and credentials_in_logs at the same moment: one digest. The info
    // findings on its first failures (a honeypot name, admin@; a third failure from a stranger) go
    // to the webhook only: Slack takes warning and up unless told otherwise.
    type SlackMessage = { text: string; blocks: unknown[] };
    const isBruteForce = (r: { body: unknown }) =>
      /sasl_bruteforce · 176\.103\.49\.30/.test(JSON.stringify(r.body));
    const slack = await webhook.waitFor("/slack", (r) => r.some(isBruteForce), 5000);
    const message = slack.find(isBruteForce)?.body as SlackMessage;
    assert.match(message.text, /^3 postwatch alerts: /);
    assert.doesNotMatch(JSON.stringify(slack), /client_auth_failures|honeypot_login/);
    assert.equal(slack.length, 1, "one Slack message for the three alerts");
    assert.ok(Array.isArray(message.blocks) && message.blocks.length >= 3);

    // The attack goes on; the alert must not repeat.
    await sendTcp(
      syslogPort,
      bruteForce.slice(0, 20).map((line) => traditionalForward(line)),
      "octet-counted",
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const hooks = webhook.requests.filter((r) => r.path === "/hook");
    assert.deepEqual(
      firingFor(SEED_ATTACKER)(hooks)
        .map((r) => (r.body as Alert).rule)
        .sort(),
      ["client_auth_failures", "honeypot_login", "sasl_bruteforce"],
    );
  });

  it("alerts on a brute force sent over UDP in RFC 5424, where the tag lost its /smtpd part", async () => {
    const frames = bruteForce.map((line) => {
      const moved = line.replaceAll(SEED_ATTACKER, UDP_ATTACKER);
      const match = /^(\w{3} +\d+ [\d:]+) (\S+) postfix\/smtpd\[(\d+)\]: (.*)$/.exec(moved);
      assert.ok(match, moved);
      const [, , host, pid, message] = match;
      return `<22>1 2026-02-23T11:58:${String(bruteForce.indexOf(line) % 60).padStart(2, "0")}.000000+00:00 ${host} postfix ${pid} - -  ${message}`;
    });
    await sendUdp(syslogPort, frames);
    const requests = await webhook.waitFor("/hook", (r) => alertsFor(UDP_ATTACKER)(r).length > 0, 5000);
    const [alert] = alertsFor(UDP_ATTACKER)(requests).map((r) => r.body as Alert);
    assert.equal(alert?.rule, "sasl_bruteforce");
    assert.deepEqual(alert?.hosts, ["mx1"]);
  });

  it("signs every generic webhook request over its exact body and time, with its Authorization, and not Slack's", () => {
    const hooks = webhook.requests.filter((r) => r.path === "/hook");
    assert.ok(hooks.length > 0);
    for (const request of hooks) {
      assert.equal(request.headers.authorization, WEBHOOK_AUTHORIZATION);
      const timestamp = String(request.headers["x-postwatch-timestamp"]);
      const expected = createHmac("sha256", WEBHOOK_SECRET)
        .update(`${timestamp}.${request.rawBody}`)
        .digest("hex");
      assert.equal(request.headers["x-postwatch-signature"], `sha256=${expected}`);
      assert.ok(Math.abs(Date.now() / 1000 - Number(timestamp)) < 120, "the timestamp is the sending time");
    }
    for (const request of webhook.requests.filter((r) => r.path === "/slack")) {
      assert.equal(request.headers["x-postwatch-signature"], undefined);
      assert.equal(request.headers.authorization, undefined);
    }
  });

  it("never lets the AUTH PLAIN payload reach a webhook", () => {
    for (const request of webhook.requests)
      assert.ok(!JSON.stringify(request.body).includes(SEED_AUTH_PAYLOAD));
  });

  it("serves Prometheus metrics and readiness for the whole pipeline", async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${services.metricsPort}/metrics`)).text();
    assert.match(metrics, /postwatch_receiver_lines_total\{outcome="postfix"\} \d+/);
    assert.match(
      metrics,
      /postfix_smtpd_sasl_authentication_failures_total\{host="mx1",mechanism="PLAIN"\} \d+/,
    );
    assert.match(metrics, /postwatch_detector_alerts_total\{rule="sasl_bruteforce",state="firing"\} 2/);
    assert.match(metrics, /process_resident_memory_bytes/);
    const ready = await fetch(`http://127.0.0.1:${services.metricsPort}/readyz`);
    assert.equal(ready.status, 200);
  });
});
