import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import {
  authSession,
  byTime,
  disconnect,
  HOUR,
  login,
  MINUTE,
  replay,
  SEED_002_IP,
  saslFailed,
  seed002Session,
  tooManyErrors,
} from "./fixtures.js";

const keysOf = (alerts: Alert[]) => alerts.map((a) => `${a.state} ${a.key.type}:${a.key.value}`);

describe("sasl_bruteforce", () => {
  it("fires on seed 002: repeated AUTH PLAIN failures from 176.103.49.30 hidden in TLS debug noise", () => {
    const events = [0, 50, 100, 150, 200, 250].flatMap((at, i) => seed002Session(at, 32451 + i));
    const alerts = replay(events).of("sasl_bruteforce");
    assert.equal(alerts.length, 1);
    const alert = Alert.parse(alerts[0]);
    assert.deepEqual(alert.key, { type: "client_ip", value: SEED_002_IP });
    assert.equal(alert.count, 5);
    assert.equal(alert.threshold, 5);
    assert.equal(alert.windowSeconds, 600);
    assert.deepEqual(alert.facts.mechanisms, ["PLAIN (4)"], "details start at the second failure");
    assert.deepEqual(alert.related.saslUsers, ["admin@fipick.com"]);
    assert.equal(alert.samples.length, 3);
    assert.match(
      alert.samples[0] ?? "",
      /postfix\/smtpd\[32452\]: sasl_auth_failed PLAIN from unknown\[176\.103\.49\.30\]/,
    );
    assert.equal(
      alert.summary,
      "SASL brute force from 176.103.49.30: 5 failed logins in 10m on unnamed-host (mechanisms: PLAIN (4))",
    );
  });

  it("counts a session's warnings once, adding only what `disconnect auth=0/N` shows beyond them", () => {
    const ip = "203.0.113.7";
    // 2 warnings logged, disconnect says 4 failed (2 were aborted without a warning): 4 failures.
    const session = [...authSession({ at: 0, ip, failures: 2 })];
    session.splice(-1, 1, tooManyErrors({ at: 3, ip }), disconnect({ at: 3, ip, authTotal: 4 }));
    const quiet = replay(session);
    assert.equal(quiet.of("sasl_bruteforce").length, 0, "4 failures, not 2 + 4 + 1");
    const fires = replay([...session, ...authSession({ at: 60, ip, failures: 1, pid: 4243 })]);
    assert.equal(fires.of("sasl_bruteforce")[0]?.count, 5);
  });

  it("counts sessions that only show up as `disconnect ... auth=0/N` or `too many errors after AUTH`", () => {
    const ip = "203.0.113.8";
    const events = [
      disconnect({ at: 0, ip, authTotal: 3, pid: 1 }),
      tooManyErrors({ at: 10, ip, pid: 2 }),
      disconnect({ at: 11, ip, authTotal: 1, pid: 2 }),
      disconnect({ at: 20, ip, authTotal: 1, pid: 3 }),
    ];
    const alerts = replay(events).of("sasl_bruteforce");
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.count, 5);
  });

  it("aggregates an IPv6 attacker rotating addresses within one /64", () => {
    const events = [1, 2, 3, 4, 5, 6].map((n) =>
      saslFailed({ at: n * 10, ip: `2001:db8:1:2::${n.toString(16)}`, pid: n }),
    );
    const alerts = replay(events).of("sasl_bruteforce");
    assert.deepEqual(keysOf(alerts), ["firing client_net:2001:db8:1:2::/64"]);
    assert.equal(alerts[0]?.related.clientIps.length, 4, "addresses seen once the key is warm");
  });

  it("stays quiet for a user who mistypes the password twice, and for an office NAT with a few typos", () => {
    const office = "198.51.100.20";
    const events = byTime([
      ...authSession({ at: 0, ip: office, failures: 2, user: "alice@example.org", succeeds: true }),
      ...authSession({ at: 120, ip: office, failures: 1, user: "bob@example.org", succeeds: true, pid: 77 }),
      ...authSession({
        at: 300,
        ip: office,
        failures: 1,
        user: "carol@example.org",
        succeeds: true,
        pid: 78,
      }),
      ...Array.from({ length: 40 }, (_, i) =>
        login({ at: i * 10, ip: office, user: "dave@example.org", pid: 100 + i }),
      ),
    ]);
    const result = replay(events);
    assert.equal(result.of("sasl_bruteforce").length, 0);
    assert.equal(result.of("auth_after_failures").length, 0);
  });
});

describe("sasl_slow_bruteforce", () => {
  const slow = Array.from({ length: 30 }, (_, i) =>
    saslFailed({ at: i * 12 * MINUTE, ip: "192.0.2.200", pid: 900 + i }),
  );

  it("fires on one failure every 12 minutes for hours, which the 10 minute rule never sees", () => {
    const result = replay(slow);
    assert.equal(result.of("sasl_bruteforce").length, 0);
    const alerts = result.of("sasl_slow_bruteforce");
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.count, 20);
    assert.match(alerts[0]?.summary ?? "", /20 failed logins in 6h/);
  });

  it("stays quiet on a client retrying a stale password a few times a day", () => {
    const stale = [0, 4, 8, 12, 16, 20].flatMap((h) =>
      authSession({ at: h * HOUR, ip: "192.0.2.201", failures: 2, pid: 500 + h }),
    );
    assert.equal(replay(stale).of("sasl_slow_bruteforce").length, 0);
  });
});

describe("sasl_spray", () => {
  const spray = (ips: number, user?: string): PostfixEvent[] =>
    Array.from({ length: ips }, (_, i) =>
      saslFailed({ at: i * 60, ip: `198.18.${i >> 8}.${i & 255}`, pid: i, ...(user ? { user } : {}) }),
    );

  it("fires on many IPs with one failure each", () => {
    const alerts = replay(spray(40)).of("sasl_spray");
    assert.deepEqual(keysOf(alerts), ["firing global:all"]);
    assert.equal(alerts[0]?.count, 30);
    assert.equal(alerts[0]?.facts.events, 30);
  });

  it("fires on several IPs guessing one known user name", () => {
    const alerts = replay(spray(6, "info@example.org")).of("sasl_spray");
    assert.deepEqual(keysOf(alerts), ["firing sasl_user:info@example.org"]);
    assert.equal(alerts[0]?.related.clientIps.length, 5);
  });

  it("stays quiet on a handful of users mistyping from their own addresses", () => {
    const typos = Array.from({ length: 8 }, (_, i) =>
      saslFailed({ at: i * 300, ip: `192.0.2.${i + 1}`, user: `user${i}@example.org`, pid: i }),
    );
    assert.equal(replay(typos).of("sasl_spray").length, 0);
  });
});

describe("auth_after_failures", () => {
  it("fires critical when an IP that failed repeatedly logs in", () => {
    const ip = "203.0.113.66";
    const events = [
      ...authSession({ at: 0, ip, failures: 4, user: "sales@example.org", pid: 1 }),
      ...authSession({ at: 30, ip, failures: 1, user: "sales@example.org", succeeds: true, pid: 2 }),
    ];
    const alerts = replay(events).of("auth_after_failures");
    assert.deepEqual(keysOf(alerts), ["firing client_ip:203.0.113.66", "firing sasl_user:sales@example.org"]);
    const [byIp] = alerts as [Alert];
    assert.equal(byIp.severity, "critical");
    assert.equal(byIp.count, 5);
    assert.equal(alerts[1]?.threshold, 3, "a user's own failures need less");
    assert.deepEqual(byIp.related.saslUsers, ["sales@example.org"]);
    assert.match(
      byIp.samples.at(-1) ?? "",
      /client unknown\[203\.0\.113\.66\] sasl_method=PLAIN sasl_username=sales@example\.org/,
    );
  });

  it("stays quiet when the failures are older than the window", () => {
    const ip = "203.0.113.67";
    const events = [
      ...authSession({ at: 0, ip, failures: 4, pid: 1 }),
      login({ at: 20 * MINUTE, ip, user: "sales@example.org", pid: 2 }),
    ];
    assert.equal(replay(events).of("auth_after_failures").length, 0);
  });
});
