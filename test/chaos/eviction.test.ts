/**
 * The eviction flood against the whole pipeline: 3 failures from an attacker, then more spoofed
 * addresses (one failure each) than sasl_bruteforce keeps, then 3 more failures from the attacker.
 * The rule's key limit is lowered to 5,000 so the flood (5% over it, as 1,050,000 is over the
 * default 1,000,000) takes seconds; the engine test runs the full-size case.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { bruteForceLines } from "../helpers/attack.js";
import { sample, waitForMetrics } from "../helpers/metrics.js";
import { startTestPipeline } from "../helpers/pipeline.js";
import { sendTcp } from "../helpers/syslog-client.js";

const MAX_KEYS = 5000;
const FLOOD = 5250;
const ATTACKER = "203.0.113.66";

describe("chaos: eviction flood", { timeout: 90_000 }, () => {
  it("still alerts on the attacker whose guesses straddle the flood", async () => {
    await using pipeline = await startTestPipeline({
      env: { DETECTOR_RULES: JSON.stringify({ sasl_bruteforce: { maxKeys: MAX_KEYS } }) },
    });
    const { webhook, syslogPort, services } = pipeline;
    const startMs = Date.now();
    await sendTcp(syslogPort, bruteForceLines({ count: 3, attacker: ATTACKER, startMs }), "lf");
    const flood = Array.from({ length: FLOOD }, (_, n) =>
      bruteForceLines({
        count: 1,
        attacker: `10.0.${n >> 8}.${n & 255}`,
        startMs: startMs + 7000,
        firstPid: 40_000 + n,
      }),
    ).flat();
    await sendTcp(syslogPort, flood, "lf");
    await waitForMetrics(
      services.metricsPort,
      (text) =>
        sample(text, "postwatch_detector_key_evictions_total", { rule: "sasl_bruteforce" }) >=
        FLOOD + 1 - MAX_KEYS,
      30_000,
      "the flood evicting sasl_bruteforce keys",
    );
    await sendTcp(
      syslogPort,
      bruteForceLines({ count: 3, attacker: ATTACKER, startMs: startMs + 8000, firstPid: 50_000 }),
      "lf",
    );
    const attackerAlerts = (requests: { body: unknown }[]) =>
      requests
        .map((r) => r.body as Alert)
        .filter((a) => a.rule === "sasl_bruteforce" && a.key.value === ATTACKER);
    const requests = await webhook.waitFor("/hook", (r) => attackerAlerts(r).length > 0, 10_000);
    assert.deepEqual(
      attackerAlerts(requests).map((a) => `${a.state} ${a.count}`),
      ["firing 5"],
    );
  });
});
