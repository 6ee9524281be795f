import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeControls, neutraliseAlert } from "./neutral-text.js";
import { formatSlackMessage } from "./slack.js";
import { sampleAlert } from "./testing.js";

/** A terminal title, a bell, an OSC-8 link, a C1 CSI, a right-to-left override, a line separator. */
const HOSTILE =
  "admin\u001b]0;owned\u0007\u001b[31mred\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\\u009b2J\u202etxt.exe\u2028next\u0000";

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const STEERING = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** Every string in a JSON value. */
const strings = (value: unknown): string[] =>
  typeof value === "string"
    ? [value]
    : typeof value === "object" && value !== null
      ? Object.entries(value).flatMap(([key, inner]) => [key, ...strings(inner)])
      : [];

describe("neutralised alert text", () => {
  it("writes every steering character as a visible escape", () => {
    assert.equal(
      escapeControls(HOSTILE),
      "admin\\x1b]0;owned\\x07\\x1b[31mred\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\\\x9b2J\\u202etxt.exe\\u2028next\\x00",
    );
    assert.equal(escapeControls("plain ümlaut 日本 mail@example.org"), "plain ümlaut 日本 mail@example.org");
  });

  it("leaves no steering character anywhere in an alert, for Slack and the webhook alike", () => {
    const alert = neutraliseAlert(
      sampleAlert({
        key: { type: "sasl_user", value: HOSTILE },
        summary: `SASL brute force against ${HOSTILE}`,
        remediation: "Reset the password.\nThen check the logs.",
        hosts: [HOSTILE],
        related: { clientIps: [HOSTILE], saslUsers: [HOSTILE] },
        facts: { users: [HOSTILE], note: HOSTILE, count: 3 },
        samples: [`mx1 postfix/smtpd[1]: ${HOSTILE}`],
      }),
    );
    const { remediation, ...rest } = alert;
    for (const text of strings(rest)) assert.doesNotMatch(text, STEERING, text);
    // Slack's message breaks its own lines (one log line a line); nothing else steers.
    for (const text of strings(formatSlackMessage(alert)))
      assert.doesNotMatch(text.replaceAll("\n", " "), STEERING, text);
    assert.equal(remediation, "Reset the password.\nThen check the logs.", "the rule's own line breaks stay");
    assert.equal(alert.facts.count, 3);
    assert.match(alert.key.value, /\\x1b\]8;;https:\/\/evil\.example/);
  });
});
