/**
 * Eviction that cannot be exploited: an attacker who spoofs more addresses than a rule keeps, one
 * failure each, between its own guesses, must not have its count evicted with them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { saslFailed, T0 } from "../rules/fixtures.js";
import { loadRules } from "../rules/index.js";
import { DetectionEngine } from "./engine.js";

const ATTACKER = "203.0.113.66";
/** What the correlation stage's AuthSessions makes of one `authentication failed` line: one guess. */
const ONE_GUESS = { authFailures: 1, authForgiven: 0 };
/** sasl_bruteforce keeps 1,000,000 addresses: the flood is 5% more. */
const FLOOD = 1_050_000;

/** The n-th spoofed IPv4 address, in 10.0.0.0/8. */
const spoofed = (n: number) => `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

describe("eviction under a flood of spoofed addresses", () => {
  it("3 failures, 1,050,000 spoofed addresses, 3 more failures from the same attacker: one alert", () => {
    // sasl_bruteforce alone: the other rules would only make the million events slower.
    const engine = new DetectionEngine({ rules: loadRules({}).filter((r) => r.id === "sasl_bruteforce") });
    const alerts = [];
    for (let i = 0; i < 3; i++)
      alerts.push(
        ...engine.process(saslFailed({ at: i, ip: ATTACKER, pid: 100 + i }), ONE_GUESS, T0 + i * 1000),
      );
    const flood = saslFailed({ at: 10, ip: "", pid: 7 });
    for (let n = 0; n < FLOOD; n++) {
      flood.client.ip = spoofed(n);
      alerts.push(...engine.process(flood, ONE_GUESS, T0 + 10_000));
    }
    const bruteForce = engine.stats().rules.sasl_bruteforce;
    assert.ok(bruteForce && bruteForce.evictions >= FLOOD - 1_000_000, "the flood evicted keys");
    for (let i = 0; i < 3; i++)
      alerts.push(
        ...engine.process(
          saslFailed({ at: 20 + i, ip: ATTACKER, pid: 200 + i }),
          ONE_GUESS,
          T0 + (20 + i) * 1000,
        ),
      );
    const attacker = alerts.filter((a) => a.key.value === ATTACKER);
    assert.deepEqual(
      attacker.map((a) => `${a.rule} ${a.state} ${a.count}`),
      ["sasl_bruteforce firing 5"],
    );
  });
});
