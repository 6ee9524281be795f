/**
 * Forged and skewed clocks against the whole pipeline. A line dated 2099 (claiming to come from the
 * real mail server) and mail servers whose clocks run 10, 15, 60 and 120 minutes fast must not stop
 * a brute force from alerting, on the right server or on the fast ones, nor resolve an alert that
 * is firing; and a restart, which re-reads all of those lines, must not send anything new.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { bruteForceLines, syslogFrame } from "../helpers/attack.js";
import { sample, scrape } from "../helpers/metrics.js";
import { startTestPipeline } from "../helpers/pipeline.js";
import { sendTcp } from "../helpers/syslog-client.js";
import type { RecordedRequest } from "../helpers/webhook-server.js";

const MINUTE = 60_000;
/** Each attacker with the mail server it attacks and how far that server's clock is ahead. */
const ATTACKS = [
  { attacker: "198.51.100.1", host: "mx1", aheadMs: 0 },
  { attacker: "198.51.100.10", host: "mx-fast10", aheadMs: 10 * MINUTE },
  { attacker: "198.51.100.15", host: "mx-fast15", aheadMs: 15 * MINUTE },
  { attacker: "198.51.100.60", host: "mx-fast60", aheadMs: 60 * MINUTE },
  { attacker: "198.51.100.120", host: "mx-fast120", aheadMs: 120 * MINUTE },
];
/** Fires before the forged line arrives: it must stay firing (no resolved notice). */
const EARLY_ATTACKER = "192.0.2.99";

const bruteForceAlerts = (requests: readonly RecordedRequest[]) =>
  requests.map((r) => r.body as Alert).filter((alert) => alert.rule === "sasl_bruteforce");

describe("chaos: forged and skewed clocks", { timeout: 90_000 }, () => {
  it("still alerts once per brute force, resolves nothing early, and a restart sends nothing new", async () => {
    await using pipeline = await startTestPipeline({ env: { LOG_LEVEL: process.env.CHAOS_LOG ?? "silent" } });
    const { webhook, syslogPort } = pipeline;
    const hooks = () => webhook.requests.filter((r) => r.path === "/hook");

    await sendTcp(syslogPort, bruteForceLines({ count: 5, attacker: EARLY_ATTACKER }), "lf");
    await webhook.waitFor("/hook", (r) => bruteForceAlerts(r).length === 1, 10_000);

    const forged = [
      syslogFrame(
        Date.parse("2099-01-01T00:00:00Z"),
        "mx1",
        "postfix/smtpd",
        1,
        "connect from unknown[192.0.2.1]",
      ),
      ...ATTACKS.filter((a) => a.aheadMs > 0).map((a) =>
        syslogFrame(Date.now() + a.aheadMs, a.host, "postfix/smtpd", 2, "connect from unknown[192.0.2.2]"),
      ),
    ];
    await sendTcp(syslogPort, forged, "lf");

    // One failure per attacker a little over a tick apart, so the detector's clock ticks in between.
    for (let round = 0; round < 5; round++) {
      const lines = ATTACKS.flatMap((a) =>
        bruteForceLines({
          count: 1,
          attacker: a.attacker,
          host: a.host,
          startMs: Date.now() + a.aheadMs,
          firstPid: 1000 + round,
        }),
      );
      await sendTcp(syslogPort, lines, "lf");
      await sleep(1100);
    }
    const expected = [EARLY_ATTACKER, ...ATTACKS.map((a) => a.attacker)].sort();
    const firingKeys = (requests: readonly RecordedRequest[]) =>
      bruteForceAlerts(requests)
        .filter((a) => a.state === "firing")
        .map((a) => a.key.value)
        .sort();
    await webhook
      .waitFor("/hook", (r) => firingKeys(r).length >= expected.length, 5000)
      .catch(() => undefined);
    assert.deepEqual(firingKeys(hooks()), expected);
    assert.deepEqual(
      bruteForceAlerts(hooks()).filter((a) => a.state === "resolved"),
      [],
      "nothing resolves: every attacker was active within the quiet period",
    );
    const metrics = await scrape(pipeline.services.metricsPort);
    assert.ok(sample(metrics, "postwatch_detector_events_clamped_total") >= 5 + 4 * 5);

    const delivered = hooks().length;
    await pipeline.restart();
    await sleep(3000);
    assert.deepEqual(
      bruteForceAlerts(hooks().slice(delivered)),
      [],
      "a restart re-reads the forged lines and sends nothing new",
    );
  });
});
