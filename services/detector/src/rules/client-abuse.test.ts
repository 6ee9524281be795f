import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventOf } from "../../../../shared/src/contracts/events.js";
import {
  byTime,
  client,
  diagnostic,
  HOUR,
  login,
  MINUTE,
  reject,
  replay,
  saslFailed,
  T0,
} from "./fixtures.js";

const keysOf = (rule: string, events: Parameters<typeof replay>[0], overrides = {}) =>
  replay(events, { overrides })
    .of(rule)
    .map((a) => `${a.state} ${a.key.type}:${a.key.value}`);

const postscreen = (at: number, ip: string, action: string): EventOf<"postscreen"> => ({
  v: 1,
  ts: new Date(T0 + at * 1000).toISOString(),
  host: "mx1",
  program: "postfix/postscreen",
  daemon: "postscreen",
  pid: 21057,
  kind: "postscreen",
  action,
  client: client(ip, ""),
});

const heloReject = (at: number, ip: string) =>
  reject({
    at,
    ip,
    category: "helo",
    to: "info@example.org",
    reason: "Helo command rejected: need fully-qualified hostname",
  });

describe("client_rejects", () => {
  it("fires on a second refusal within the hour and names the signals", () => {
    const [alert] = replay([heloReject(0, "192.0.2.9"), heloReject(600, "192.0.2.9")]).of("client_rejects");
    assert.equal(alert?.severity, "info");
    assert.deepEqual(alert?.key, { type: "client_ip", value: "192.0.2.9" });
    assert.deepEqual(alert?.facts.signals, ["helo reject (2)"]);
  });

  it("alerts on a network by the addresses it refuses, never on one address's repeats", () => {
    const one = Array.from({ length: 30 }, (_, i) => heloReject(i, "192.0.2.9"));
    assert.deepEqual(keysOf("client_rejects", one), ["firing client_ip:192.0.2.9"]);
    const botnet = Array.from({ length: 10 }, (_, i) => heloReject(i, `198.51.100.${i + 1}`));
    const [alert] = replay(botnet).of("client_rejects");
    assert.deepEqual(alert?.key, { type: "client_net", value: "198.51.100.0/24" });
    assert.equal(alert?.count, 10, "ten addresses");
  });

  it("stays quiet on one refusal of a misconfigured server, and on refusals hours apart", () => {
    assert.deepEqual(
      keysOf("client_rejects", [heloReject(0, "192.0.2.9"), heloReject(2 * HOUR, "192.0.2.9")]),
      [],
    );
  });

  it("stays quiet on a user whose message is over the size limit twice", () => {
    const big = [0, 60].map((at) => ({
      ...reject({
        at,
        ip: "192.0.2.11",
        category: "other",
        to: "x@far.example",
        reason: "Message size exceeds fixed limit",
        code: 552,
      }),
      dsn: "5.3.4",
    }));
    assert.deepEqual(keysOf("client_rejects", big), []);
  });

  it("does not count unknown recipients or content rejects (recipient_harvest and the content filter's business)", () => {
    const events = [0, 1, 2].map((n) =>
      reject({
        at: n,
        ip: "192.0.2.10",
        category: "unknown_recipient",
        to: `u${n}@example.org`,
        reason: "User unknown",
      }),
    );
    assert.deepEqual(keysOf("client_rejects", events), []);
  });
});

describe("client_protocol_abuse", () => {
  it("fires on one pregreet or one non-SMTP command", () => {
    assert.deepEqual(keysOf("client_protocol_abuse", [postscreen(0, "192.0.2.2", "PREGREET")]), [
      "firing client_ip:192.0.2.2",
    ]);
    const http = {
      ...diagnostic({
        at: 0,
        kind: "warning",
        text: "non-SMTP command from unknown[192.0.2.3]: GET / HTTP/1.1",
      }),
      client: client("192.0.2.3"),
    };
    assert.deepEqual(keysOf("client_protocol_abuse", [http]), ["firing client_ip:192.0.2.3"]);
  });

  it("leaves a postscreen hangup to client_rejects, which needs two", () => {
    assert.deepEqual(keysOf("client_protocol_abuse", [postscreen(0, "192.0.2.4", "HANGUP")]), []);
    assert.deepEqual(keysOf("client_rejects", [postscreen(0, "192.0.2.4", "HANGUP")]), []);
  });
});

describe("client_auth_failures", () => {
  it("fires on a third failure from an address no one has logged in from", () => {
    const events = [0, 1, 2].map((n) => saslFailed({ at: n, ip: "203.0.113.42", pid: 26897 }));
    assert.deepEqual(keysOf("client_auth_failures", events), ["firing client_ip:203.0.113.42"]);
  });

  it("stays quiet on a phone retrying a stale password from the address it used to log in from", () => {
    const phone = "198.51.100.23";
    const events = byTime([
      login({ at: -3 * HOUR, ip: phone, user: "bob@example.org", pid: 1 }),
      ...Array.from({ length: 6 }, (_, i) => saslFailed({ at: i * 10 * MINUTE, ip: phone, pid: 10 + i })),
    ]);
    assert.deepEqual(keysOf("client_auth_failures", events), []);
  });
});

describe("honeypot_login", () => {
  const probe = (at: number, ip: string, user: string) => saslFailed({ at, ip, user, pid: 17000 + at });

  it("fires on one attempt at a honeypot name, local part matched whatever the domain", () => {
    assert.deepEqual(keysOf("honeypot_login", [probe(0, "203.0.113.10", "Postmaster@example.org")]), [
      "firing client_ip:203.0.113.10",
    ]);
    assert.deepEqual(
      keysOf("honeypot_login", [probe(0, "203.0.113.80", "nonexistent_user_26@example.org")]),
      ["firing client_ip:203.0.113.80"],
    );
  });

  it("stays quiet on a name that is a real login here, and on names not in the list", () => {
    const real = byTime([
      login({ at: -HOUR, ip: "192.0.2.60", user: "admin@example.org" }),
      probe(0, "203.0.113.11", "admin@example.org"),
    ]);
    assert.deepEqual(keysOf("honeypot_login", real), []);
    assert.deepEqual(keysOf("honeypot_login", [probe(0, "203.0.113.12", "carol@example.org")]), []);
  });

  it("takes its list from the settings", () => {
    const overrides = { honeypot_login: { honeypotUsers: ["carol", "shop*"] } };
    assert.deepEqual(keysOf("honeypot_login", [probe(0, "203.0.113.13", "carol@example.org")], overrides), [
      "firing client_ip:203.0.113.13",
    ]);
    assert.deepEqual(keysOf("honeypot_login", [probe(0, "203.0.113.14", "shop-eu@example.org")], overrides), [
      "firing client_ip:203.0.113.14",
    ]);
    assert.deepEqual(
      keysOf("honeypot_login", [probe(0, "203.0.113.15", "admin@example.org")], overrides),
      [],
    );
  });
});
