import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { bans } from "./fail2ban.js";
import { shiftLine } from "./recorder.js";
import { inNetwork, scoreScenario } from "./score.js";
import type { Actor, Scenario } from "./truth.js";

const actor = (name: string, role: Actor["role"], clientIps: string[], saslUsers: string[] = []): Actor => ({
  name,
  role,
  does: name,
  clientIps,
  saslUsers,
  expect: role === "attacker" ? ["sasl_bruteforce"] : [],
});

const scenario = (actors: Actor[]): Scenario => ({
  name: "s",
  title: "s",
  source: "generated",
  recordedWith: "test",
  phases: [],
  actors,
});

const alert = (rule: string, key: Alert["key"], clientIps: string[] = []): Alert => ({
  v: 1,
  fingerprint: rule,
  rule,
  state: "firing",
  severity: "warning",
  key,
  summary: "",
  remediation: "",
  startsAt: "2026-12-07T10:00:00Z",
  count: 5,
  threshold: 5,
  windowSeconds: 600,
  hosts: ["mx1"],
  related: { clientIps, saslUsers: [] },
  facts: {},
  samples: [],
});

describe("scoring alerts against the ground truth", () => {
  const alice = actor("alice", "benign", ["127.0.0.10"], ["alice@example.org"]);
  const attacker = actor("attacker", "attacker", ["127.0.2.66"]);
  const first = new Map([["127.0.2.66", 1_000]]);
  const score = (alerts: Alert[]) =>
    scoreScenario(
      scenario([alice, attacker]),
      alerts.map((a) => ({ alert: a, atMs: 3_500 })),
      first,
    );

  test("an alert keyed by the attacker's address detects it, timed from its first line", () => {
    const [, verdict] = score([alert("sasl_bruteforce", { type: "client_ip", value: "127.0.2.66" })]).actors;
    assert.deepEqual(verdict?.missed, []);
    assert.equal(verdict?.alerts[0]?.afterFirstLineSeconds, 2.5);
  });

  test("an alert keyed by a benign user's account is a false alarm on them, whatever it relates", () => {
    const [aliceVerdict, attackerVerdict] = score([
      alert("auth_after_failures", { type: "sasl_user", value: "alice@example.org" }, [
        "127.0.2.66",
        "127.0.0.10",
      ]),
    ]).actors;
    assert.deepEqual(
      aliceVerdict?.alerts.map((d) => d.rule),
      ["auth_after_failures"],
    );
    assert.deepEqual(attackerVerdict?.missed, ["sasl_bruteforce"]);
  });

  test("account_targeted is about the clients failing against the account", () => {
    const [aliceVerdict, attackerVerdict] = score([
      alert("account_targeted", { type: "sasl_user", value: "alice@example.org" }, ["127.0.2.66"]),
    ]).actors;
    assert.deepEqual(aliceVerdict?.alerts, []);
    assert.deepEqual(
      attackerVerdict?.alerts.map((d) => d.rule),
      ["account_targeted"],
    );
  });

  test("a network alert names the actors inside it; one about no actor is kept apart", () => {
    const result = score([
      alert("sasl_spray", { type: "client_net", value: "127.0.2.0/24" }),
      alert("mail_system_error", { type: "host", value: "mx1" }),
    ]);
    assert.deepEqual(
      result.actors[1]?.alerts.map((d) => d.rule),
      ["sasl_spray"],
    );
    assert.deepEqual(
      result.unattributed.map((entry) => entry.alert.rule),
      ["mail_system_error"],
    );
  });

  test("network membership, IPv4 and IPv6", () => {
    assert.ok(inNetwork("127.0.1.19", "127.0.1.0/24"));
    assert.ok(!inNetwork("127.0.2.1", "127.0.1.0/24"));
    assert.ok(inNetwork("2001:db8:0:1::7", "2001:db8:0:1::/64"));
    assert.ok(!inNetwork("2001:db8:0:2::7", "2001:db8:0:1::/64"));
    assert.ok(!inNetwork("127.0.1.19", "2001:db8::/64"));
  });
});

test("a fail2ban jail bans at the match that puts maxretry within findtime", () => {
  const jail = { name: "postfix-sasl", filter: "postfix[mode=auth]", maxretry: 3, findtimeSeconds: 600 };
  const at = (minutes: number) => ({ ip: "192.0.2.1", atMs: minutes * 60_000 });
  assert.deepEqual(bans(jail, [at(0), at(8), at(12), at(15)]), [
    { jail: "postfix-sasl", ip: "192.0.2.1", atMs: 15 * 60_000 },
  ]);
  assert.deepEqual(bans(jail, [at(0), at(11), at(22)]), []);
});

test("a history line moves back whole, its precision and offset kept", () => {
  assert.equal(
    shiftLine("2026-12-01T00:00:05.123456+00:00 mx1 postfix/smtpd[1]: connect", -86_400),
    "2026-11-30T00:00:05.123456+00:00 mx1 postfix/smtpd[1]: connect",
  );
  assert.throws(() => shiftLine("Dec  1 00:00:05 mx1 postfix/smtpd[1]: connect", -86_400), /RFC 3339/);
});
