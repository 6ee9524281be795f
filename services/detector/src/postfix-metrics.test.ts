import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { MAX_EXTRA_SERVICES } from "./metric-labels.js";
import { createPostfixMetrics, MAX_SERIES, observePostfixEvent } from "./postfix-metrics.js";

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

  it("stays within its series bound under 100,000 hostile values per label, and promtool accepts it", async () => {
    const registry = new Registry();
    const metrics = createPostfixMetrics(registry, { hosts: ["mx-configured"] });
    for (let i = 0; i < 100_000; i++) for (const event of hostile(i)) observePostfixEvent(metrics, event);
    // A real server that starts sending after the flood gets its own label from its first message on.
    for (const event of [...mailFlow("mx-late"), ...mailFlow("mx-late")]) observePostfixEvent(metrics, event);

    const text = await registry.metrics();
    const series = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    assert.ok(series.length <= 600, `${series.length} series`);
    assert.ok(series.length <= MAX_SERIES);
    assert.ok(series.some((line) => line.startsWith('postfix_qmgr_messages_inserted_total{host="mx-late"}')));
    for (const label of [
      "daemon",
      "service",
      "mechanism",
      "method",
      "cipher",
      "protocol",
      "stage",
      "code",
      "action",
    ]) {
      const values = new Set(
        series.flatMap((line) =>
          [...line.matchAll(new RegExp(`[{,]${label}="([^"]*)"`, "g"))].map((m) => m[1]),
        ),
      );
      assert.ok(values.has("other"), `${label} folds into other`);
      const kept = [...values].filter((value) => value?.includes("hostile"));
      // Services beyond the stock ones are labelled first come, up to a cap.
      assert.ok(kept.length <= (label === "service" ? MAX_EXTRA_SERVICES : 0), `${label}: ${kept.join(" ")}`);
    }
    const promtool = spawnSync(process.env.PROMTOOL_BIN ?? "promtool", ["check", "metrics"], {
      input: text,
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(promtool.error, undefined);
    assert.equal(`${promtool.stdout}${promtool.stderr}`.trim(), "");
  });

  it("caps a family's label combinations, however a sender combines known values", async () => {
    const registry = new Registry();
    const metrics = createPostfixMetrics(registry, { hosts: ["mx1"] });
    const stages = ["CONNECT", "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "END-OF-MESSAGE"];
    const codes = ["450", "451", "452", "550", "551", "552", "553", "554"];
    const actions = ["reject", "reject_warning", "discard", "hold", "warn", "info"];
    const categories = ["relay_denied", "unknown_recipient", "rbl", "helo", "sender", "client"] as const;
    for (const stage of stages)
      for (const code of codes)
        for (const action of actions)
          for (const category of categories)
            observePostfixEvent(metrics, {
              ...head("mx1", "smtpd"),
              kind: "reject",
              action,
              stage,
              smtpCode: Number(code),
              reason: "",
              category,
            });
    const rejects = (await registry.metrics())
      .split("\n")
      .filter((line) => line.startsWith("postfix_smtpd_rejects_total{"));
    assert.equal(stages.length * codes.length * actions.length * categories.length, 2304);
    assert.equal(rejects.length, 1001, "1,000 combinations and the one all other");
  });
});

const head = (host: string, daemon: string) =>
  ({ v: 1, ts: "2026-11-03T14:03:01.000Z", host, program: `postfix/${daemon}`, daemon, pid: 1 }) as const;
const client = { host: "unknown", ip: "203.0.113.7" };

/** Events whose every free-text label value is new: `hostile-<i>` in each label. */
function hostile(i: number): PostfixEvent[] {
  const value = `hostile-${i}`;
  const mx = head("mx-configured", "smtpd");
  return [
    { ...head(`spoof-${i}`, "smtpd"), service: value, kind: "connect", client },
    { ...mx, kind: "lost_connection", stage: value.toUpperCase(), client },
    { ...mx, kind: "sasl_auth_failed", mechanism: value.toUpperCase(), reason: "", client },
    { ...mx, kind: "client", saslMethod: value, client },
    {
      ...mx,
      kind: "reject",
      action: value,
      stage: value,
      smtpCode: 100 + (i % 900),
      reason: "",
      category: "other",
    },
    { ...mx, kind: "tls", direction: "in", trust: "Anonymous", peer: client, protocol: value, cipher: value },
    { ...mx, kind: "postscreen", action: value.toUpperCase(), client },
    {
      ...head("mx-configured", value),
      kind: "delivery",
      to: "a@example.org",
      relay: "none",
      delay: 1,
      delays: { beforeQmgr: 0, inQmgr: 0, connSetup: 0, transmission: 1 },
      dsn: `${i}.0.0`,
      status: "sent",
      response: "",
    },
  ];
}

function mailFlow(host: string): PostfixEvent[] {
  const qmgr = { ...head(host, "qmgr"), queueId: "4F1A2" };
  return [
    { ...qmgr, kind: "queued", from: "a@example.org", size: 1000, nrcpt: 1 },
    {
      ...head(host, "smtp"),
      queueId: "4F1A2",
      kind: "delivery",
      to: "b@example.net",
      relay: "none",
      delay: 1,
      dsn: "2.0.0",
      status: "sent",
      response: "",
    },
    { ...qmgr, kind: "removed" },
  ];
}
