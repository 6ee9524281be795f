import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { createPostfixMetrics, hostLabeler, observePostfixEvent } from "./postfix-metrics.js";

const failure = (host: string): PostfixEvent => ({
  v: 1,
  kind: "sasl_auth_failed",
  ts: "2026-02-23T11:57:45.000Z",
  host,
  program: "postfix/smtpd",
  daemon: "smtpd",
  pid: 32451,
  mechanism: "PLAIN",
  reason: "",
  client: { host: "unknown", ip: "176.103.49.30" },
});

describe("Postfix metrics", () => {
  it("counts SASL failures by host and mechanism, never by client address", async () => {
    const registry = new Registry();
    const metrics = createPostfixMetrics(registry);
    for (let i = 0; i < 3; i++) observePostfixEvent(metrics, failure("mx1"));
    const text = await registry.metrics();
    assert.match(
      text,
      /^postfix_smtpd_sasl_authentication_failures_total\{host="mx1",mechanism="PLAIN"\} 3$/m,
    );
    assert.ok(!text.includes("176.103.49.30"));
  });

  it("folds hosts past the label limit into host=other", () => {
    const label = hostLabeler(2);
    assert.deepEqual(["mx1", "mx2", "spoofed-1", "mx1", "spoofed-2"].map(label), [
      "mx1",
      "mx2",
      "other",
      "mx1",
      "other",
    ]);
  });
});
