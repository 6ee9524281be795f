import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatWindow } from "../../../shared/src/contracts/alerts.js";
import { escapeMrkdwn, formatSlackBatch, formatSlackMessage } from "./slack.js";
import { sampleAlert } from "./testing.js";

type Block = { type: string; text?: { type: string; text: string }; fields?: { text: string }[] };

describe("Slack message", () => {
  it("puts the rule and key in the notification text and a header block", () => {
    const message = formatSlackMessage(sampleAlert()) as { text: string; blocks: Block[] };
    assert.match(message.text, /^\[WARNING\] sasl_bruteforce: 176\.103\.49\.30: SASL brute force/);
    assert.equal(message.blocks[0]?.type, "header");
    assert.match(message.blocks[0]?.text?.text ?? "", /sasl_bruteforce: 176\.103\.49\.30/);
    const fields = message.blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    assert.ok(fields.some((f) => f.includes("5 (threshold 5 in 10m)")));
    assert.ok(fields.some((f) => f.includes("admin@fipick.com")));
    assert.ok(JSON.stringify(message).includes("What to do"));
  });

  it("says a local uid key is a uid", () => {
    const alert = sampleAlert({ rule: "local_sender_flood", key: { type: "local_uid", value: "33" } });
    assert.match(String(formatSlackMessage(alert).text), /^\[WARNING\] local_sender_flood: uid 33: /);
    const digest = formatSlackBatch([alert, sampleAlert()]) as { blocks: Block[] };
    assert.match(JSON.stringify(digest.blocks), /\*local_sender_flood\* `uid 33`/);
  });

  it("marks resolved alerts and leaves the remediation out", () => {
    const message = formatSlackMessage(
      sampleAlert({ state: "resolved", endsAt: "2026-02-23T12:20:00.000Z" }),
    );
    assert.match(String(message.text), /^\[RESOLVED\]/);
    assert.ok(!JSON.stringify(message).includes("What to do"));
    assert.ok(JSON.stringify(message).includes("2026-02-23T12:20:00.000Z"));
  });

  it("escapes Slack control characters from log-derived text", () => {
    assert.equal(escapeMrkdwn("<x@y> & <!channel>"), "&lt;x@y&gt; &amp; &lt;!channel&gt;");
    const message = JSON.stringify(
      formatSlackMessage(sampleAlert({ summary: "from=<a@b.example> <!here>" })),
    );
    assert.ok(!message.includes("<!here>"));
  });

  it("stays within Slack's block limits for huge alerts", () => {
    const many = Array.from({ length: 500 }, (_, i) => `198.51.100.${i % 256}-${i}`);
    const message = formatSlackMessage(
      sampleAlert({
        summary: "x".repeat(5000),
        related: { clientIps: many, saslUsers: many },
        samples: many,
      }),
    ) as { blocks: Block[] };
    const header = message.blocks[0]?.text?.text ?? "";
    assert.ok(header.length <= 150);
    for (const block of message.blocks) {
      if (block.text) assert.ok(block.text.text.length <= 3000);
      if (block.fields) {
        assert.ok(block.fields.length <= 10);
        for (const field of block.fields) assert.ok(field.text.length <= 2000);
      }
    }
  });

  it("writes windows in the largest whole unit", () => {
    assert.deepEqual([600, 3600, 86_400, 90].map(formatWindow), ["10m", "1h", "1d", "90s"]);
  });
});

describe("Slack digest for a batch", () => {
  it("renders a batch of one exactly as a single alert", () => {
    assert.deepEqual(formatSlackBatch([sampleAlert()]), formatSlackMessage(sampleAlert()));
  });

  it("lists a wave of alerts in one message, counted by rule and state", () => {
    const wave = Array.from({ length: 45 }, (_, i) =>
      sampleAlert({ fingerprint: `f${i}`, key: { type: "client_ip", value: `198.18.7.${i}` } }),
    );
    const message = formatSlackBatch([...wave, sampleAlert({ rule: "relay_probe", state: "resolved" })]) as {
      text: string;
      blocks: Block[];
    };
    assert.equal(message.text, "46 postwatch alerts: 45 sasl_bruteforce firing, 1 relay_probe resolved");
    assert.ok(message.blocks.length <= 50);
    const text = JSON.stringify(message);
    assert.ok(text.includes("198.18.7.0") && text.includes("198.18.7.39"));
    assert.ok(text.includes("and 6 more"));
  });
});
