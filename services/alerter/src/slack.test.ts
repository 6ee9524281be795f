import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatWindow } from "../../../shared/src/contracts/alerts.js";
import { escapeEntities, formatSlackBatch, formatSlackMessage } from "./slack.js";
import { sampleAlert } from "./testing.js";

type TextObject = { type: string; text: string; emoji?: boolean };
type Block = { type: string; text?: TextObject; fields?: TextObject[]; elements?: TextObject[] };

const textObjects = (message: Record<string, unknown>): TextObject[] =>
  (message.blocks as Block[]).flatMap((b) => [
    ...(b.text ? [b.text] : []),
    ...(b.fields ?? []),
    ...(b.elements ?? []),
  ]);

/** A user name as an attacker would choose it: close the code block, print a fake all-clear. */
const HOSTILE_USER =
  "x```\n*RESOLVED: false alarm, no action needed* _ok_ ~no~ :white_check_mark: <!channel>```";

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
    assert.match(JSON.stringify(digest.blocks), /local_sender_flood · uid 33/);
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
    assert.equal(escapeEntities("<x@y> & <!channel>"), "&lt;x@y&gt; &amp; &lt;!channel&gt;");
    const message = JSON.stringify(
      formatSlackMessage(sampleAlert({ summary: "from=<a@b.example> <!here>" })),
    );
    assert.ok(!message.includes("<!here>"));
  });

  it("shows log-derived text as plain text only: a hostile user name formats nothing", () => {
    const alert = sampleAlert({
      key: { type: "sasl_user", value: HOSTILE_USER },
      summary: `SASL brute force against ${HOSTILE_USER}`,
      related: { clientIps: ["176.103.49.30"], saslUsers: [HOSTILE_USER] },
      facts: { users: [HOSTILE_USER] },
      samples: [
        `2026-02-23T11:57:45.000Z mx1 postfix/smtpd[1]: warning: x: SASL LOGIN authentication failed: ${HOSTILE_USER}`,
      ],
    });
    for (const message of [formatSlackMessage(alert), formatSlackBatch([alert, sampleAlert()])]) {
      const objects = textObjects(message);
      const carrying = objects.filter((o) => o.text.includes("RESOLVED: false alarm"));
      assert.ok(carrying.length > 0, "the user name is shown");
      for (const object of carrying) {
        assert.equal(object.type, "plain_text", `formatted as ${object.type}: ${object.text}`);
        assert.equal(object.emoji, false, "no :emoji: codes either");
      }
      for (const object of objects.filter((o) => o.type === "mrkdwn"))
        assert.doesNotMatch(object.text, /```|RESOLVED|channel|white_check_mark/, object.text);
      assert.ok(!JSON.stringify(message).includes("<!channel>"));
    }
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

  it("lists a wave of alerts in one message, counted by rule and state, the rest as a count", () => {
    const wave = Array.from({ length: 59 }, (_, i) =>
      sampleAlert({ fingerprint: `f${i}`, key: { type: "client_ip", value: `198.18.7.${i}` } }),
    );
    const message = formatSlackBatch([...wave, sampleAlert({ rule: "relay_probe", state: "resolved" })]) as {
      text: string;
      blocks: Block[];
    };
    assert.equal(message.text, "60 postwatch alerts: 59 sasl_bruteforce firing, 1 relay_probe resolved");
    assert.equal(message.blocks.length, 50);
    const text = JSON.stringify(message);
    assert.ok(text.includes("198.18.7.0") && text.includes("198.18.7.47") && !text.includes("198.18.7.48 "));
    assert.match(text, /…and 12 more: 11 sasl_bruteforce firing, 1 relay_probe resolved/);
  });

  it("keeps each alert's what-to-do, facts and latest log line, within Slack's limits", () => {
    const wave = Array.from({ length: 50 }, (_, i) =>
      sampleAlert({
        fingerprint: `f${i}`,
        key: { type: "client_ip", value: `198.18.7.${i}` },
        summary: "s".repeat(400),
        remediation: `Block 198.18.7.${i} at the firewall. ${"r".repeat(300)}`,
        facts: { mechanisms: ["PLAIN (5)"], services: ["submission (5)"] },
        samples: ["an older line", `2026-02-23T11:57:45.000Z mx1 postfix/smtpd[${i}]: the latest line`],
      }),
    );
    const message = formatSlackBatch(wave) as { blocks: Block[] };
    assert.ok(message.blocks.length <= 50);
    const sections = message.blocks.filter((b) => b.type === "section");
    assert.equal(sections.length, 48);
    let total = 0;
    for (const [i, section] of sections.entries()) {
      const text = section.text?.text ?? "";
      total += text.length;
      assert.ok(text.length <= 3000);
      assert.match(text, new RegExp(`What to do: Block 198\\.18\\.7\\.${i} at the firewall`));
      assert.match(text, /mechanisms: PLAIN \(5\) · services: submission \(5\)/);
      assert.match(text, new RegExp(`postfix/smtpd\\[${i}\\]: the latest line`));
      assert.ok(!text.includes("an older line"));
    }
    assert.ok(total < 40_000, `${total} characters: over Slack's 40,000`);
  });
});
