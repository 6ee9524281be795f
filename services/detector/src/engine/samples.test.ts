import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EVENT_LINE_CHARS, lineToEvent } from "../../../../shared/src/pipeline/lines.js";
import { describeEvent } from "./samples.js";

const context = { referenceTime: Date.UTC(2026, 11, 31), fallbackHost: "" };
const eventOf = (line: string) => {
  const outcome = lineToEvent(line, context);
  assert.equal(outcome.type, "event", line);
  return outcome.type === "event" ? outcome.event : assert.fail();
};

describe("an event's line", () => {
  it("is the line after the tag as logged, queue ID included", () => {
    const logged =
      "4Fq7Lk2mR9z1: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <x@y.example>: Relay access denied";
    const event = eventOf(`Feb 23 11:57:43 mx1 postfix/smtpd[1236]: ${logged}`);
    assert.equal(event.line, logged);
    assert.equal(describeEvent(event), `2026-02-23T11:57:43.000Z mx1 postfix/smtpd[1236]: ${logged}`);
  });

  it("carries no credential: seed 002's AUTH PLAIN payload is redacted", () => {
    const event = eventOf(
      "Feb 23 11:57:43 mx1 postfix/smtpd[32451]: Read 45 chars: AUTH PLAIN AGFkbWluQGZpcGljay5jb20Ad2lsb",
    );
    assert.equal(event.line, "Read 45 chars: AUTH PLAIN [redacted]");
    assert.ok(!JSON.stringify(event).includes("AGFkbWlu"));
    assert.ok(!describeEvent(event).includes("AGFkbWlu"));
  });

  it("is cut after redaction, so a cut cannot leave part of a key unrecognised", () => {
    // A TLS session-ticket key is redacted only when 16+ base64 characters long: a cut 10
    // characters into it would leave its start in the clear.
    const prefix = "setting: input attribute value: ";
    const padding = "x".repeat(EVENT_LINE_CHARS - 10 - prefix.length);
    const key = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJAAA=";
    const event = eventOf(`Nov 27 02:46:34 mx postfix/smtpd[10092]: ${padding}${prefix}${key}`);
    assert.equal(event.line, `${padding}${prefix}[redacted]`.slice(0, EVENT_LINE_CHARS));
    assert.ok(!event.line?.includes(key.slice(0, 8)), event.line);
  });
});
