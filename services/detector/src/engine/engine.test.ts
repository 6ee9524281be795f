import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Alert } from "../../../../shared/src/contracts/alerts.js";
import { authSession, MINUTE, reject, replay, T0 } from "../rules/fixtures.js";
import { NO_AUTH } from "./auth-sessions.js";
import { DetectionEngine } from "./engine.js";
import { compileRule, type RuleDefinition } from "./rule.js";

const relayProbe: RuleDefinition = {
  id: "test_relay",
  description: "relay denied per client",
  reads: [{ kind: "reject", equals: { category: "relay_denied" } }],
  keys: ["clientIp"],
  weight: "one",
  defaults: { severity: "warning", windowSeconds: 600, threshold: 3, quietSeconds: 900 },
  summary: "{count} relay attempts from {key} in {window} on {hosts}",
  remediation: "none",
};

const denied = (at: number, ip = "198.51.100.9") =>
  reject({ at, ip, category: "relay_denied", to: `x${at}@far.example`, reason: "Relay access denied" });

const engineWith = (override: Record<string, unknown> = {}, maxKeysPerRule?: number) =>
  new DetectionEngine({
    rules: [compileRule(relayProbe, override)],
    ...(maxKeysPerRule ? { maxKeysPerRule } : {}),
  });

describe("DetectionEngine lifecycle", () => {
  it("fires once when the threshold is reached and not again while the key keeps going", () => {
    const { alerts } = replay(
      [0, 60, 120, 180, 240, 300].map((at) => denied(at)),
      { engine: engineWith() },
    );
    assert.equal(alerts.length, 1);
    const [alert] = alerts;
    assert.ok(alert);
    Alert.parse(alert);
    assert.equal(alert.state, "firing");
    assert.equal(alert.count, 3);
    assert.equal(alert.startsAt, new Date(T0).toISOString());
    assert.deepEqual(alert.key, { type: "client_ip", value: "198.51.100.9" });
    assert.equal(alert.summary, "3 relay attempts from 198.51.100.9 in 10m on mx1");
  });

  it("resolves after the quiet period with the same fingerprint, then fires again as a new episode", () => {
    const engine = engineWith();
    const first = replay(
      [0, 60, 120].map((at) => denied(at)),
      { engine, endAt: 120 + 15 * MINUTE },
    );
    assert.deepEqual(
      first.alerts.map((a) => a.state),
      ["firing", "resolved"],
    );
    const [firing, resolved] = first.alerts as [Alert, Alert];
    assert.equal(resolved.fingerprint, firing.fingerprint);
    assert.equal(resolved.endsAt, new Date(T0 + 120_000).toISOString());
    assert.equal(resolved.startsAt, firing.startsAt);

    const second = replay(
      [3000, 3010, 3020].map((at) => denied(at)),
      { engine },
    );
    assert.equal(second.alerts.length, 1);
    assert.equal(second.alerts[0]?.fingerprint, firing.fingerprint);
    assert.equal(second.alerts[0]?.startsAt, new Date(T0 + 3_000_000).toISOString());
  });

  it("reports the episode's peak count when it resolves, not the last straggler's", () => {
    // Six attempts in five minutes, then one nine and a half minutes later, alone in its window.
    const { alerts } = replay(
      [0, 60, 120, 180, 240, 300, 870].map((at) => denied(at)),
      { engine: engineWith(), endAt: 870 + 15 * MINUTE },
    );
    const resolved = alerts.find((alert) => alert.state === "resolved");
    assert.equal(resolved?.count, 6);
    assert.equal(resolved?.summary, "6 relay attempts from 198.51.100.9 in 10m on mx1");
    assert.equal(resolved?.endsAt, new Date(T0 + 870_000).toISOString());
  });

  it("does not resolve before the quiet period", () => {
    const engine = engineWith();
    const { alerts } = replay(
      [0, 60, 120].map((at) => denied(at)),
      { engine, endAt: 120 + 14 * MINUTE },
    );
    assert.deepEqual(
      alerts.map((a) => a.state),
      ["firing"],
    );
  });

  it("resolves each firing key at the first sweep after its own quiet period, however the keys interleave", () => {
    const engine = engineWith();
    const a = "192.0.2.1";
    const b = "192.0.2.2";
    // a fires first and would go quiet first, but is seen again just before; b goes quiet in between.
    const events = [
      ...[0, 60, 120].map((at) => denied(at, a)),
      ...[200, 260, 320].map((at) => denied(at, b)),
      denied(1000, a),
    ];
    const resolvedAt: string[] = [];
    for (let second = 0; second <= 2500; second++) {
      const nowMs = T0 + second * 1000;
      for (const event of events) if (Date.parse(event.ts) === nowMs) engine.process(event, NO_AUTH);
      for (const alert of engine.advance(nowMs)) resolvedAt.push(`${alert.key.value} at ${second}`);
    }
    // Quiet period 900 s after each key's last event: b at 320 + 900, a at 1000 + 900.
    assert.deepEqual(resolvedAt, [`${b} at 1220`, `${a} at 1900`]);
  });

  it("only counts events inside the window", () => {
    const { alerts } = replay(
      [0, 400, 700, 1000].map((at) => denied(at)),
      { engine: engineWith() },
    );
    assert.equal(alerts.length, 0, "never three within 10 minutes");
  });

  it("takes time from events, not from arrival: the same log replays to the same alerts", () => {
    const events = [0, 30, 60].map((at) => denied(at));
    assert.deepEqual(
      replay(events, { engine: engineWith() }).alerts,
      replay(events, { engine: engineWith() }).alerts,
    );
  });

  it("evicts the least recently seen key beyond maxKeys and counts it", () => {
    const engine = engineWith({}, 2);
    replay(
      ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"].map((ip, i) => denied(i, ip)),
      { engine },
    );
    const stats = engine.stats().rules.test_relay;
    assert.equal(stats?.trackedKeys, 2);
    assert.equal(stats?.evictions, 2);
  });

  it("resolves a firing key that is evicted instead of leaving it firing forever", () => {
    const engine = engineWith({}, 1);
    const { alerts } = replay([denied(0), denied(1), denied(2), denied(3, "192.0.2.99")], { engine });
    assert.deepEqual(
      alerts.map((a) => `${a.state} ${a.key.value}`),
      ["firing 198.51.100.9", "resolved 198.51.100.9"],
    );
  });

  it("forgets idle keys on advance", () => {
    const engine = engineWith();
    replay([denied(0, "192.0.2.1"), denied(10, "192.0.2.2")], { engine, endAt: 3600 });
    assert.equal(engine.stats().rules.test_relay?.trackedKeys, 0);
  });

  it("counts processed events and skips events without a usable time", () => {
    const engine = engineWith();
    engine.process({ ...denied(0), ts: "not a time" }, NO_AUTH);
    engine.process(denied(1), NO_AUTH);
    assert.equal(engine.stats().eventsProcessed, 2);
    assert.equal(engine.stats().eventsWithoutTime, 1);
  });

  it("does not count one SMTP session's failures twice (warnings, then disconnect auth=0/N)", () => {
    const engine = new DetectionEngine({
      rules: [
        compileRule({
          ...relayProbe,
          reads: [{ kind: "sasl_auth_failed" }, { kind: "disconnect", test: "authFailed" }],
          weight: "authFailures",
          defaults: { ...relayProbe.defaults, threshold: 4 },
        }),
      ],
    });
    const { alerts } = replay(authSession({ at: 0, ip: "203.0.113.7", failures: 3 }), { engine });
    assert.equal(alerts.length, 0, "3 failures, not 6");
  });
});
