/**
 * Golden tests: recorded log fragments (test/fixtures/rules/*.log, in the shapes Postfix logs)
 * through the real path (lineToEvent → Correlator and AuthSessions → DetectionEngine), per rule: it fires on the
 * attack and stays quiet on the normal traffic that looks like it. Then the mixed-log generator's
 * compromised-account scenario: every attacker is named, no legitimate user is.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { type Alert, Alert as AlertSchema } from "../../../../shared/src/contracts/alerts.js";
import { lineToEvent } from "../../../../shared/src/pipeline/lines.js";
import { Correlator } from "../../../../shared/src/postfix/correlate.js";
import { GROUND_TRUTH, generateMixedLog } from "../../../../test/generator/mixed-log.js";
import { AuthSessions } from "../engine/auth-sessions.js";
import { DetectionEngine } from "../engine/engine.js";
import { loadRules } from "./index.js";

const FIXTURES = new URL("../../../../../test/fixtures/", import.meta.url);
/** BSD timestamps carry no year: the fixtures were "written" in 2026. */
const REFERENCE_TIME = Date.UTC(2026, 11, 31);

/** Replays log lines the way the detector does (messages summarized at first pass); `#` lines are fixture comments. */
function replayLines(lines: Iterable<string>, overrides: Record<string, unknown> = {}): Alert[] {
  const correlator = new Correlator({ summarizeAt: "first_pass" });
  const sessions = new AuthSessions();
  const engine = new DetectionEngine({ rules: loadRules(overrides) });
  const alerts: Alert[] = [];
  let lastMs = 0;
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    const outcome = lineToEvent(line, { referenceTime: REFERENCE_TIME, fallbackHost: "" });
    if (outcome.type !== "event") continue;
    const atMs = Date.parse(outcome.event.ts);
    lastMs = Math.max(lastMs, atMs);
    alerts.push(...engine.advance(atMs));
    for (const event of correlator.push(outcome.event))
      alerts.push(...engine.process(event, sessions.observe(event)));
  }
  for (const event of correlator.sweep(Number.POSITIVE_INFINITY))
    alerts.push(...engine.process(event, sessions.observe(event)));
  // A day later every episode has resolved: resolves name what the whole episode saw.
  alerts.push(...engine.advance(lastMs + 86_400_000));
  for (const alert of alerts) AlertSchema.parse(alert);
  return alerts;
}

const replayFixture = (name: string, overrides?: Record<string, unknown>) =>
  replayLines(readFileSync(new URL(name, FIXTURES), "utf8").split("\n"), overrides);

const firing = (alerts: Alert[]) =>
  alerts.filter((a) => a.state === "firing").map((a) => `${a.rule} ${a.key.type}:${a.key.value}`);

/** Value (n) entries of a `top` fact, summed. */
const factTotal = (values: unknown): number =>
  (values as string[]).reduce((sum, v) => sum + Number(/\((\d+)\)$/.exec(v)?.[1] ?? 1), 0);

describe("golden: recorded attacks fire their rule", () => {
  it("sasl_bruteforce: two AUTH LOGIN failures per connection from one address", () => {
    const alerts = replayFixture("rules/sasl-bruteforce.log");
    assert.deepEqual(firing(alerts), [
      "client_auth_failures client_ip:203.0.113.50",
      "sasl_bruteforce client_ip:203.0.113.50",
    ]);
    const alert = alerts.find((a) => a.rule === "sasl_bruteforce");
    assert.equal(alert?.count, 5);
    assert.deepEqual(alert?.facts.mechanisms, ["LOGIN (5)"]);
    assert.deepEqual(alert?.facts.services, ["smtpd (5)"]);
    assert.equal(alert?.samples.length, 3);
  });

  it("sasl_bruteforce on seed 002 (TLS debug noise, no hostname, no year), with the server-config alerts", () => {
    const alerts = replayFixture("sasl-bruteforce-seed002.log");
    const fired = firing(alerts);
    assert.ok(fired.includes("sasl_bruteforce client_ip:176.103.49.30"), fired.join("\n"));
    assert.ok(fired.some((f) => f.startsWith("credentials_in_logs ")));
    assert.ok(fired.some((f) => f.startsWith("weak_tls ")));
    const brute = alerts.find((a) => a.rule === "sasl_bruteforce" && a.state === "firing");
    assert.equal(factTotal(brute?.facts.mechanisms), brute?.count, "facts agree with the count");
    assert.deepEqual(brute?.related.saslUsers, ["admin@fipick.com"]);
  });

  it("samples are the lines as logged, so grep finds them in the log", () => {
    const log = readFileSync(new URL("sasl-bruteforce-seed002.log", FIXTURES), "utf8");
    const alerts = replayFixture("sasl-bruteforce-seed002.log");
    const brute = alerts.find((a) => a.rule === "sasl_bruteforce" && a.state === "firing");
    assert.equal(brute?.samples.length, 3);
    for (const sample of brute?.samples ?? []) {
      // `<ts> <host> postfix/smtpd[pid]: <the line after the tag>`
      const [, origin, logged] = /^\S+ \S+ (\S+): (.*)$/.exec(sample) ?? [];
      assert.match(logged ?? "", /SASL PLAIN authentication failed/, sample);
      assert.ok(log.includes(`${origin}: ${logged}`), `not in the log as logged: ${sample}`);
    }
  });

  it("sasl_slow_bruteforce: one failure every 15 minutes for 6 hours, and no fast alert", () => {
    const alerts = replayFixture("rules/sasl-slow-bruteforce.log");
    assert.deepEqual(firing(alerts), [
      "client_auth_failures client_ip:192.0.2.77",
      "sasl_slow_bruteforce client_ip:192.0.2.77",
    ]);
    const slow = alerts.find((a) => a.rule === "sasl_slow_bruteforce");
    assert.equal(slow?.count, 20);
    assert.deepEqual(slow?.facts.mechanisms, ["PLAIN (20)"]);
    assert.deepEqual(slow?.facts.services, ["submission (20)"]);
  });

  it("sasl_spray: forty addresses, one failure each, against one user", () => {
    const alerts = replayFixture("rules/sasl-spray.log");
    assert.deepEqual(firing(alerts).sort(), [
      "sasl_spray global:all",
      "sasl_spray sasl_user:info@example.org",
    ]);
  });

  it("auth_after_failures: the fifth failure fires sasl_bruteforce, the login after it the critical alert", () => {
    const alerts = replayFixture("rules/auth-after-failures.log");
    assert.deepEqual(firing(alerts), [
      "client_auth_failures client_ip:203.0.113.66",
      "sasl_bruteforce client_ip:203.0.113.66",
      "auth_after_failures client_ip:203.0.113.66",
    ]);
    const critical = alerts.find((a) => a.rule === "auth_after_failures");
    assert.equal(critical?.severity, "critical");
    assert.equal(critical?.count, 5);
    assert.deepEqual(critical?.related.saslUsers, ["sales@example.org"]);
    assert.equal(factTotal(critical?.facts.mechanisms), 5);
    assert.match(critical?.samples.at(-1) ?? "", /sasl_username=sales@example\.org/);
  });

  it("one attack, one alert: sasl_slow_bruteforce stays quiet while sasl_bruteforce has it", () => {
    const lines = readFileSync(new URL("rules/sasl-bruteforce.log", FIXTURES), "utf8").split("\n");
    assert.deepEqual(
      replayLines(lines).filter((a) => a.rule === "sasl_slow_bruteforce"),
      [],
    );
  });
});

describe("golden: normal traffic that looks similar stays quiet", () => {
  for (const [fixture, what] of [
    ["rules/quiet-busy-sender.log", "a busy legitimate sender"],
    ["rules/quiet-typo-and-auth-restart.log", "a user who mistypes twice, then an auth backend restart"],
    ["rules/quiet-mailing-list.log", "a mailing list with some bounces"],
  ] as const)
    it(what, () => {
      assert.deepEqual(firing(replayFixture(fixture)), []);
    });
});

describe("golden: the generator's compromised-account scenario", () => {
  const alerts = replayLines(generateMixedLog({ lines: 20_000, seed: 3, scenario: "compromised-account" }));
  const named = (value: string) =>
    alerts.some(
      (a) =>
        a.key.value === value || a.related.clientIps.includes(value) || a.related.saslUsers.includes(value),
    );
  const compromised = GROUND_TRUTH.compromisedAccount;

  it("names every brute-force address, each keyed by its own alert", () => {
    for (const ip of GROUND_TRUTH.bruteForceIps)
      assert.ok(
        alerts.some((a) => a.rule === "sasl_bruteforce" && a.key.value === ip),
        `${ip} in ${firing(alerts).join(", ")}`,
      );
  });

  it("names the compromised account and every address that abused it", () => {
    const alert = alerts.find((a) => a.rule === "compromised_sender" && a.key.value === compromised.user);
    assert.ok(alert, firing(alerts).join("\n"));
    for (const ip of compromised.abuseIps) assert.ok(named(ip), ip);
  });

  it("accuses no legitimate user or address", () => {
    const legitimateUsers = GROUND_TRUTH.legitimateUsers.filter((u) => u !== compromised.user);
    for (const alert of alerts) {
      assert.ok(
        !GROUND_TRUTH.legitimateClientIps.includes(alert.key.value),
        `${alert.rule} ${alert.key.value}`,
      );
      assert.ok(!legitimateUsers.includes(alert.key.value), `${alert.rule} ${alert.key.value}`);
      for (const user of alert.related.saslUsers)
        assert.ok(!legitimateUsers.includes(user), `${alert.rule} ${user}`);
    }
  });
});
