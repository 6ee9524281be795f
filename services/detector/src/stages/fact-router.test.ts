import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import { textValues } from "../engine/fields.js";
import { keyPartition, ownsKey } from "../partition.js";
import { byTime, connect, HOUR, login, MINUTE, replay, saslFailed } from "../rules/fixtures.js";
import { loadRules } from "../rules/index.js";
import { FactRouter } from "./fact-router.js";
import { runPartitioned } from "./partitioned.testkit.js";

const rules = loadRules({});
const PARTITIONS = 12;
const bruteForceOnly = rules.filter((r) => r.id === "sasl_bruteforce");

describe("FactRouter", () => {
  it("sends a fact to the partition of each key a rule reading its kind groups by, and nowhere else", () => {
    const router = new FactRouter(bruteForceOnly, PARTITIONS);
    const failure = saslFailed({ at: 0, ip: "2001:db8:bad::17", pid: 1 });
    // sasl_bruteforce groups failures by address and by IPv6 /64.
    const expected = [
      keyPartition("client_ip", "2001:db8:bad::17", PARTITIONS),
      keyPartition("client_net", textValues("clientNet64", failure)[0] ?? "", PARTITIONS),
    ];
    assert.deepEqual(
      router.partitionsOf(failure),
      [...new Set(expected)].sort((a, b) => a - b),
    );
    assert.deepEqual(
      router.partitionsOf(connect({ at: 0, ip: "198.51.100.1", pid: 1 })),
      [],
      "no rule reads it",
    );
  });

  it("routes nothing for a disabled rule", () => {
    const router = new FactRouter(
      loadRules({ sasl_bruteforce: { enabled: false } }).filter((r) => r.id === "sasl_bruteforce"),
      PARTITIONS,
    );
    assert.deepEqual(router.partitionsOf(saslFailed({ at: 0, ip: "192.0.2.7", pid: 1 })), []);
  });

  it("sends every successful login to every partition, whatever rules read", () => {
    const router = new FactRouter(bruteForceOnly, PARTITIONS);
    const everyPartition = Array.from({ length: PARTITIONS }, (_, q) => q);
    assert.deepEqual(
      router.partitionsOf(login({ at: 0, ip: "192.0.2.7", user: "bob@example.org", pid: 1 })),
      everyPartition,
    );
  });

  it("gives every key one owner, the replica partition ownsKey names, and routes the key's facts to it", () => {
    const router = new FactRouter(rules, PARTITIONS);
    for (let n = 0; n < 500; n++) {
      const ip = `198.51.${n >> 8}.${n & 255}`;
      const owners = Array.from({ length: PARTITIONS }, (_, q) => q).filter((q) =>
        router.ownership(q)("client_ip", ip),
      );
      assert.equal(owners.length, 1, ip);
      const [owner] = owners as [number];
      assert.ok(ownsKey({ index: owner, count: PARTITIONS }, "client_ip", ip));
      assert.ok(router.partitionsOf(saslFailed({ at: 0, ip, pid: 1 })).includes(owner), ip);
    }
  });

  it("keeps a failure naming a real account quiet on whichever partition its address lands", () => {
    // bob logs in from home; a phone with a stale password fails from elsewhere, naming bob. The
    // phone's partition owns neither the home address nor bob: only the broadcast login tells it bob is real.
    const home = "192.0.2.10";
    const elsewhere = (q: number) =>
      keyPartition("client_ip", home, PARTITIONS) !== q &&
      keyPartition("sasl_user", "bob@example.org", PARTITIONS) !== q;
    const phone = Array.from({ length: 254 }, (_, n) => `203.0.113.${n + 1}`).find((ip) =>
      elsewhere(keyPartition("client_ip", ip, PARTITIONS)),
    );
    assert.ok(phone);
    const events = byTime([
      login({ at: -3 * HOUR, ip: home, user: "bob@example.org", pid: 1 }),
      ...Array.from({ length: 6 }, (_, i) =>
        saslFailed({ at: i * 10 * MINUTE, ip: phone, user: "bob@example.org", pid: 10 + i }),
      ),
    ]);
    const firing = (alerts: Alert[]) =>
      alerts.filter((a) => a.rule === "client_auth_failures" && a.state === "firing");
    assert.deepEqual(firing(replay(events).alerts), []);
    assert.deepEqual(firing(runPartitioned(rules, events, 1, PARTITIONS).alerts), []);
    // And the same failures from an address with no known user behind them do fire, on their partition.
    const stranger = events.map((e) =>
      e.kind === "sasl_auth_failed" ? { ...e, saslUsername: "nobody@example.org" } : e,
    );
    assert.equal(firing(runPartitioned(rules, stranger, 1, PARTITIONS).alerts).length, 1);
  });
});
