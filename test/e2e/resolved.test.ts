/**
 * The other half of an alert's life: when the attack stops, the rule's quiet period passes and a
 * `resolved` notice with the same fingerprint reaches Slack and the webhook. The quiet period is
 * shortened to two seconds so the test need not wait the default ten minutes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Alert } from "../../shared/src/contracts/alerts.js";
import { fixtureLines, traditionalForward } from "../helpers/fixtures.js";
import { startTestPipeline, type TestPipeline } from "../helpers/pipeline.js";
import { sendTcp } from "../helpers/syslog-client.js";

describe("resolved notices", () => {
  let pipeline: TestPipeline;

  before(async () => {
    pipeline = await startTestPipeline({
      slack: true,
      env: { DETECTOR_RULES: JSON.stringify({ sasl_bruteforce: { quietSeconds: 2 } }) },
    });
  });

  after(async () => {
    await pipeline?.[Symbol.asyncDispose]();
  });

  it("sends a resolved notice once the attacker has been quiet for the rule's quiet period", async () => {
    const { webhook, syslogPort } = pipeline;
    await sendTcp(
      syslogPort,
      fixtureLines("sasl-bruteforce-seed002.log").map((line) => traditionalForward(line)),
      "lf",
    );
    const ofBruteForce = (requests: { body: unknown }[]) =>
      requests.map((r) => r.body as Alert).filter((a) => a.rule === "sasl_bruteforce");
    const hook = await webhook.waitFor(
      "/hook",
      (r) => ofBruteForce(r).some((a) => a.state === "resolved"),
      10_000,
    );
    const [firing, resolved] = ofBruteForce(hook);
    assert.equal(firing?.state, "firing");
    assert.equal(resolved?.state, "resolved");
    assert.equal(resolved?.fingerprint, firing?.fingerprint);
    assert.equal(resolved?.startsAt, firing?.startsAt);
    assert.ok(resolved?.endsAt !== undefined && resolved.endsAt >= resolved.startsAt);

    const slack = await webhook.waitFor(
      "/slack",
      (r) => r.some((m) => /^\[RESOLVED\] sasl_bruteforce/.test((m.body as { text: string }).text)),
      5000,
    );
    assert.equal(slack.filter((m) => /sasl_bruteforce/.test((m.body as { text: string }).text)).length, 2);
  });
});
