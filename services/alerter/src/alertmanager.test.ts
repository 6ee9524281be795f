import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FIRING_HORIZON_MS, toAlertmanager } from "./alertmanager.js";
import { sampleAlert } from "./testing.js";

const NOW = Date.parse("2026-02-23T12:00:00.000Z");

describe("Alertmanager alerts", () => {
  it("labels what names the alert, the same firing and resolved, and annotates the rest", () => {
    const firing = toAlertmanager(sampleAlert(), NOW, "https://grafana.example.net/d/postwatch");
    const resolved = toAlertmanager(
      sampleAlert({ state: "resolved", endsAt: "2026-02-23T12:20:00.000Z", hosts: ["mx1", "mx2"] }),
      NOW,
    );
    assert.deepEqual(firing.labels, {
      alertname: "sasl_bruteforce",
      severity: "warning",
      key_type: "client_ip",
      key: "176.103.49.30",
      source: "postwatch",
    });
    assert.deepEqual(resolved.labels, firing.labels);
    assert.match(firing.annotations.summary ?? "", /^SASL brute force from 176\.103\.49\.30/);
    assert.equal(firing.annotations.description, "Block the address at the firewall.");
    assert.equal(firing.annotations.sasl_users, "admin@fipick.com");
    assert.equal(firing.annotations.fact_mechanisms, "PLAIN (5)");
    assert.match(firing.annotations.samples ?? "", /postfix\/smtpd\[32451\]/);
    assert.equal(firing.generatorURL, "https://grafana.example.net/d/postwatch");
    assert.equal(resolved.generatorURL, undefined);
  });

  it("ends a firing alert a day ahead and a resolved one where its episode ended", () => {
    const firing = toAlertmanager(sampleAlert(), NOW);
    assert.equal(firing.startsAt, "2026-02-23T11:57:45.000Z");
    assert.equal(Date.parse(firing.endsAt), NOW + FIRING_HORIZON_MS);
    const resolved = toAlertmanager(
      sampleAlert({ state: "resolved", endsAt: "2026-02-23T12:20:00.000Z" }),
      NOW,
    );
    assert.equal(resolved.endsAt, "2026-02-23T12:20:00.000Z");
  });
});
