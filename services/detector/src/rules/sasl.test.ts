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
    assert.deepEqual(alert.facts.mechanisms, ["PLAIN (5)"], "facts cover every failure the count covers");
    assert.deepEqual(alert.facts.services, ["smtpd (5)"]);
    assert.deepEqual(alert.related.saslUsers, ["admin@fipick.com"]);
    assert.equal(alert.samples.length, 3, "the three failures that crossed the threshold");
    assert.match(
      alert.samples[0] ?? "",
      /postfix\/smtpd\[32453\]: sasl_auth_failed PLAIN from unknown\[176\.103\.49\.30\]/,
    );
    assert.match(alert.samples[2] ?? "", /postfix\/smtpd\[32455\]/);
    assert.equal(
      alert.summary,
      "SASL brute force from 176.103.49.30: 5 failed logins in 10m on unnamed-host (mechanisms: PLAIN (5))",
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
    assert.equal(alerts[0]?.related.clientIps.length, 4, "the first address, and those once the key is warm");
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

describe("what counts as a password guess", () => {
  // Every dovecot restart: each client that tries to log in meanwhile logs one failure, then succeeds.
  const outage = (reason: string) =>
    byTime(
      Array.from({ length: 12 }, (_, i) =>
        authSession({
          at: i * 20,
          ip: "198.51.100.30",
          failures: 1,
          reason,
          user: `user${i}@example.org`,
          pid: 600 + i,
        }),
      ).flat(),
    );

  for (const reason of ["Connection lost to authentication server", "Invalid authentication mechanism"])
    it(`does not count "${reason}" (no password was tried), like fail2ban's postfix[mode=auth]`, () => {
      const result = replay(outage(reason));
      for (const rule of ["sasl_bruteforce", "sasl_slow_bruteforce", "sasl_spray", "auth_after_failures"])
        assert.deepEqual(keysOf(result.of(rule)), [], rule);
      assert.equal(result.engine.stats().rules.sasl_bruteforce?.trackedKeys, 0);
    });

  it("still counts the same sessions when the reason is a wrong password", () => {
    const events = Array.from({ length: 6 }, (_, i) =>
      authSession({ at: i * 20, ip: "198.51.100.31", failures: 1, pid: 700 + i }),
    ).flat();
    assert.equal(replay(events).of("sasl_bruteforce").length, 1);
  });

  it("forgives the failures of a session that then logs in: a user who keeps mistyping is no attacker", () => {
    // Eight typos in ten minutes from the user's own address, each followed by a successful login.
    const events = Array.from({ length: 8 }, (_, i) =>
      authSession({
        at: i * 70,
        ip: "198.51.100.14",
        failures: 1,
        user: "erin@example.org",
        succeeds: true,
        pid: 800 + i,
      }),
    ).flat();
    const result = replay(events);
    for (const rule of ["sasl_bruteforce", "sasl_slow_bruteforce", "sasl_spray", "auth_after_failures"])
      assert.deepEqual(keysOf(result.of(rule)), [], rule);
  });

  it("keeps a firing alert's facts in step with its count: weighted, with failures no line named", () => {
    const ip = "203.0.113.90";
    const events = [
      ...authSession({ at: 0, ip, failures: 2, mechanism: "PLAIN", pid: 1 }),
      disconnect({ at: 30, ip, authTotal: 2, pid: 2 }),
      ...authSession({ at: 60, ip, failures: 1, mechanism: "LOGIN", pid: 3 }),
    ];
    const [alert] = replay(events).of("sasl_bruteforce");
    assert.equal(alert?.count, 5);
    assert.deepEqual(alert?.facts.mechanisms, ["not logged (2)", "PLAIN (2)", "LOGIN"]);
    assert.deepEqual(alert?.facts.services, ["smtpd (5)"]);
  });

  it("keeps a million-address flood cheap: keys hold no detail until they near the threshold", () => {
    const events = Array.from({ length: 2000 }, (_, i) => {
      const n = i % 1000;
      return saslFailed({ at: i % 1000, ip: `10.1.${n >> 8}.${n & 255}`, pid: i });
    });
    const stats = replay(events).engine.stats().rules;
    assert.equal(stats.sasl_bruteforce?.trackedKeys, 1000);
    assert.equal(stats.sasl_bruteforce?.detailedKeys, 0);
    assert.equal(stats.sasl_slow_bruteforce?.detailedKeys, 0);
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

  it("yields to sasl_bruteforce: a fast attack that goes on for hours is one alert, not two", () => {
    const fast = Array.from({ length: 120 }, (_, i) =>
      saslFailed({ at: i * 90, ip: "192.0.2.202", pid: 1000 + i }),
    );
    const result = replay(fast);
    assert.deepEqual(keysOf(result.of("sasl_bruteforce")), ["firing client_ip:192.0.2.202"]);
    assert.deepEqual(result.of("sasl_slow_bruteforce"), []);
  });

  it("still fires when the fast rule is disabled", () => {
    const fast = Array.from({ length: 30 }, (_, i) => saslFailed({ at: i * 60, ip: "192.0.2.203", pid: i }));
    const result = replay(fast, { overrides: { sasl_bruteforce: { enabled: false } } });
    assert.equal(result.of("sasl_slow_bruteforce").length, 1);
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

  it("fires on many IPs with one failure each (and on their one network)", () => {
    const alerts = replay(spray(40)).of("sasl_spray");
    assert.deepEqual(keysOf(alerts), ["firing client_net:198.18.0.0/24", "firing global:all"]);
    assert.equal(alerts[0]?.count, 10, "ten addresses of one /24");
    assert.equal(alerts[1]?.count, 30);
    assert.equal(alerts[1]?.facts.events, 30);
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

describe("auth_after_failures and the user's login history", () => {
  const alice = "alice@example.org";
  const home = "198.51.100.7";
  const attacker = "203.0.113.99";
  /** Alice's usual logins from home, the day before. */
  const history = [-2 * HOUR, -26 * HOUR].map((h, i) => login({ at: h, ip: home, user: alice, pid: 50 + i }));
  /** Eight guesses at alice's password from an address she never used. */
  const guesses = Array.from({ length: 8 }, (_, i) =>
    saslFailed({ at: i * 20, ip: attacker, user: alice, pid: 60 + i }),
  );

  it("stays off the critical alert when alice logs in from her usual address while someone guesses elsewhere", () => {
    const result = replay(
      byTime([...history, ...guesses, login({ at: 200, ip: home, user: alice, pid: 70 })]),
    );
    assert.deepEqual(result.of("auth_after_failures"), []);
    const targeted = result.of("account_targeted");
    assert.deepEqual(keysOf(targeted), [`firing sasl_user:${alice}`]);
    assert.equal(targeted[0]?.severity, "warning");
    assert.deepEqual(targeted[0]?.related.clientIps, [attacker, home], "the guesser, then the login");
    assert.match(String(targeted[0]?.facts.login), /usual address 198\.51\.100\.7/);
  });

  it("fires critical when the login after the failures comes from an address new to alice", () => {
    const result = replay(
      byTime([...history, ...guesses, login({ at: 200, ip: attacker, user: alice, pid: 70 })]),
    );
    const alerts = result.of("auth_after_failures");
    assert.deepEqual(keysOf(alerts), [`firing client_ip:${attacker}`, `firing sasl_user:${alice}`]);
    assert.equal(alerts[1]?.severity, "critical");
    assert.deepEqual(alerts[1]?.facts.login, [`first login from ${attacker}, not seen in 30 days`]);
    assert.match(alerts[1]?.summary ?? "", /first login from 203\.0\.113\.99, not seen in 30 days/);
    assert.deepEqual(result.of("account_targeted"), []);
  });

  it("fires for the address that failed even when alice has used it before", () => {
    const shared = "192.0.2.40";
    const events = byTime([
      login({ at: -HOUR, ip: shared, user: alice, pid: 1 }),
      ...Array.from({ length: 5 }, (_, i) => saslFailed({ at: i * 10, ip: shared, pid: 10 + i })),
      login({ at: 100, ip: shared, user: alice, pid: 20 }),
    ]);
    assert.deepEqual(keysOf(replay(events).of("auth_after_failures")), [`firing client_ip:${shared}`]);
  });
});

describe("sasl_spray by network", () => {
  /** Ten addresses of one /24, two attempts each at a different user name, within a minute. */
  const spray = (named: boolean) =>
    Array.from({ length: 20 }, (_, i) =>
      saslFailed({
        at: i * 3,
        ip: `198.51.100.${10 + (i >> 1)}`,
        pid: 300 + i,
        ...(named ? { user: `user${i}@example.org` } : {}),
      }),
    );

  it("fires on many accounts, few tries each, from few addresses of one network", () => {
    const alerts = replay(spray(true)).of("sasl_spray");
    assert.deepEqual(keysOf(alerts), ["firing client_net:198.51.100.0/24"]);
    assert.equal(alerts[0]?.count, 10, "ten user names");
    assert.equal(alerts[0]?.related.clientIps.length, 5);
    assert.match(alerts[0]?.summary ?? "", /10 accounts/);
  });

  it("counts the addresses instead where Postfix logs no user name", () => {
    const alerts = replay(spray(false)).of("sasl_spray");
    assert.deepEqual(keysOf(alerts), ["firing client_net:198.51.100.0/24"]);
  });

  it("stays quiet on an office network where a few users mistype", () => {
    const typos = Array.from({ length: 6 }, (_, i) =>
      saslFailed({ at: i * 200, ip: `192.0.2.${i + 1}`, user: `user${i}@example.org`, pid: i }),
    );
    assert.equal(replay(typos).of("sasl_spray").length, 0);
  });
});

describe("sasl_slow_spray", () => {
  it("fires on a low-and-slow spray from one network: one try every ten minutes, a new account each time", () => {
    const slow = Array.from({ length: 30 }, (_, i) =>
      saslFailed({
        at: i * 10 * MINUTE,
        ip: `198.51.100.${i + 1}`,
        user: `user${i}@example.org`,
        pid: 400 + i,
      }),
    );
    const result = replay(slow);
    assert.deepEqual(keysOf(result.of("sasl_spray")), [], "six an hour: under the hourly bar");
    const alerts = result.of("sasl_slow_spray");
    assert.deepEqual(keysOf(alerts), ["firing client_net:198.51.100.0/24"]);
    assert.equal(alerts[0]?.count, 15);
  });

  it("fires overall on a spray spread over many networks for hours", () => {
    const spread = Array.from({ length: 80 }, (_, i) =>
      saslFailed({ at: i * 4 * MINUTE, ip: `203.0.${i}.9`, user: `u${i}@example.org`, pid: 500 + i }),
    );
    const result = replay(spread);
    assert.deepEqual(keysOf(result.of("sasl_spray")), []);
    assert.deepEqual(keysOf(result.of("sasl_slow_spray")), ["firing global:all"]);
  });

  it("yields to sasl_spray: a fast spray that goes on for hours is one alert per key", () => {
    const fast = Array.from({ length: 200 }, (_, i) =>
      saslFailed({ at: i * 60, ip: `198.18.7.${i % 250}`, user: `v${i}@example.org`, pid: 600 + i }),
    );
    const result = replay(fast);
    assert.deepEqual(keysOf(result.of("sasl_spray")), [
      "firing client_net:198.18.7.0/24",
      "firing global:all",
    ]);
    assert.deepEqual(keysOf(result.of("sasl_slow_spray")), []);
  });

  it("stays quiet on three phones retrying stale passwords all day", () => {
    const phones = [0, 1, 2].flatMap((p) =>
      Array.from({ length: 12 }, (_, i) =>
        saslFailed({
          at: i * 30 * MINUTE + p,
          ip: `192.0.2.${p + 1}`,
          user: `phone${p}@example.org`,
          pid: p * 100 + i,
        }),
      ),
    );
    const result = replay(byTime(phones));
    assert.deepEqual(keysOf(result.of("sasl_slow_spray")), []);
    assert.deepEqual(keysOf(result.of("sasl_spray")), []);
  });
});
