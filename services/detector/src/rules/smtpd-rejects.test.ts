import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reject, replay } from "./fixtures.js";

const relayDenied = (at: number, ip: string, to: string) =>
  reject({ at, ip, to, category: "relay_denied", reason: `<${to}>: Relay access denied` });
const unknownUser = (at: number, ip: string, to: string) =>
  reject({
    at,
    ip,
    to,
    code: 550,
    category: "unknown_recipient",
    reason: `<${to}>: Recipient address rejected: User unknown in virtual mailbox table`,
  });

describe("relay_probe", () => {
  it("fires on a client trying to relay to outside domains", () => {
    const events = [0, 1, 2, 3, 4, 5].map((i) => relayDenied(i * 30, "198.51.100.9", `x@far${i}.example`));
    const alerts = replay(events).of("relay_probe");
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0]?.key, { type: "client_ip", value: "198.51.100.9" });
    assert.equal(alerts[0]?.facts.distinct, 5);
    assert.equal(alerts[0]?.severity, "info");
  });

  it("stays quiet on a roaming phone that tries twice before its user turns on authentication", () => {
    const events = [
      relayDenied(0, "192.0.2.77", "friend@gmail.com"),
      relayDenied(60, "192.0.2.77", "friend@gmail.com"),
    ];
    assert.equal(replay(events).of("relay_probe").length, 0);
  });
});

describe("recipient_harvest", () => {
  it("fires on many distinct unknown recipients from one client", () => {
    const names = [
      "admin",
      "info",
      "sales",
      "jobs",
      "hr",
      "it",
      "billing",
      "office",
      "contact",
      "support",
      "ceo",
      "cfo",
    ];
    const events = names.map((name, i) => unknownUser(i * 20, "203.0.113.99", `${name}@example.org`));
    const alerts = replay(events).of("recipient_harvest");
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.count, 10, "distinct recipients, the rule's measure");
    assert.equal(alerts[0]?.facts.events, 10);
  });

  it("stays quiet on a list server retrying the same few stale addresses", () => {
    const stale = ["left@example.org", "gone@example.org", "old@example.org"];
    const events = Array.from({ length: 30 }, (_, i) =>
      unknownUser(i * 60, "192.0.2.50", stale[i % 3] as string),
    );
    assert.equal(replay(events).of("recipient_harvest").length, 0);
  });
});
