/**
 * Destinations with routing, against a real Alertmanager: an alert fires there and resolves
 * through endsAt, while a Slack destination that takes `warning` and up never gets an `info` alert.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { sampleAlert } from "../../services/alerter/src/testing.js";
import { runOne } from "../../services/cli/src/online.js";
import { type Alert, alertIdentity } from "../../shared/src/contracts/alerts.js";
import { alertSubject } from "../../shared/src/contracts/subjects.js";
import { startTestAlertmanager } from "../helpers/alertmanager.js";
import { startTestNats } from "../helpers/nats-server.js";
import { startScriptedHttpServer } from "../helpers/scripted-http.js";

const GENERATOR = "https://grafana.example.net/d/postwatch";
/** The episode's start: the same on the firing alert and its resolved notice. */
const STARTS_AT = new Date(Date.now() - 60_000).toISOString();

const alert = (overrides: Partial<Alert>): Alert =>
  sampleAlert({
    fingerprint: "am-brute",
    key: { type: "client_ip", value: "198.51.100.66" },
    summary: "SASL brute force from 198.51.100.66: 5 failed logins in 10m on mx1",
    remediation: "Block the address.",
    startsAt: STARTS_AT,
    ...overrides,
  });

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("Alertmanager destination and routing", () => {
  it("fires and resolves in a real Alertmanager; Slack (warning and up) gets no info alert", async () => {
    await using nats = await startTestNats();
    await using alertmanager = await startTestAlertmanager();
    await using http = await startScriptedHttpServer();
    const alerter = await runOne("alerter", {
      ...nats.env,
      ALERTER_DESTINATIONS: JSON.stringify([
        { type: "alertmanager", url: alertmanager.url, generatorUrl: GENERATOR },
        { name: "secops", type: "slack", url: `${http.url}/slack`, minSeverity: "warning" },
      ]),
      ALERTER_GROUP_WAIT_MS: "50",
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: "0",
      LOG_LEVEL: "silent",
    });
    const client = await connect({ servers: nats.url });
    const publish = (a: Alert) =>
      jetstream(client).publish(alertSubject(a.rule), JSON.stringify(a), { msgID: alertIdentity(a) });
    try {
      const firing = alert({});
      const info = alert({
        fingerprint: "am-info",
        rule: "sender_login_mismatch",
        severity: "info",
        key: { type: "sasl_user", value: "sales@example.org" },
        summary: "sales@example.org sent as another address",
      });
      await publish(firing);
      await publish(info);
      const held = await until("both alerts in Alertmanager", async () => {
        const alerts = await alertmanager.alerts();
        return alerts.length === 2 ? alerts : undefined;
      });
      const brute = held.find((a) => a.labels.alertname === "sasl_bruteforce");
      assert.deepEqual(brute?.labels, {
        alertname: "sasl_bruteforce",
        severity: "warning",
        key_type: "client_ip",
        key: "198.51.100.66",
        source: "postwatch",
      });
      assert.equal(Date.parse(brute?.startsAt ?? ""), Date.parse(firing.startsAt));
      assert.equal(brute?.annotations.summary, firing.summary);
      assert.equal(brute?.annotations.description, "Block the address.");
      assert.equal(brute?.generatorURL, GENERATOR);

      await http.waitFor(
        (r) => r.path === "/slack",
        (r) => r.length > 0,
        5000,
        "Slack's message",
      );
      // The info alert reached Alertmanager after the warning was sent on; Slack's queue is its own,
      // so wait past its grouping before looking for what it must not have.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const slack = http.requests.filter((r) => r.path === "/slack");
      assert.equal(slack.length, 1);
      assert.match(slack[0]?.text ?? "", /198\.51\.100\.66/);
      assert.doesNotMatch(slack.map((r) => r.text).join("\n"), /sender_login_mismatch|am-info/);

      await publish(alert({ state: "resolved", endsAt: new Date().toISOString() }));
      await until("the brute force resolved in Alertmanager", async () => {
        const alerts = await alertmanager.alerts();
        return alerts.some((a) => a.labels.alertname === "sasl_bruteforce") ? undefined : alerts;
      });
      assert.ok((await alertmanager.alerts()).some((a) => a.labels.alertname === "sender_login_mismatch"));
    } finally {
      await alerter.stop();
      await client.close();
    }
  });
});
